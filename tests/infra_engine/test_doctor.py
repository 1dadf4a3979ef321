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
    # the target stack makes the deploy role: without it, the role cannot be assumed (AWS says AccessDenied)
    assert checks["deploy role"]["status"] == "fail", checks["deploy role"]
    assert "AccessDenied" in checks["deploy role"]["detail"]
    assert {checks[name]["status"] for name in ("target stack", "function stack", "function")} == {"skip"}


@pytest.mark.emulator
def test_healthy_env_then_out_of_date_then_current_again(aws, envdir, capsys):
    assert main(["--config-dir", str(envdir), "bootstrap", "--tooling"]) == 0
    assert main(["--config-dir", str(envdir), "bootstrap", "--env", "dev"]) == 0
    code, doc = doctor_json(envdir, capsys)
    assert code == 0, doc
    assert {c["status"] for c in doc["checks"]} == {"pass"}
    assert set(by_name(doc)) == {"credentials", "tooling role", "tooling stack", "artifact bucket", "bucket region",
                                 "deploy role", "target stack", "function stack", "function", "artifact readable",
                                 "lock", "live alias"}
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


# -- every fix line runs as printed ------------------------------------------------------------

# what each placeholder in a hint stands for when doctor prints it for env dev
SAMPLES = {"fix": "pipeline bootstrap --env dev", "env.name": "dev", "env.deploy_role": "pipeline-deploy",
           "tagged[:12]": "ab" * 6, "name": "greeter-dev"}


def _hint_texts(module) -> list[str]:
    """Every string literal of `module` (f-strings with their placeholders filled from SAMPLES), skip aside."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(module))
    skip = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    skip |= {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
    texts = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            texts.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                if isinstance(value, ast.Constant):
                    parts.append(str(value.value))
                else:
                    parts.append(SAMPLES.get(ast.unparse(value.value), "X"))  # X: not part of a command line
            texts.append("".join(parts))
    return texts


def _parses(command: str) -> None:
    """`command` through the real parser (a usage error is SystemExit 2)."""
    import shlex

    from pipeline.cli import build_parser

    argv = shlex.split(command)[1:]
    build_parser(only=argv[0]).parse_args(argv)


def test_every_command_a_doctor_hint_can_name_parses():
    import pipeline.core.doctor as core_doctor
    import pipeline.engine.doctor as engine_doctor
    from pipeline.core.doctor import fix_command

    commands = {fix_command(t) for m in (core_doctor, engine_doctor) for t in _hint_texts(m)} - {""}
    assert {"pipeline bootstrap --env dev", "pipeline bootstrap --tooling", "pipeline stage"} <= commands
    for command in sorted(commands):
        assert "X" not in command.split(), f"{command!r}: a placeholder without a sample in SAMPLES"
        _parses(command)
    # the failing checks of the pure judgements, through Check.command
    reverted = live("python3.12", "index.handler", tags={"pipeline:artifact-sha256": "ab" * 32})
    checks = [function_check(W, "greeter-dev", reverted, "x86_64", FIX),
              function_check(W, "greeter-dev", live("provided.al2023", "main"), "x86_64", FIX),
              stack_check("target stack", W, "greeter-dev-target", None, None, "v1", FIX)]
    for check in checks:
        assert check.failed and check.command == FIX, check
        _parses(check.command)


@pytest.mark.emulator
def test_doctor_fix_commands_run_as_printed_until_all_checks_pass(aws, envdir, capsys):
    ran: list[str] = []
    for _ in range(3):
        code, doc = doctor_json(envdir, capsys, env="dev")
        if code == 0:
            break
        failing = [c for c in doc["checks"] if c["status"] == "fail"]
        assert all(c["command"] for c in failing), failing  # every failure here has a command to paste
        command = failing[0]["command"]
        assert command.startswith("pipeline ") and command not in ran
        capsys.readouterr()
        import shlex

        assert main(shlex.split(command)[1:]) == 0, capsys.readouterr().err  # exactly as printed
        ran.append(command)
    assert code == 0 and ran == ["pipeline bootstrap --tooling", "pipeline bootstrap --env dev"]
