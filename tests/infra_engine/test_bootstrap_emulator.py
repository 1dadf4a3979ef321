"""`pipeline bootstrap` against the emulator: accounts, idempotence, dry run, and the drift test."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from helpers import client

from pipeline.aws.accounts import Accounts
from pipeline.aws.session import SessionFactory
from pipeline.cli import main
from pipeline.config.load import load_config
from pipeline.engine.bootstrap import Bootstrapper
from pipeline.infra import naming
from pipeline.infra.stub import STUB_RUNTIME, stub_sha256

pytestmark = pytest.mark.emulator
REPO = Path(__file__).resolve().parents[2]
WRITE_PREFIXES = ("Create", "Update", "Delete", "Put", "Execute", "Tag", "Untag", "Continue", "Publish")


def cli(envdir: Path, *args: str) -> int:
    return main(["--config-dir", str(envdir), *args])


def run_json(envdir: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    capsys.readouterr()
    code = cli(envdir, "--output", "json", *args)
    out = capsys.readouterr().out
    return code, json.loads(out)


def sessions(envdir: Path, hooks: list | None = None) -> tuple[SessionFactory, Accounts]:
    config = load_config(envdir)
    factory = SessionFactory(region=config.region, event_hooks=hooks)
    return factory, Accounts(factory, config)


def dev_lambda(envdir: Path):
    _factory, accounts = sessions(envdir)
    config = accounts.config
    return accounts.target(config.env("dev")).client("lambda"), config


def invoke(client, path: str) -> dict:
    event = {"rawPath": path, "requestContext": {"http": {"method": "GET"}}}
    resp = client.invoke(FunctionName="greeter-dev", Payload=json.dumps(event).encode())
    return json.loads(resp["Payload"].read())


def actions(doc: dict) -> dict[str, str]:
    return {s["stack"]: s["action"] for s in doc["stacks"]}


def test_env_before_tooling_fails_early_with_a_hint(aws, envdir, capsys):
    assert cli(envdir, "bootstrap", "--env", "dev") == 1
    assert "run `pipeline bootstrap --tooling` first" in capsys.readouterr().err
    factory, _accounts = sessions(envdir)
    cfn = factory.assume("111111111111", "OrganizationAccountAccessRole").client("cloudformation")
    assert cfn.describe_stacks()["Stacks"] == []  # nothing written in the env account


def test_unknown_env_is_exit_2(aws, envdir, capsys):
    assert cli(envdir, "bootstrap", "--env", "staging") == 2
    assert "unknown environment 'staging'" in capsys.readouterr().err


def test_all_then_again_is_a_no_op(aws, envdir, capsys):
    code, doc = run_json(envdir, capsys, "bootstrap", "--all")
    assert code == 0 and doc["ok"] and doc["changed"]
    assert actions(doc) == {"greeter-tooling": "created", "greeter-pipeline": "created",
                            "greeter-dev-target": "created",
                            "greeter-dev-function": "created", "greeter-test-target": "created",
                            "greeter-test-function": "created", "greeter-prod-target": "created",
                            "greeter-prod-function": "created"}
    accounts = {s["stack"]: s["account"] for s in doc["stacks"]}
    assert accounts["greeter-tooling"] == "444444444444" and accounts["greeter-prod-function"] == "333333333333"

    code, doc = run_json(envdir, capsys, "bootstrap", "--all")
    assert code == 0 and not doc["changed"]
    assert set(actions(doc).values()) == {"unchanged"}
    assert cli(envdir, "bootstrap", "--env", "dev") == 0
    assert "no changes" in capsys.readouterr().out


def test_second_env_run_makes_no_write_call(aws, envdir):
    config = load_config(envdir)
    calls: list[str] = []
    hooks = [("before-call", lambda model, **_kw: calls.append(model.name))]
    factory, accounts = sessions(envdir, hooks)
    Bootstrapper(config, factory, accounts).run(tooling=True)
    Bootstrapper(config, factory, accounts).run(envs=[config.env("dev")])
    calls.clear()
    outcomes = Bootstrapper(config, factory, accounts).run(envs=[config.env("dev")])
    assert [o.action for o in outcomes] == ["unchanged", "unchanged"]
    writes = [c for c in calls if c.startswith(WRITE_PREFIXES)]
    assert writes == []


def test_stacks_carry_version_kind_env_tags_and_prod_is_protected(aws, envdir, capsys):
    code, doc = run_json(envdir, capsys, "bootstrap", "--all")
    assert code == 0
    factory, _ = sessions(envdir)
    for stack in doc["stacks"]:
        cfn = factory.assume(stack["account"], "OrganizationAccountAccessRole").client("cloudformation")
        described = cfn.describe_stacks(StackName=stack["stack"])["Stacks"][0]
        tags = {t["Key"]: t["Value"] for t in described["Tags"]}
        assert tags["pipeline:bootstrap-version"] == stack["version"]
        assert tags["pipeline:kind"] == stack["kind"]
        assert tags.get("pipeline:env") == stack["env"]
        # prod has protect: true; tooling is always protected; the pipeline stack holds no data
        protected = stack["env"] == "prod" or stack["stack"] == "greeter-tooling"
        assert described["EnableTerminationProtection"] is protected, stack["stack"]


def test_role_flag_deploys_the_target_stack_with_that_role(aws, envdir):
    config = load_config(envdir)
    assumed: list[str] = []

    def record(model, params, **_kw):
        if model.name == "AssumeRole":
            assumed.append(params["RoleArn"])

    for account in ("444444444444", "111111111111"):  # an admin role of the user's own naming in each account
        iam = client("iam", account)
        iam.create_role(RoleName="BootstrapAdmin", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}]}))
        iam.put_role_policy(RoleName="BootstrapAdmin", PolicyName="admin", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    factory, accounts = sessions(envdir, [("before-parameter-build.sts", record)])
    boot = Bootstrapper(config, factory, accounts, role="BootstrapAdmin")
    boot.run(tooling=True)
    boot.run(envs=[config.env("dev")])
    assert "arn:aws:iam::444444444444:role/BootstrapAdmin" in assumed
    assert "arn:aws:iam::111111111111:role/BootstrapAdmin" in assumed
    assert "arn:aws:iam::111111111111:role/pipeline-deploy" in assumed  # the function stack: deploy role
    assert not any(arn.endswith("/OrganizationAccountAccessRole") for arn in assumed)


def test_dry_run_changes_nothing(aws, envdir, capsys):
    assert cli(envdir, "bootstrap", "--tooling") == 0
    code, doc = run_json(envdir, capsys, "bootstrap", "--env", "dev", "--dry-run")
    assert code == 0 and doc["dry_run"]
    assert actions(doc) == {"greeter-dev-target": "would create", "greeter-dev-function": "would create"}
    factory, _ = sessions(envdir)
    cfn = factory.assume("111111111111", "OrganizationAccountAccessRole").client("cloudformation")
    assert cfn.describe_stacks()["Stacks"] == []
    tooling_s3 = factory.assume("444444444444", "pipeline-promoter").client("s3")
    config = load_config(envdir)
    listed = tooling_s3.list_objects_v2(Bucket=config.artifact_bucket, Prefix=naming.artifact_prefix(config))
    assert listed.get("KeyCount", 0) == 0  # stub not staged


def test_stub_is_staged_once_by_sha256_with_kms_and_checksum(aws, envdir):
    assert cli(envdir, "bootstrap", "--tooling") == 0
    assert cli(envdir, "bootstrap", "--env", "dev") == 0
    assert cli(envdir, "bootstrap", "--env", "test") == 0
    config = load_config(envdir)
    factory, _ = sessions(envdir)
    s3 = factory.assume("444444444444", "pipeline-promoter").client("s3")
    listed = s3.list_objects_v2(Bucket=config.artifact_bucket, Prefix=naming.artifact_prefix(config))
    keys = [o["Key"] for o in listed["Contents"]]
    assert keys == [naming.artifact_key(config, stub_sha256())]
    head = s3.head_object(Bucket=config.artifact_bucket, Key=keys[0], ChecksumMode="ENABLED")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["ChecksumSHA256"] == base64.b64encode(bytes.fromhex(stub_sha256())).decode()


# -- the drift test ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def go_artifact(tmp_path_factory):
    """The real go-function built once: (zip bytes, manifest)."""
    from pipeline.artifact.build import build_artifact, find_go

    try:
        find_go()
    except Exception:
        pytest.skip("go toolchain not installed")
    out = tmp_path_factory.mktemp("dist")
    manifest = build_artifact(REPO / "go-function", out, "greeter", "x86_64", "1.2.3", run_tests=False)
    return (out / f"{manifest.stem}.zip").read_bytes(), manifest


def simulate_first_promotion(envdir: Path, zip_bytes: bytes) -> str:
    """What the promote engine does on the fast path, by API and outside CloudFormation.

    Stage the Go zip in the tooling bucket under its sha256, switch runtime/handler, update the
    code from S3 (publishing a version), tag the function with the artifact sha. Returns the sha.
    """
    config = load_config(envdir)
    _factory, accounts = sessions(envdir)
    sha = hashlib.sha256(zip_bytes).hexdigest()
    key = naming.artifact_key(config, sha)
    tooling_s3 = accounts.tooling().client("s3")
    tooling_s3.put_object(Bucket=config.artifact_bucket, Key=key, Body=zip_bytes, ChecksumAlgorithm="SHA256",
                          ServerSideEncryption="aws:kms")
    lam = accounts.target(config.env("dev")).client("lambda")
    lam.update_function_configuration(FunctionName="greeter-dev", Runtime="provided.al2023", Handler="bootstrap")
    lam.update_function_code(FunctionName="greeter-dev", S3Bucket=config.artifact_bucket, S3Key=key, Publish=True)
    arn = lam.get_function(FunctionName="greeter-dev")["Configuration"]["FunctionArn"]
    # the deploy role may not tag: the env's admin does (this test's stand-in for whoever tags a release)
    _factory.assume("111111111111", "OrganizationAccountAccessRole").client("lambda").tag_resource(
        Resource=arn, Tags={"pipeline:artifact-sha256": sha})
    return sha


def set_memory(envdir: Path, memory: int) -> None:
    path = envdir / "dev.yml"
    path.write_text(path.read_text().replace("function:\n", f"function:\n  memory: {memory}\n", 1))


def test_infrastructure_update_after_promotion_keeps_code_and_runtime(aws, envdir, capsys, go_artifact):
    zip_bytes, manifest = go_artifact
    assert cli(envdir, "bootstrap", "--tooling") == 0
    assert cli(envdir, "bootstrap", "--env", "dev") == 0
    lam, config = dev_lambda(envdir)
    before = lam.get_function(FunctionName="greeter-dev")["Configuration"]
    assert before["Runtime"] == STUB_RUNTIME
    stub_answer = invoke(lam, "/health")
    assert stub_answer["statusCode"] == 503 and json.loads(stub_answer["body"]) == {"status": "not deployed"}

    sha = simulate_first_promotion(envdir, zip_bytes)
    assert sha == manifest.sha256
    promoted = lam.get_function(FunctionName="greeter-dev")["Configuration"]
    assert promoted["CodeSha256"] == manifest.code_sha256
    assert invoke(lam, "/version")["statusCode"] == 200

    set_memory(envdir, 512)
    code, doc = run_json(envdir, capsys, "bootstrap", "--env", "dev")
    assert code == 0
    assert actions(doc) == {"greeter-dev-target": "unchanged", "greeter-dev-function": "updated"}
    fn_stack = next(s for s in doc["stacks"] if s["kind"] == "function")
    assert f"code: live artifact {sha[:12]} (provided.al2023)" in fn_stack["notes"]

    after = lam.get_function(FunctionName="greeter-dev")["Configuration"]
    assert after["MemorySize"] == 512
    assert after["CodeSha256"] == manifest.code_sha256
    assert (after["Runtime"], after["Handler"]) == ("provided.al2023", "bootstrap")
    answer = invoke(lam, "/version")
    assert answer["statusCode"] == 200 and "1.2.3" in answer["body"]

    # and the stack itself now says so: the next update has nothing to revert either
    _factory, accounts = sessions(envdir)
    cfn = accounts.target(config.env("dev")).client("cloudformation")
    params = {p["ParameterKey"]: p["ParameterValue"]
              for p in cfn.describe_stacks(StackName="greeter-dev-function")["Stacks"][0]["Parameters"]}
    assert params["Runtime"] == "provided.al2023" and params["CodeS3Key"] == naming.artifact_key(config, sha)
    code, doc = run_json(envdir, capsys, "bootstrap", "--env", "dev")
    assert set(actions(doc).values()) == {"unchanged"}


def test_the_emulator_would_show_the_drift(aws, envdir, go_artifact):
    """Control: rendering the stub (the seed's behaviour) does revert the code on the emulator,
    so the test above would catch a regression."""
    zip_bytes, manifest = go_artifact
    assert cli(envdir, "bootstrap", "--tooling") == 0
    assert cli(envdir, "bootstrap", "--env", "dev") == 0
    simulate_first_promotion(envdir, zip_bytes)
    config = load_config(envdir)
    factory, accounts = sessions(envdir)
    boot = Bootstrapper(config, factory, accounts)
    env = config.env("dev")
    _, spec, code = boot.function_spec(env, env.targets[0], live=None)  # pretend nothing was promoted
    assert code.is_stub
    spec = type(spec)(**{**spec.__dict__, "body": spec.body.replace("MemorySize: 128", "MemorySize: 256")})
    boot.engine(accounts.target(env), env.region).deploy(spec)
    lam = accounts.target(env).client("lambda")
    reverted = lam.get_function(FunctionName="greeter-dev")["Configuration"]
    assert reverted["CodeSha256"] != manifest.code_sha256
    assert reverted["Runtime"] == STUB_RUNTIME


def test_render_error_is_exit_2_before_any_aws_call(aws, envdir, capsys, monkeypatch):
    calls: list[str] = []
    original = SessionFactory.__init__

    def counting(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.event_hooks.append(("before-call", lambda model, **_kw: calls.append(model.name)))

    monkeypatch.setattr(SessionFactory, "__init__", counting)
    dev = envdir / "dev.yml"
    dev.write_text(dev.read_text().replace("environment: {LOG_LEVEL: debug}", "environment: {ENVIRONMENT: x}"))
    assert cli(envdir, "bootstrap", "--all") == 2
    assert "ENVIRONMENT is set by the pipeline" in capsys.readouterr().err
    assert calls == []
