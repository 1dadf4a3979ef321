"""The bootstrap plan: from config and observed state, the typed steps a bootstrap runs, in order. Pure.

`pipeline bootstrap` observes once (the stub object, each target stack, each live function), this
module decides, and one executor (`pipeline.engine.bootstrap`) runs the steps. `--dry-run` hands
the same plan to the same executor, which previews each change set and discards it.

Order: tooling stack, one replica stack per other target region (artifact bucket and key), pipeline
stack, the stub (when absent in any region), then per env target its target stack and its function
stack. A function stack's code parameters describe the live function
(`function_code`); when the target stack is not healthy yet (absent, stuck, running) its deploy
role may not exist, so that function step is `FunctionAfterTarget`: the executor reads the live
function through the role the target step just made, and decides with the same pure function.
A multi-function service (`core/service_plan.py`) has one function stack with every function, then
`LiveAliases` (a `live` alias on the stub's version for each function without one), then its front
door (HTTP API, schedules) when it has routes or schedules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pipeline.config.merged import Environment, PipelineConfig, Target
from pipeline.core.bootstrap import FunctionCode, LiveFunction, function_code, stack_spec, stub_code
from pipeline.core.service_plan import LiveAliases, ServiceSeen, alias_step, front_door_parts, service_function_parts
from pipeline.core.stacks import Health, StackSpec
from pipeline.errors import PipelineError
from pipeline.infra import naming
from pipeline.infra.render import (
    Rendered,
    render_function,
    render_pipeline,
    render_replica,
    render_service_function,
    render_target,
    render_tooling,
)
from pipeline.infra.service_context import is_service

Via = Literal["tooling", "admin", "deploy"]  # which credentials a step deploys with


@dataclass(frozen=True)
class StageStub:
    """Upload the bootstrap stub zip to the artifact bucket (it is absent)."""

    bucket: str
    key: str

    def line(self) -> str:
        return f"stage the stub s3://{self.bucket}/{self.key}"

    def as_dict(self) -> dict[str, Any]:
        return {"step": "stage-stub", "bucket": self.bucket, "key": self.key}


@dataclass(frozen=True)
class DeployStack:
    """Converge one stack on `spec` through a change set, with the credentials named by `via`."""

    rendered: Rendered
    spec: StackSpec
    via: Via
    env: Environment | None = None
    target: Target | None = None
    code: FunctionCode | None = None  # function stacks: the code the parameters name
    codes: tuple[tuple[str, FunctionCode], ...] = ()  # a service's function stack: each function's code

    def line(self) -> str:
        r = self.rendered
        where = f"{r.account}/{r.region}"
        code = ""
        if self.code is not None:
            code = " (code: stub)" if self.code.is_stub else f" (code: live artifact {self.code.sha256[:12]})"
        if self.codes:
            code = " (code: " + ", ".join(f"{key} " + ("stub" if c.is_stub else f"live artifact {c.sha256[:12]}")
                                         for key, c in self.codes) + ")"
        return f"deploy stack {r.stack_name} in {where} as {self.via}{code}"

    def as_dict(self) -> dict[str, Any]:
        r = self.rendered
        out: dict[str, Any] = {"step": "deploy-stack", "stack": r.stack_name, "kind": r.kind, "env": r.env,
                               "account": r.account, "region": r.region, "version": r.version, "via": self.via}
        if self.code is not None:
            out["code"] = "stub" if self.code.is_stub else self.code.sha256
        if self.codes:
            out["codes"] = {key: "stub" if c.is_stub else c.sha256 for key, c in self.codes}
        return out


@dataclass(frozen=True)
class FunctionAfterTarget:
    """The function stack of a target whose stack is not healthy yet: decided after that step ran."""

    rendered: Rendered
    env: Environment
    target: Target

    def line(self) -> str:
        r = self.rendered
        return f"deploy stack {r.stack_name} in {r.account}/{r.region} as deploy (code read after the target stack)"

    def as_dict(self) -> dict[str, Any]:
        r = self.rendered
        return {"step": "function-after-target", "stack": r.stack_name, "kind": r.kind, "env": r.env,
                "account": r.account, "region": r.region, "version": r.version, "via": "deploy"}


Step = StageStub | DeployStack | FunctionAfterTarget | LiveAliases


@dataclass(frozen=True)
class TargetSeen:
    """One env target as observed: its target stack's health; the live function when it could be read."""

    target_health: Health
    live: LiveFunction | None = None
    artifact_present: bool = True  # the live artifact's object is in the bucket (True when not promoted)
    service: ServiceSeen | None = None  # a multi-function service: each function as read


