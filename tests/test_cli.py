"""The command-line contract: exit codes, one-line errors, JSON output, the emulator commands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pipeline.cli import main

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable


def _run(*args: str, cwd: Path = REPO, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    merged = {**os.environ, **(env or {})}
    return subprocess.run([PY, "-m", "pipeline", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={k: v for k, v in merged.items() if v is not None})


def test_help_and_validate_do_not_import_boto3():
    probe = ("import sys; from pipeline.cli import main; code = main(sys.argv[1:]); "
             "heavy = [m for m in ('boto3', 'botocore', 'moto') if m in sys.modules]; "
             "print('HEAVY', heavy); raise SystemExit(code)")
    for args in (["validate"], ["validate", "--env", "prod"]):
        out = subprocess.run([PY, "-c", probe, *args], cwd=REPO, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert "HEAVY []" in out.stdout
    out = subprocess.run([PY, "-c", probe, "--help"], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0 and "HEAVY" not in out.stdout  # argparse exits before; check modules differently
    out = subprocess.run([PY, "-c", "import sys\nfrom pipeline.cli import build_parser\nbuild_parser()\n"
                          "print(sorted(m for m in ('boto3','botocore','moto','pydantic') if m in sys.modules))"],
                         cwd=REPO, capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_bad_usage_is_exit_2_with_one_line():
    result = _run("promote-everything")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "unknown command 'promote-everything'" in result.stderr
    result = _run("--output", "yaml", "validate")
    assert result.returncode == 2 and "invalid choice: 'yaml'" in result.stderr


def test_no_command_prints_help_and_exits_2():
    result = _run()
    assert result.returncode == 2 and "COMMAND" in result.stdout


def test_unknown_env_is_exit_2_with_hint(capsys):
    assert main(["validate", "--env", "prd"]) == 2
    assert capsys.readouterr().err == "pipeline: error: unknown environment 'prd' (did you mean 'prod'?)\n"


def test_json_output_is_one_document(capsys):
    assert main(["--output", "json", "validate"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["command"] == "validate" and doc["ok"] is True
    assert [e["name"] for e in doc["environments"]] == ["dev", "test", "prod"]


def test_json_errors_are_documents_too(envdir, capsys):
    (envdir / "dev.yml").write_text("account: 111111111111\n")
    assert main(["--output", "json", "validate"]) == 2
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["ok"] is False and doc["exit_code"] == 2
    assert doc["error"].startswith("environments/dev.yml:1: account: must be a 12-digit string")
    assert captured.err.count("\n") == 1


def test_traceback_only_with_verbose(envdir, capsys, monkeypatch):
    import pipeline.commands.validate as validate

    def boom(_args):
        raise RuntimeError("kaput")

    monkeypatch.setattr(validate, "run", boom)
    assert main(["validate"]) == 1
    assert capsys.readouterr().err == "pipeline: error: unexpected error: RuntimeError: kaput\n"
    assert main(["-v", "validate"]) == 1
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_local_accounts_on_a_fresh_emulator_is_refused_as_on_aws():
    """--local starts an empty organization: no stack made the promoter yet, so assuming it is AccessDenied (IAM
    is enforced), with the hint to bootstrap the tooling account first."""
    result = _run("--local", "--output", "json", "accounts",
                  env={"AWS_ENDPOINT_URL": None, "USER": "dora", "AWS_ACCESS_KEY_ID": None, "AWS_PROFILE": None,
                       "PIPELINE_EMULATOR_IAM": "on"})
    assert result.returncode == 1, result.stderr
    assert "pipeline: --local: a fresh, empty emulator for this command only" in result.stderr  # said each time
    doc = json.loads(result.stdout)
    assert "User: arn:aws:iam::123456789012:user/admin is not authorized to perform: sts:AssumeRole on resource: " \
           "arn:aws:iam::444444444444:role/pipeline-promoter" in doc["error"]
    assert "run `pipeline bootstrap --tooling` first" in doc["error"]


def test_account_guard_exit_3_through_the_cli(aws, envdir, capsys):
    # No tooling role: the base credentials (moto's 123456789012) must then be the tooling account.
    text = (envdir / "pipeline.yml").read_text().replace("  role: pipeline-promoter", "")
    (envdir / "pipeline.yml").write_text(text)
    assert main(["accounts"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("pipeline: error: account guard: credentials act in account 123456789012")
    assert "names 444444444444" in err


def test_local_up_prints_exports_and_serves(tmp_path):
    proc = subprocess.Popen([PY, "-m", "pipeline", "local", "up"], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any("pipeline bootstrap --all" in ln for ln in lines):
            lines.append(proc.stdout.readline().strip())
        exports = dict(ln.removeprefix("export ").split("=", 1) for ln in lines if ln.startswith("export "))
        assert exports["AWS_ENDPOINT_URL"].startswith("https://127.0.0.1:")
        assert Path(exports["AWS_CA_BUNDLE"]).read_text().startswith("-----BEGIN CERTIFICATE-----")
        # the keys handed out are the tooling account's operator's, not an admin's: bootstrap is refused
        assert exports["AWS_ACCESS_KEY_ID"] != "testing"
        other = _run("bootstrap", "--tooling", "--dry-run", env={**exports, "AWS_PROFILE": None})
        assert other.returncode == 1, other.stderr
        assert "arn:aws:iam::444444444444:user/operator is not authorized to perform" in other.stderr
        # another process uses it through the standard variables only (TLS verified with the exported CA),
        # with the admin keys the comment line names for bootstrap
        admin_line = next(ln for ln in lines if "pipeline bootstrap --all" in ln)
        admin = dict(kv.split("=", 1) for kv in admin_line.lstrip("# ").split() if "=" in kv)
        other = _run("bootstrap", "--tooling", "--dry-run", env={**exports, **admin, "AWS_PROFILE": None})
        assert other.returncode == 0, other.stderr
        assert "greeter-tooling" in other.stdout and "would create" in other.stdout
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert proc.returncode == 0


def test_an_unexpected_aws_error_is_described_by_code_and_message():
    from botocore.exceptions import ClientError

    from pipeline.cli import _describe_unexpected

    exc = ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "GetFunction")
    assert _describe_unexpected(exc) == "AWS error in GetFunction: Throttling: Rate exceeded"
    assert _describe_unexpected(KeyError("x")) == "unexpected error: KeyError: 'x'"


def test_an_unreachable_endpoint_names_aws_endpoint_url_and_local_up(envdir, no_real_aws, monkeypatch, capsys):
    from pipeline.aws import retry
    from pipeline.aws import session as session_module

    monkeypatch.setattr(session_module, "RetryPolicy", lambda: retry.RetryPolicy(attempts=2, base_delay=0.0,
                                                                                  max_delay=0.0))
    assert main(["status"]) == 1
    err = capsys.readouterr().err
    assert err == ("pipeline: error: cannot reach AWS at http://127.0.0.1:9/: nothing answers at "
                   "AWS_ENDPOINT_URL=http://127.0.0.1:9; if that was a `pipeline local up`, start it again and paste "
                   "its export lines (or use --local), or unset AWS_ENDPOINT_URL to use real AWS\n")


def test_connection_errors_without_an_endpoint_variable_and_missing_credentials_name_the_next_step():
    from botocore.exceptions import EndpointConnectionError

    from pipeline.aws.errors import NO_CREDENTIALS, describe_connection

    exc = EndpointConnectionError(endpoint_url="https://sts.us-east-1.amazonaws.com/")
    assert describe_connection(exc, {}) == (
        "cannot reach AWS at https://sts.us-east-1.amazonaws.com/: check the network, a proxy (HTTPS_PROXY) and the "
        "region; for the embedded emulator use --local or `pipeline local up`")
    assert describe_connection(KeyError("x"), {}) is None
    assert "--local" in NO_CREDENTIALS and "pipeline local up" in NO_CREDENTIALS


def test_missing_credentials_point_at_the_emulator_too(envdir, monkeypatch, tmp_path, capsys):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert main(["status"]) == 2
    err = capsys.readouterr().err
    assert "(for the embedded emulator: --local, or `pipeline local up` and its export lines)" in err
