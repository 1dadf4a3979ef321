"""Render a developer sandbox's two stacks (templates/sandbox-*.yml.j2): pure, offline, no AWS.

Two stacks because the function's code must already sit in the bucket when CloudFormation
creates the function. The same checks as every render apply (policy lint; errors exit 2).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pipeline.config.values import FunctionSettings
from pipeline.core.sandbox import KIND_BUCKET, KIND_FUNCTION, SANDBOX_ENVIRONMENT, SandboxNames
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