@dataclass(frozen=True)
class Observed:
    stub_present: bool = True
    targets: Mapping[tuple[str, str, str], TargetSeen] = field(default_factory=dict)  # (env, account, region)


@dataclass(frozen=True)
class BootstrapPlan:
    steps: tuple[Step, ...]

    def lines(self) -> list[str]:
        return [f"{i}. {step.line()}" for i, step in enumerate(self.steps, 1)]

    def as_list(self) -> list[dict[str, Any]]:
        return [step.as_dict() for step in self.steps]


def target_key(env: Environment, target: Target) -> tuple[str, str, str]:
    return env.name, target.account, target.region


def function_step(config: PipelineConfig, env: Environment, target: Target, live: LiveFunction | None,
                  artifact_present: bool = True) -> DeployStack:
    """The function stack's desired state given what the function runs now (reused by promote's drift check).

    The live artifact must still be in the bucket, or CloudFormation could not name it.
    """
    rendered = render_function(config, env, target)
    code = function_code(config, live, target.region)
    if not code.is_stub and not artifact_present:
        raise PipelineError(f"the function runs artifact {code.sha256[:12]}, but s3://{code.bucket}/{code.key} "
                            "is missing: stage that artifact again (pipeline stage) before bootstrapping, "
                            "so the stack update does not revert the code")
    spec = stack_spec(rendered, protect=env.protect, parameters=code.parameters(),
                      role_arn=naming.cfn_exec_role_arn(config, env, target))
    return DeployStack(rendered, spec, "deploy", env, target, code)


def service_function_step(config: PipelineConfig, env: Environment, target: Target,
                          seen: ServiceSeen) -> DeployStack:
    """A service's function stack given what each of its functions runs now."""
    rendered, spec, codes = service_function_parts(config, env, target, seen)
    return DeployStack(rendered, spec, "deploy", env, target, codes=codes)


def _service_steps(config: PipelineConfig, env: Environment, target: Target, seen: TargetSeen) -> list[Step]:
    """A service's function stack, the `live` aliases it lacks, then its front door (after the aliases)."""
    steps: list[Step] = []
    if seen.target_health is Health.HEALTHY and seen.service is not None:  # read through a current deploy role
        steps.append(service_function_step(config, env, target, seen.service))
    else:
        steps.append(FunctionAfterTarget(render_service_function(config, env, target), env, target))
    aliases = alias_step(config, env, target, seen.service)  # None: not read yet, every function checked later
    if aliases is not None:
        steps.append(aliases)
    door = front_door_parts(config, env, target)
    if door is not None:
        steps.append(DeployStack(door[0], door[1], "deploy", env, target))
    return steps


def plan_bootstrap(config: PipelineConfig, envs: Sequence[Environment], tooling: bool,
                   observed: Observed) -> BootstrapPlan:
    steps: list[Step] = []
    if tooling:
        # The tooling stack holds the artifact bucket and the ledger: always protected. The pipeline
        # stack holds no data and is recreated from config at will.
        tooling_stack, pipeline_stack = render_tooling(config), render_pipeline(config)
        steps.append(DeployStack(tooling_stack, stack_spec(tooling_stack, protect=True), "tooling"))
        for region in naming.replica_regions(config):  # Lambda loads code only from its own region
            replica = render_replica(config, region)
            steps.append(DeployStack(replica, stack_spec(replica, protect=True), "tooling"))
        steps.append(DeployStack(pipeline_stack, stack_spec(pipeline_stack, protect=False), "tooling"))
    if envs and not observed.stub_present:
        stub = stub_code(config)
        steps.append(StageStub(stub.bucket, stub.key))
    for env in envs:
        for target in env.targets:
            rendered = render_target(config, env, target)
            steps.append(DeployStack(rendered, stack_spec(rendered, protect=env.protect), "admin", env, target))
            seen = observed.targets.get(target_key(env, target), TargetSeen(Health.ABSENT))
            if is_service(config):
                steps += _service_steps(config, env, target, seen)
            elif seen.target_health is Health.HEALTHY:
                steps.append(function_step(config, env, target, seen.live, seen.artifact_present))
            else:
                steps.append(FunctionAfterTarget(render_function(config, env, target), env, target))
    return BootstrapPlan(tuple(steps))
