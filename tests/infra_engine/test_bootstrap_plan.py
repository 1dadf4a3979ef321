"""The bootstrap plan on its own (pure, on observed-state fixtures), and the executor running exactly that plan."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.config.load import load_config
from pipeline.core.bootstrap import LiveFunction
from pipeline.core.bootstrap_plan import (
    DeployStack,
    FunctionAfterTarget,
    Observed,
    StageStub,
    TargetSeen,
    plan_bootstrap,
    target_key,
)
from pipeline.core.stacks import Health
from pipeline.errors import PipelineError
from pipeline.infra import naming
from pipeline.infra.stub import stub_sha256

GO_SHA = hashlib.sha256(b"go").hexdigest()


@pytest.fixture
def config(envdir):
    return load_config(envdir)


def promoted(name: str = "greeter-dev") -> LiveFunction:
    return LiveFunction(name, "arn", "provided.al2023", "bootstrap",
                        base64.b64encode(bytes.fromhex(GO_SHA)).decode(), 128, "x86_64",
                        {"pipeline:artifact-sha256": GO_SHA})


def kinds(plan) -> list[str]:
    return [type(s).__name__ + (f":{s.rendered.kind}" if hasattr(s, "rendered") else "") for s in plan.steps]


def test_tooling_plan_is_the_two_tooling_stacks_protected_as_documented(config):
    plan = plan_bootstrap(config, [], True, Observed())
    assert kinds(plan) == ["DeployStack:tooling", "DeployStack:pipeline"]
    tooling, pipeline = plan.steps
    assert isinstance(tooling, DeployStack) and isinstance(pipeline, DeployStack)
    assert (tooling.spec.protect, pipeline.spec.protect) == (True, False)
    assert {tooling.via, pipeline.via} == {"tooling"}


def test_fresh_env_stages_the_stub_then_defers_the_function_to_after_its_target(config):
    env = config.env("dev")
    plan = plan_bootstrap(config, [env], False, Observed(stub_present=False))
    assert kinds(plan) == ["StageStub", "DeployStack:target", "FunctionAfterTarget:function"]
    stub = plan.steps[0]
    assert isinstance(stub, StageStub) and stub.key == f"artifacts/greeter/{stub_sha256()}.zip"
    assert plan.steps[1].via == "admin"  # type: ignore[union-attr]


def test_stub_already_staged_is_no_step(config):
    plan = plan_bootstrap(config, [config.env("dev")], False, Observed(stub_present=True))
    assert not any(isinstance(s, StageStub) for s in plan.steps)


@pytest.mark.parametrize("health", [Health.ABSENT, Health.STUCK_RECREATE, Health.IN_PROGRESS,
                                    Health.STUCK_CONTINUE_ROLLBACK])
def test_a_target_stack_that_is_not_healthy_defers_its_function(config, health):
    env = config.env("dev")
    seen = {target_key(env, env.targets[0]): TargetSeen(health)}
    plan = plan_bootstrap(config, [env], False, Observed(True, seen))
    assert isinstance(plan.steps[-1], FunctionAfterTarget)


def test_healthy_target_with_the_stub_running_names_the_stub(config):
    env = config.env("dev")
    seen = {target_key(env, env.targets[0]): TargetSeen(Health.HEALTHY, None)}
    step = plan_bootstrap(config, [env], False, Observed(True, seen)).steps[-1]
    assert isinstance(step, DeployStack) and step.via == "deploy" and step.code is not None and step.code.is_stub
    assert step.spec.parameters["ArtifactSha256"] == stub_sha256()
    assert step.spec.role_arn == naming.cfn_exec_role_arn(config, env, env.targets[0])


def test_healthy_target_with_a_promoted_function_keeps_the_live_artifact(config):
    env = config.env("prod")
    seen = {target_key(env, env.targets[0]): TargetSeen(Health.HEALTHY, promoted("greeter-prod"))}
    step = plan_bootstrap(config, [env], False, Observed(True, seen)).steps[-1]
    assert isinstance(step, DeployStack) and step.code is not None and step.code.sha256 == GO_SHA
    assert step.spec.parameters["Runtime"] == "provided.al2023" and step.spec.protect
    assert "live artifact" in step.line()


def test_a_live_artifact_missing_from_the_bucket_refuses_before_any_step_runs(config):
    env = config.env("dev")
    seen = {target_key(env, env.targets[0]): TargetSeen(Health.HEALTHY, promoted(), artifact_present=False)}
    with pytest.raises(PipelineError, match="is missing: stage that artifact again"):
        plan_bootstrap(config, [env], False, Observed(True, seen))


def test_every_target_of_a_wave_env_gets_its_pair_of_steps(config):
    envs = [config.environments[name] for name in config.order]
    plan = plan_bootstrap(config, envs, True, Observed(stub_present=False))
    expected = 2 + 1 + sum(2 * len(e.targets) for e in envs)
    assert len(plan.steps) == expected
    assert len(plan.lines()) == expected and plan.lines()[0].startswith("1. deploy stack greeter-tooling")


# -- the executor runs the plan it was given -----------------------------------------------------

def run_json(envdir: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(["--config-dir", str(envdir), "--output", "json", *args])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.emulator
def test_dry_run_shows_the_plan_the_real_run_executes(aws, envdir, capsys):
    assert main(["--config-dir", str(envdir), "bootstrap", "--tooling"]) == 0
    for _ in range(2):  # a fresh env (stub, target, deferred function), then the same env bootstrapped
        code, dry = run_json(envdir, capsys, "bootstrap", "--env", "dev", "--dry-run")
        assert code == 0
        code, real = run_json(envdir, capsys, "bootstrap", "--env", "dev")
        assert code == 0
        assert dry["plan"] == real["plan"]
        stack_steps = [s["stack"] for s in real["plan"] if s["step"] != "stage-stub"]
        assert [s["stack"] for s in dry["stacks"]] == stack_steps == [s["stack"] for s in real["stacks"]]
    steps = [s["step"] for s in real["plan"]]
    assert steps == ["deploy-stack", "deploy-stack"]  # second time: stub present, target healthy
    assert real["plan"][1]["code"] == "stub"
