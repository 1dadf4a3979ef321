"""Render a developer sandbox's stacks (templates/sandbox-*.yml.j2): pure, offline, no AWS.

Two stacks because the function's code must already sit in the bucket when CloudFormation
creates the function; a service's sandbox has every function in its function stack and, with routes or
schedules, a third: its front door, made once every function has its `live` alias.
The same checks as every render apply (policy lint; errors exit 2).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeline.config.values import FunctionSettings
from pipeline.core.sandbox import KIND_BUCKET, KIND_FRONTDOOR, KIND_FUNCTION, SANDBOX_ENVIRONMENT, SandboxNames
from pipeline.core.sandbox_service import SandboxFunction
from pipeline.infra.render import Rendered, expand_template, make_rendered

BUCKET_TEMPLATE = "sandbox-bucket.yml.j2"
FUNCTION_TEMPLATE = "sandbox-function.yml.j2"


def render_sandbox_bucket(config_name: str, sbx: SandboxNames, tags: Mapping[str, str],
                          templates_dir: Path | None = None) -> Rendered:
    context = {"name": config_name, "sandbox": sbx.id, "bucket": sbx.bucket, "tags": dict(tags)}
    body = expand_template(templates_dir, BUCKET_TEMPLATE, context)
    return make_rendered(KIND_BUCKET, sbx.bucket_stack, body, sbx.account, sbx.region, None)


def render_sandbox_function(config_name: str, sbx: SandboxNames, settings: FunctionSettings,
                            tags: Mapping[str, str], templates_dir: Path | None = None,
                            boundary: str | None = None) -> Rendered:
    """`boundary`: the managed policy name the execution role carries as its permissions boundary."""
    context = {
        "name": config_name,
        "sandbox": sbx.id,
        "function_name": sbx.function,
        "log_group": sbx.log_group,
        "log_retention_days": settings.log_retention_days,
        "memory": settings.memory,
        "timeout": settings.timeout,
        "architecture": settings.architecture,
        "variables": {"ENVIRONMENT": SANDBOX_ENVIRONMENT, **dict(sorted(settings.environment.items()))},
        "policy_statements": [{"effect": s.effect, "actions": list(s.actions), "resources": list(s.resources)}
                              for s in settings.policy_statements],
        "tags": dict(tags),
        "boundary": boundary,
    }
    body = expand_template(templates_dir, FUNCTION_TEMPLATE, context)
    return make_rendered(KIND_FUNCTION, sbx.function_stack, body, sbx.account, sbx.region, None)


SERVICE_TEMPLATE = "sandbox-service.yml.j2"
FRONTDOOR_TEMPLATE = "sandbox-frontdoor.yml.j2"


def _function_context(f: SandboxFunction) -> dict[str, Any]:
    s = f.settings
    return {"key": f.key, "id": f.id, "function_name": f.name, "log_group": f.log_group,
            "log_retention_days": s.log_retention_days, "memory": s.memory, "timeout": s.timeout,
            "architecture": s.architecture, "reserved_concurrency": s.reserved_concurrency,
            "variables": {"ENVIRONMENT": SANDBOX_ENVIRONMENT, **dict(sorted(s.environment.items()))},
            "policy_statements": [{"effect": p.effect, "actions": list(p.actions), "resources": list(p.resources)}
                                  for p in s.policy_statements]}


def render_sandbox_service(config_name: str, sbx: SandboxNames, functions: tuple[SandboxFunction, ...],
                           tags: Mapping[str, str], templates_dir: Path | None = None,
                           boundary: str | None = None) -> Rendered:
    """A service's function stack: every function, its log group and its own execution role (`boundary` on each)."""
    context = {"name": config_name, "sandbox": sbx.id, "tags": dict(tags), "boundary": boundary,
               "functions": [_function_context(f) for f in functions]}
    body = expand_template(templates_dir, SERVICE_TEMPLATE, context)
    return make_rendered(KIND_FUNCTION, sbx.function_stack, body, sbx.account, sbx.region, None)


def render_sandbox_frontdoor(config_name: str, sbx: SandboxNames, functions: tuple[SandboxFunction, ...],
                             tags: Mapping[str, str], run_schedules: bool = False,
                             templates_dir: Path | None = None) -> Rendered:
    """A service's HTTP API (routes on each function's `live` alias) and schedule rules (DISABLED unless
    `run_schedules`)."""
    http, schedules = [], []
    for f in functions:
        alias = f"arn:${{AWS::Partition}}:lambda:{sbx.region}:${{AWS::AccountId}}:function:{f.name}:live"
        if f.key and f.settings.routes:
            http.append({"key": f.key, "id": f.id, "alias_arn": alias,
                         "routes": [{"key": r.key, "id": _route_id(f.id, r.key)} for r in f.settings.routes]})
        if f.key and f.settings.schedule:
            schedules.append({"key": f.key, "id": f.id, "alias_arn": alias, "rule_name": f.rule_name,
                              "schedule": f.settings.schedule})
    context = {"name": config_name, "sandbox": sbx.id, "api_name": sbx.function, "tags": dict(tags),
               "http": http, "schedules": schedules, "run_schedules": run_schedules}
    body = expand_template(templates_dir, FRONTDOOR_TEMPLATE, context)
    return make_rendered(KIND_FRONTDOOR, sbx.frontdoor_stack, body, sbx.account, sbx.region, None)


def _route_id(function_id: str, key: str) -> str:
    """A route's logical id from its key (reordering the routes replaces none)."""
    return f"{function_id}Route{hashlib.sha256(key.encode()).hexdigest()[:10]}"
