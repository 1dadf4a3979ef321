"""The bootstrap steps of a multi-function service (`functions:`), per env target. Pure.

After the target stack: one function stack with every function (each function's code parameters describe what
it runs now, as for the one function), then a `live` alias on the stub's published version for every function
that has none (through the Lambda API, not CloudFormation: promote owns the alias and moves it, so CloudFormation
must never see it), then the front door (the HTTP API and schedules), whose integrations and permissions name
those aliases. A `live` alias on a stub version means "no release yet" to promote.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipeline.config.merged import Environment, PipelineConfig, Target
from pipeline.core.bootstrap import FunctionCode, LiveFunction, function_code, stack_spec
from pipeline.core.stacks import StackSpec
from pipeline.errors import PipelineError
from pipeline.infra import naming
from pipeline.infra.render import Rendered, render_front_door, render_service_function
from pipeline.infra.service_context import has_front_door


@dataclass(frozen=True)
class ServiceSeen:
    """A service's functions in one target as observed (by Lambda function name)."""

    live: Mapping[str, LiveFunction | None] = field(default_factory=dict)
    aliased: frozenset[str] = frozenset()  # the functions that have a `live` alias
    absent_artifacts: frozenset[str] = frozenset()  # the functions whose live artifact's object is missing


@dataclass(frozen=True)
class LiveAliases:
    """Give each of `functions` a `live` alias on its published stub version (those that have none).

    `observed`: the functions were read and these lack the alias; False: decided before they could be read
    (the target stack was not healthy), so the executor checks each of them after the function stack ran."""

    env: Environment
    target: Target
    functions: tuple[str, ...]
    observed: bool = True

    def line(self) -> str:
        which = ", ".join(self.functions)
        checked = "" if self.observed else " (those without one, checked after the function stack)"
        return (f"create the live alias on the stub's published version of {which} in "
                f"{self.target.account}/{self.target.region} as deploy{checked}")

    def as_dict(self) -> dict[str, Any]:
        return {"step": "live-aliases", "env": self.env.name, "account": self.target.account,
                "region": self.target.region, "functions": list(self.functions), "observed": self.observed,
                "via": "deploy"}


def function_names(config: PipelineConfig, env: Environment) -> tuple[str, ...]:
    return tuple(naming.service_function_name(config, env, f.key) for f in env.functions)


def service_code(config: PipelineConfig, live: LiveFunction | None, region: str) -> FunctionCode:
    """What one function runs now: the stub, or its live Go artifact with the handler it runs (a service's
    functions run one binary under their own handlers)."""
    code = function_code(config, live, region)
    if live is not None and not code.is_stub and live.handler:
        code = dataclasses.replace(code, handler=live.handler)
    return code


def service_function_parts(config: PipelineConfig, env: Environment, target: Target,
                           seen: ServiceSeen) -> tuple[Rendered, StackSpec, tuple[tuple[str, FunctionCode], ...]]:
    """The function stack holding every function, its parameters naming what each runs now (and those codes)."""
    rendered = render_service_function(config, env, target)
    parameters: dict[str, str] = {}
    codes: list[tuple[str, FunctionCode]] = []
    for function in env.functions:
        name = naming.service_function_name(config, env, function.key)
        code = service_code(config, seen.live.get(name), target.region)
        if not code.is_stub and name in seen.absent_artifacts:
            raise PipelineError(f"{name} runs artifact {code.sha256[:12]}, but s3://{code.bucket}/{code.key} is "
                                "missing: stage that artifact again (pipeline stage) before bootstrapping, so the "
                                "stack update does not revert the code")
        prefix = naming.logical_id(function.key)
        parameters.update({f"{prefix}{k}": v for k, v in code.parameters().items()})
        codes.append((function.key, code))
    spec = stack_spec(rendered, protect=env.protect, parameters=parameters,
                      role_arn=naming.cfn_exec_role_arn(config, env, target))
    return rendered, spec, tuple(codes)


def front_door(config: PipelineConfig, env: Environment, target: Target) -> Rendered | None:
    return render_front_door(config, env, target) if has_front_door(env) else None


def front_door_parts(config: PipelineConfig, env: Environment, target: Target) -> tuple[Rendered, StackSpec] | None:
    """The HTTP API and schedules, deployed by the deploy role through the CloudFormation role; None without."""
    rendered = front_door(config, env, target)
    if rendered is None:
        return None
    return rendered, stack_spec(rendered, protect=env.protect, role_arn=naming.cfn_exec_role_arn(config, env, target))


def alias_step(config: PipelineConfig, env: Environment, target: Target,
               seen: ServiceSeen | None) -> LiveAliases | None:
    """The functions that need a `live` alias: those observed without one; every function when not observed."""
    names = function_names(config, env)
    if seen is None:
        return LiveAliases(env, target, names, observed=False)
    missing = tuple(n for n in names if n not in seen.aliased)
    return LiveAliases(env, target, missing) if missing else None
