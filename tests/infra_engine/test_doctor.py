"""`pipeline doctor`: pure judgements, and the whole command against the emulator."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from pipeline.aws.accounts import Accounts
from pipeline.aws.session import SessionFactory
from pipeline.cli import main
from pipeline.config.load import load_config
from pipeline.core.bootstrap import LiveFunction
from pipeline.core.doctor import bucket_region_check, function_check, stack_check
from pipeline.engine.doctor import Doctor
from pipeline.errors import PipelineError
from pipeline.infra import naming
from pipeline.infra.stub import stub_sha256

W = "dev 111111111111/us-east-1"
FIX = "pipeline bootstrap --env dev"


def live(runtime: str, handler: str, code: bytes = b"zip", tags: dict[str, str] | None = None,
         arch: str = "x86_64") -> LiveFunction:
    sha = base64.b64encode(hashlib.sha256(code).digest()).decode()
    return LiveFunction("greeter-dev", "arn", runtime, handler, sha, 128, arch, tags or {})


# -- pure --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "version", "ok", "words"), [
    (None, None, False, "not found: this account is not bootstrapped"),
    ("CREATE_COMPLETE", "v1", True, "CREATE_COMPLETE, version v1"),
    ("UPDATE_ROLLBACK_COMPLETE", "v1", True, "version v1"),
    ("UPDATE_COMPLETE", "v0", False, "out of date: version v0 deployed, v1 rendered"),
    ("UPDATE_COMPLETE", None, False, "out of date: version (none) deployed"),
    ("ROLLBACK_COMPLETE", "v1", False, "ROLLBACK_COMPLETE (stuck-recreate)"),
    ("UPDATE_ROLLBACK_FAILED", "v1", False, "stuck-continue-rollback"),
    ("UPDATE_IN_PROGRESS", "v1", False, "is UPDATE_IN_PROGRESS"),
    ("DELETE_FAILED", "v1", False, "is DELETE_FAILED"),
])
def test_stack_check(status, version, ok, words):
    check = stack_check("target stack", W, "greeter-dev-target", status, version, "v1", FIX)
    assert check.failed is not ok
    assert words in check.detail
    if not ok and status != "UPDATE_IN_PROGRESS" and status != "DELETE_FAILED":
        assert FIX in check.hint


def test_bucket_region_must_equal_function_region():
    assert not bucket_region_check(W, "b", "us-east-1", "us-east-1").failed
    bad = bucket_region_check(W, "b", "us-east-1", "eu-west-1")
    assert bad.failed and "Lambda reads code only from its own region" in bad.detail


def test_function_runtime_expectations():
    assert function_check(W, "greeter-dev", None, "x86_64", FIX).detail == "function greeter-dev not found"
    stub = live("python3.12", "index.handler", tags={"pipeline:artifact-sha256": stub_sha256()})
    assert not function_check(W, "greeter-dev", stub, "x86_64", FIX).failed
    go = live("provided.al2023", "bootstrap", tags={"pipeline:artifact-sha256": "ab" * 32})
    check = function_check(W, "greeter-dev", go, "x86_64", FIX)
    assert not check.failed and "provided.al2023" in check.detail
    reverted = live("python3.12", "index.handler", tags={"pipeline:artifact-sha256": "ab" * 32})
    check = function_check(W, "greeter-dev", reverted, "x86_64", FIX)
    assert check.failed and "runtime was reverted" in check.detail
    assert function_check(W, "greeter-dev", live("nodejs20.x", "x"), "x86_64", FIX).failed
    assert function_check(W, "greeter-dev", live("provided.al2023", "main"), "x86_64", FIX).failed
    assert "arm64" in function_check(W, "greeter-dev", go, "arm64", FIX).detail


# -- against the emulator ----------------------------------------------------------------------

def doctor_json(envdir: Path, capsys, env: str = "dev") -> tuple[int, dict]:
    capsys.readouterr()
    code = main(["--config-dir", str(envdir), "--output", "json", "doctor", "--env", env])
    return code, json.loads(capsys.readouterr().out)


def by_name(doc: dict) -> dict[str, dict]:
    return {c["check"]: c for c in doc["checks"]}


@pytest.mark.emulator
def test_env_without_bootstrap_stack_says_so(aws, envdir, capsys):
    assert main(["--config-dir", str(envdir), "bootstrap", "--tooling"]) == 0
    code, doc = doctor_json(envdir, capsys)
    assert code == 1 and doc["ok"] is False
    checks = by_name(doc)
    assert checks["tooling stack"]["status"] == "pass"
    assert checks["target stack"]["status"] == "fail"
    assert "greeter-dev-target not found: this account is not bootstrapped" in checks["target stack"]["detail"]
    assert checks["target stack"]["hint"] == "run pipeline bootstrap --env dev"
    assert checks["function"]["status"] == "fail"
    assert checks["artifact readable"]["status"] == "fail"  # the stub is staged by the env's bootstrap


@pytest.mark.emulator
def test_healthy_env_then_out_of_date_then_current_again(aws, envdir, capsys):
    assert main(["--config-dir", str(envdir), "bootstrap", "--tooling"]) == 0
    assert main(["--config-dir", str(envdir), "bootstrap", "--env", "dev"]) == 0
    code, doc = doctor_json(envdir, capsys)
    assert code == 0, doc
    assert {c["status"] for c in doc["checks"]} == {"pass"}
    assert set(by_name(doc)) == {"credentials", "tooling role", "tooling stack", "artifact bucket", "bucket region",
                                 "deploy role", "target stack", "function stack", "function", "artifact readable"}
    capsys.readouterr()
    assert main(["--config-dir", str(envdir), "doctor", "--env", "dev"]) == 0
    assert "all checks passed" in capsys.readouterr().out

    dev = envdir / "dev.yml"
    dev.write_text(dev.read_text().replace("function:\n", "function:\n  timeout: 20\n"))
    code, doc = doctor_json(envdir, capsys)
    assert code == 1
    fn = by_name(doc)["function stack"]
    assert fn["status"] == "fail" and "out of date" in fn["detail"]
    assert fn["hint"] == "run pipeline bootstrap --env dev"
    assert by_name(doc)["target stack"]["status"] == "pass"

    assert main(["--config-dir", str(envdir), "bootstrap", "--env", "dev"]) == 0
    code, doc = doctor_json(envdir, capsys)
    assert code == 0, [c for c in doc["checks"] if c["status"] != "pass"]


@pytest.mark.emulator
def test_a_target_region_without_its_replica_bucket_fails_until_bootstrap_makes_one(aws, envdir, capsys):
    assert main(["--config-dir", str(envdir), "bootstrap", "--tooling"]) == 0
    (envdir / "dev.yml").write_text((envdir / "dev.yml").read_text() + "region: eu-west-1\n")
    code, doc = doctor_json(envdir, capsys)
    assert code == 1
    check = by_name(doc)["bucket region"]
    assert check["status"] == "fail" and "no artifact bucket in eu-west-1" in check["detail"]
    assert "bootstrap --tooling" in check["hint"]
    # the tooling bootstrap adds the region's bucket; the env's bootstrap stages the stub there too
    assert main(["--config-dir", str(envdir), "bootstrap", "--tooling"]) == 0
    assert main(["--config-dir", str(envdir), "bootstrap", "--env", "dev"]) == 0
    code, doc = doctor_json(envdir, capsys)
    assert code == 0, [c for c in doc["checks"] if c["status"] != "pass"]
    checks = by_name(doc)
    assert "-eu-west-1 in eu-west-1" in checks["bucket region"]["detail"]
    assert "-eu-west-1" in checks["artifact readable"]["detail"]


@pytest.mark.emulator
def test_unassumable_deploy_role_skips_what_depends_on_it(aws, envdir, monkeypatch):
    config = load_config(envdir)
    factory = SessionFactory(region=config.region)
    accounts = Accounts(factory, config)

    def denied(env, target=None):
        raise PipelineError("assume role arn:aws:iam::111111111111:role/pipeline-deploy: AccessDenied: not trusted")

    monkeypatch.setattr(accounts, "target", denied)
    checks = {c.name: c for c in Doctor(config, factory, accounts).run(config.env("dev"))}
    assert checks["deploy role"].failed and "AccessDenied" in checks["deploy role"].detail
    assert "pipeline bootstrap --env dev" in checks["deploy role"].hint
    assert {checks[n].status for n in ("target stack", "function stack", "function", "artifact readable")} == {"skip"}


@pytest.mark.emulator
def test_promoted_function_is_checked_against_its_artifact(aws, envdir, capsys):
    assert main(["--config-dir", str(envdir), "bootstrap", "--tooling"]) == 0
    assert main(["--config-dir", str(envdir), "bootstrap", "--env", "dev"]) == 0
    config = load_config(envdir)
    accounts = Accounts(SessionFactory(region=config.region), config)
    code = b"not really go"
    sha = hashlib.sha256(code).hexdigest()
    lam = accounts.target(config.env("dev")).client("lambda")
    lam.update_function_configuration(FunctionName="greeter-dev", Runtime="provided.al2023", Handler="bootstrap")
    lam.update_function_code(FunctionName="greeter-dev", ZipFile=code)
    _, doc = doctor_json(envdir, capsys)
    checks = by_name(doc)
    assert checks["function"]["status"] == "pass" and sha[:12] in checks["function"]["detail"]
    assert checks["artifact readable"]["status"] == "fail"  # its artifact was never staged
    assert "pipeline stage" in checks["artifact readable"]["hint"]
    accounts.tooling().client("s3").put_object(Bucket=config.artifact_bucket, Key=naming.artifact_key(config, sha),
                                               Body=code)
    code_, doc = doctor_json(envdir, capsys)
    assert code_ == 0 and by_name(doc)["artifact readable"]["status"] == "pass"


def test_unknown_env_is_exit_2(envdir, no_real_aws, capsys):
    assert main(["--config-dir", str(envdir), "doctor", "--env", "qa"]) == 2
    assert "unknown environment 'qa'" in capsys.readouterr().err
