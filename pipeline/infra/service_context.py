"""The template contexts of a multi-function service (`functions:`): its function stack, its front door, and
what its target stack's roles must name. Plain dicts, as in `context.py`.

One function stack per target holds every function (its log group, its own execution role, the function, its
errors alarm); the front door (the HTTP API and the schedules) is its own stack, deployed once every function
has its `live` alias. The one-function service renders through `context.py` exactly as before: `target_names`
gives its target template the same single names it always had.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pipeline.config.merged import Environment, PipelineConfig, ServiceFunction, Target
from pipeline.errors import InputError
from pipeline.infra import naming

P = "${AWS::Partition}"


def is_service(config: PipelineConfig) -> bool:
    """A multi-function service (`functions:`), whose stacks are the service templates."""
    return bool(config.service_functions)


def has_front_door(env: Environment) -> bool:
    """The env's service has http routes or schedules: it gets a front-door stack."""
    return any(f.key and (f.settings.routes or f.settings.schedule) for f in env.functions)


def _statements(functions: list[ServiceFunction]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for function in functions:
        for s in function.settings.policy_statements:
            statement = {"effect": s.effect, "actions": list(s.actions), "resources": list(s.resources)}
            if statement not in out:
                out.append(statement)
    return out


def _logical_ids(env: Environment) -> dict[str, str]:
    ids: dict[str, str] = {}
    for function in env.functions:
        lid = naming.logical_id(function.key)
        if lid in ids.values():
            other = next(k for k, v in ids.items() if v == lid)
            raise InputError(f"{env.source or env.name}: functions {other!r} and {function.key!r} both make the "
                             f"CloudFormation id {lid!r}; rename one")
        ids[function.key] = lid
    return ids


def _route_id(function_id: str, key: str) -> str:
    """A route's logical id from its key (not its place in the list: reordering routes replaces none)."""
    return f"{function_id}Route{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def target_names(config: PipelineConfig, env: Environment, regions: list[str]) -> dict[str, Any]:
    """What the target stack's roles name: every function, log group, alarm and execution role of the env
    (for the one-function service its one function, as before), the front door and the schedule rules."""
    if not is_service(config):
        fn = naming.function_name(config, env)
        return {"service": False, "function_names": [fn], "log_group_functions": [fn],
                "errors_alarms": [naming.errors_alarm_name(config, env)],
                "execution_roles": [naming.execution_role_name(config, env, r) for r in regions],
                "front_door_stack": None, "rule_names": [], "http_live_functions": [], "api_name": "",
                "concurrency_functions": [], "service_policy_statements": None}
    functions = list(env.functions)
    names = [naming.service_function_name(config, env, f.key) for f in functions]
    return {
        "service": True,
        "function_names": names,
        "log_group_functions": names,
        "errors_alarms": [naming.service_errors_alarm_name(config, env, f.key) for f in functions],
        "execution_roles": [naming.service_execution_role_name(config, env, f.key, r)
                            for r in regions for f in functions],
        "front_door_stack": naming.front_door_stack_name(config, env) if has_front_door(env) else None,
        "rule_names": [naming.schedule_rule_name(config, env, f.key) for f in functions if f.settings.schedule],
        # the functions an API Gateway or EventBridge permission is put on (on their live alias)
        "http_live_functions": [naming.service_function_name(config, env, f.key) for f in functions
                                if f.settings.routes or f.settings.schedule],
        "api_name": naming.http_api_name(config, env) if env.http_functions else "",
        "concurrency_functions": [naming.service_function_name(config, env, f.key) for f in functions
                                  if f.settings.reserved_concurrency is not None],
        "service_policy_statements": _statements(functions),
    }


def service_function_context(config: PipelineConfig, env: Environment, target: Target) -> dict[str, Any]:
    """Every function of the service in one stack: per function its names, settings and parameter prefix."""
    ids = _logical_ids(env)
    functions = []
    for function in env.functions:
        settings = function.settings
        if "ENVIRONMENT" in settings.environment:
            raise InputError(f"{env.source or env.name}: functions.{function.key}.environment.ENVIRONMENT is set "
                             f"by the pipeline (to {env.name!r}); remove it")
        name = naming.service_function_name(config, env, function.key)
        functions.append({
            "key": function.key, "id": ids[function.key], "function_name": name,
            "execution_role": naming.service_execution_role_name(config, env, function.key, target.region),
            "log_group": naming.service_log_group_name(config, env, function.key),
            "errors_alarm": naming.service_errors_alarm_name(config, env, function.key),
            "log_retention_days": settings.log_retention_days, "memory": settings.memory,
            "timeout": settings.timeout, "architecture": settings.architecture,
            "reserved_concurrency": settings.reserved_concurrency,
            "variables": {"ENVIRONMENT": env.name, **dict(sorted(settings.environment.items()))},
            "policy_statements": _statements([function]),
        })
    return {"name": config.name, "env": env.name, "account": target.account, "region": target.region,
            "boundary_policy": naming.boundary_policy_name(config, env), "functions": functions}


def front_door_context(config: PipelineConfig, env: Environment, target: Target) -> dict[str, Any]:
    """The HTTP API (one integration per http function, one route per route key) and the schedule rules,
    each on its function's `live` alias."""
    ids = _logical_ids(env)
    http, schedules = [], []
    for function in env.functions:
        settings = function.settings
        name = naming.service_function_name(config, env, function.key)
        alias = f"arn:{P}:lambda:{target.region}:${{AWS::AccountId}}:function:{name}:live"
        if settings.routes:
            http.append({"key": function.key, "id": ids[function.key], "alias_arn": alias,
                         "routes": [{"key": r.key, "id": _route_id(ids[function.key], r.key)}
                                    for r in settings.routes]})
        if settings.schedule:
            schedules.append({"key": function.key, "id": ids[function.key], "alias_arn": alias,
                              "rule_name": naming.schedule_rule_name(config, env, function.key),
                              "schedule": settings.schedule})
    return {"name": config.name, "env": env.name, "account": target.account, "region": target.region,
            "api_name": naming.http_api_name(config, env), "http": http, "schedules": schedules}
