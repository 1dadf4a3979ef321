"""Least-privilege checks on every IAM policy document in a rendered template.

Run on every render (so `pipeline validate` and bootstrap both refuse), so a template (or a config policy statement)
granting `"*"` actions, whole services, writes on every resource, or trust to anyone is
refused before it reaches an account. Deny statements may be broad (they only restrict).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pipeline.infra.cfnyaml import load_template

# Read-only actions that have no resource-level permissions and so need Resource "*".
READ_ONLY_STAR = frozenset({
    "cloudwatch:DescribeAlarms",
    "cloudwatch:GetMetricData",
    "cloudwatch:GetMetricStatistics",
    "sts:GetCallerIdentity",
})

_SERVICE_WILDCARD = re.compile(r"^[a-z0-9-]+:\*$")
_NEGATIONS = ("NotAction", "NotResource", "NotPrincipal")


def template_problems(body: str, name: str) -> list[str]:
    """Every policy problem in CloudFormation YAML `body`, each `name: Resource.path: problem`."""
    return policy_problems(load_template(body), name)


def policy_problems(template: dict[str, Any], name: str) -> list[str]:
    """Every policy problem in a parsed template (see `template_problems`)."""
    problems = []
    for logical, resource in (template.get("Resources") or {}).items():
        for path, kind, document in _documents(resource.get("Properties") or {}, logical, resource.get("Type", "")):
            problems += [f"{name}: {path}: {p}" for p in document_problems(document, kind)]
    return problems


def document_problems(document: Any, kind: str) -> list[str]:
    """Problems in one policy document. kind: "trust", "identity", "resource" or "key" (a KMS key policy)."""
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    if isinstance(statements, dict):
        statements = [statements]
    problems = []
    for i, statement in enumerate(statements):
        problems += [f"Statement[{i}]{_sid(statement)}: {p}" for p in _statement_problems(statement, kind)]
    return problems


def _statement_problems(statement: dict[str, Any], kind: str) -> Iterator[str]:
    allow = statement.get("Effect") == "Allow"
    actions = _strings(statement.get("Action"))
    resources = _strings(statement.get("Resource"))
    for action in actions:
        if action == "*":
            yield 'action "*" grants everything; name the actions'
        elif allow and _SERVICE_WILDCARD.match(action):
            yield f"action {action!r} grants a whole service; name the actions"
    if not allow:
        return
    for negation in _NEGATIONS:
        if negation in statement:
            yield f"{negation} in an Allow statement grants everything not listed"
    if "*" in resources and kind != "key":
        writes = sorted(a for a in actions if a not in READ_ONLY_STAR)
        if writes:
            yield f'Resource "*" with actions that are not read-only without resource scoping: {", ".join(writes)}'
    if "Principal" in statement:
        yield from _principal_problems(statement["Principal"], kind)
    elif kind in ("trust", "resource", "key"):
        yield "no Principal in a resource or trust policy"


def _principal_problems(principal: Any, kind: str) -> Iterator[str]:
    if principal == "*":
        yield 'Principal "*" allows anyone'
        return
    if not isinstance(principal, dict):
        yield f"unexpected Principal {principal!r}"
        return
    for key, value in principal.items():
        for name in _strings(value):
            if "*" in name:
                yield f"Principal {key} {name!r} is a wildcard; name exact principals"
            elif kind == "trust" and key not in ("AWS", "Service", "Federated"):
                yield f"unexpected trust Principal type {key!r}"


def _documents(properties: dict[str, Any], logical: str, rtype: str) -> Iterator[tuple[str, str, Any]]:
    if "AssumeRolePolicyDocument" in properties:
        yield f"{logical}.AssumeRolePolicyDocument", "trust", properties["AssumeRolePolicyDocument"]
    for i, policy in enumerate(properties.get("Policies") or []):
        if isinstance(policy, dict) and "PolicyDocument" in policy:
            yield f"{logical}.Policies[{i}]", "identity", policy["PolicyDocument"]
    if "PolicyDocument" in properties:
        kind = "identity" if rtype in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy") else "resource"
        yield f"{logical}.PolicyDocument", kind, properties["PolicyDocument"]
    if "KeyPolicy" in properties:
        yield f"{logical}.KeyPolicy", "key", properties["KeyPolicy"]


def _strings(value: Any) -> list[str]:
    """Flatten a policy element to the strings it names (intrinsics like !Sub yield their text)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    if isinstance(value, dict):
        if "Fn::Sub" in value:
            sub = value["Fn::Sub"]
            return [sub if isinstance(sub, str) else sub[0]]
        return [f"<{next(iter(value), '?')}>"]  # !Ref / !GetAtt: a single named resource
    return [str(value)]


def _sid(statement: Any) -> str:
    return f" ({statement['Sid']})" if isinstance(statement, dict) and statement.get("Sid") else ""
