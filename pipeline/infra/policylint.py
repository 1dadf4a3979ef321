"""Least-privilege checks on every IAM policy document in a rendered template.

Run on every render (so `pipeline validate` and bootstrap both refuse), so a template (or a config policy statement)
granting `"*"` actions, whole services, writes on every resource, or trust to anyone is
refused before it reaches an account. Deny statements may be broad (they only restrict). Every
statement is also read against IAM's action data (`iamactions`): an unknown action, a malformed ARN or
a condition operator the emulator cannot evaluate is refused too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from pipeline.infra import iamactions
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
# What a trust policy may allow: taking the role (and what goes with it), nothing else.
TRUST_ACTIONS = frozenset({"sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML",
                           "sts:TagSession", "sts:SetSourceIdentity", "sts:SetContext"})
# A whole account as principal: `arn:<partition>:iam::<account>:root` or the bare 12-digit id.
_ACCOUNT_ROOT = re.compile(r"^(arn:[^:]+:iam::([^:]+):root|\d{12})$")
_OWN_ACCOUNT = "OWN-ACCOUNT"  # what _plain makes of ${AWS::AccountId}
_PSEUDO = {"${AWS::Partition}": "aws", "${AWS::AccountId}": _OWN_ACCOUNT, "${AWS::Region}": "region",
           "${AWS::URLSuffix}": "amazonaws.com"}
# AWS managed policies that grant whole services (or everything): never attached by a template.
_BROAD_MANAGED = re.compile(r"^arn:[^:]+:iam::aws:policy/(.*/)?(AdministratorAccess|PowerUserAccess|[A-Za-z0-9]*"
                            r"FullAccess)$")
# Resource types whose policy (under PolicyDocument) is a resource policy, with Principal.
_RESOURCE_POLICY_TYPES = ("AWS::S3::BucketPolicy", "AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy",
                          "AWS::Logs::ResourcePolicy", "AWS::SecretsManager::ResourcePolicy",
                          "AWS::Events::EventBusPolicy")


def template_problems(body: str, name: str) -> list[str]:
    """Every policy problem in CloudFormation YAML `body`, each `name: Resource.path: problem`."""
    return policy_problems(load_template(body), name)


def policy_problems(template: dict[str, Any], name: str) -> list[str]:
    """Every policy problem in a parsed template (see `template_problems`)."""
    problems = []
    for logical, resource in (template.get("Resources") or {}).items():
        if not isinstance(resource, dict):
            continue
        properties = resource.get("Properties") or {}
        rtype = resource.get("Type", "")
        for path, kind, document in _documents(properties, logical, rtype):
            problems += [f"{name}: {path}: {p}" for p in document_problems(document, kind)]
        problems += [f"{name}: {logical}.{p}" for p in _resource_problems(properties, rtype)]
    return problems


def _resource_problems(properties: dict[str, Any], rtype: str) -> Iterator[str]:
    """Grants that are not policy documents: attached managed policies, Lambda permissions."""
    for i, arn in enumerate(_strings(properties.get("ManagedPolicyArns"))):
        if _BROAD_MANAGED.match(_plain(arn)):
            yield f"ManagedPolicyArns[{i}]: {arn} grants whole services; write a scoped policy instead"
    if rtype == "AWS::Lambda::Permission":
        principal = properties.get("Principal")
        if principal == "*" or (isinstance(principal, str) and "*" in principal):
            yield f"Principal {principal!r} lets anyone invoke the function; name the principal"
        elif isinstance(principal, str) and _ACCOUNT_ROOT.match(_plain(principal)) and not (
                properties.get("SourceArn") or properties.get("SourceAccount") or properties.get("PrincipalOrgID")):
            yield f"Principal {principal!r} is a whole account without SourceArn/SourceAccount"


def document_problems(document: Any, kind: str) -> list[str]:
    """Problems in one policy document. kind: "trust", "identity", "resource" or "key" (a KMS key policy)."""
    if isinstance(document, str):  # a policy given as JSON text (some resource types take only that)
        try:
            document = json.loads(document)
        except ValueError:
            return ["policy document is a string that is not JSON: it cannot be checked"]
    if isinstance(document, dict) and set(document) & {"Fn::Sub", "Fn::Join"}:
        return ["policy document is built by an intrinsic function (Fn::Sub/Fn::Join): it cannot be checked; "
                "write it as YAML"]
    if not isinstance(document, dict):
        return [f"policy document is a {type(document).__name__}, not an object"]
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        return ["Statement is neither a list nor an object"]
    problems = []
    for i, statement in enumerate(statements):
        if not isinstance(statement, dict):
            problems.append(f"Statement[{i}]: not an object")
            continue
        problems += [f"Statement[{i}]{_sid(statement)}: {p}" for p in _statement_problems(statement, kind)]
    return problems


def _statement_problems(statement: dict[str, Any], kind: str) -> Iterator[str]:
    effect = statement.get("Effect")
    if effect not in ("Allow", "Deny"):
        yield f"Effect {effect!r} must be exactly Allow or Deny"
        return
    # what IAM (and the emulator's evaluator, from the same data) cannot read: an unknown action, a
    # malformed ARN, an unsupported condition operator
    yield from iamactions.statement_problems(statement)
    allow = effect == "Allow"
    actions = _strings(statement.get("Action"))
    resources = _strings(statement.get("Resource"))
    for action in actions:
        if action == "*":
            yield 'action "*" grants everything; name the actions'
        elif allow and _SERVICE_WILDCARD.match(action):
            yield f"action {action!r} grants a whole service; name the actions"
        elif allow and "*" in action:
            yield f"action {action!r} is a wildcard (it grants every action it matches, new ones too); name them"
    if not allow:
        return
    for negation in _NEGATIONS:
        if negation in statement:
            yield f"{negation} in an Allow statement grants everything not listed"
    if kind == "trust":
        other = sorted(a for a in actions if a not in TRUST_ACTIONS)
        if other:
            yield f"a trust policy allows only sts:AssumeRole and its kin, not {', '.join(other)}"
    writes = sorted(a for a in actions if a not in READ_ONLY_STAR)
    if "*" in resources and kind != "key" and writes:
        yield f'Resource "*" with actions that are not read-only without resource scoping: {", ".join(writes)}'
    for resource in resources:
        if resource != "*" and _wide_resource(resource) and writes:
            yield f"Resource {resource!r} spans every account or every resource of the service"
    if "Principal" in statement:
        yield from _principal_problems(statement["Principal"], kind, bool(statement.get("Condition")))
    elif kind in ("trust", "resource", "key"):
        yield "no Principal in a resource or trust policy"


def _wide_resource(arn: str) -> bool:
    """`arn:aws:s3:::*`, `arn:aws:iam::*:role/x`, `arn:*:...`: wildcards where a name or an account belongs."""
    parts = _plain(arn).split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return False
    return "*" in parts[1] or "*" in parts[2] or parts[4] == "*" or parts[5] == "*"


def _principal_problems(principal: Any, kind: str, conditioned: bool) -> Iterator[str]:
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
            elif key == "AWS" and not conditioned and _whole_account(name, kind):
                yield (f"Principal AWS {name!r} is a whole account with no Condition: every role and user there "
                       "gets in; name the roles or narrow it (aws:PrincipalArn, sts:ExternalId)")


def _whole_account(name: str, kind: str) -> bool:
    match = _ACCOUNT_ROOT.match(_plain(name))
    if match is None:
        return False
    # a key policy's own-account root is the standard "let IAM policies decide" statement
    own = match.group(2) == _OWN_ACCOUNT
    return not (kind == "key" and own)


def _documents(properties: dict[str, Any], logical: str, rtype: str) -> Iterator[tuple[str, str, Any]]:
    """Every policy document of a resource: the known places, then any other object holding a Statement
    (so a property this module has never heard of is still checked)."""
    seen: set[int] = set()
    if "AssumeRolePolicyDocument" in properties:
        seen.add(id(properties["AssumeRolePolicyDocument"]))
        yield f"{logical}.AssumeRolePolicyDocument", "trust", properties["AssumeRolePolicyDocument"]
    for i, policy in enumerate(properties.get("Policies") or []):
        if isinstance(policy, dict) and "PolicyDocument" in policy:
            seen.add(id(policy["PolicyDocument"]))
            yield f"{logical}.Policies[{i}]", "identity", policy["PolicyDocument"]
    if "PolicyDocument" in properties:
        kind = "resource" if rtype in _RESOURCE_POLICY_TYPES else "identity"
        if kind == "identity" and _has_principal(properties["PolicyDocument"]):
            kind = "resource"
        seen.add(id(properties["PolicyDocument"]))
        yield f"{logical}.PolicyDocument", kind, properties["PolicyDocument"]
    if "KeyPolicy" in properties:
        seen.add(id(properties["KeyPolicy"]))
        yield f"{logical}.KeyPolicy", "key", properties["KeyPolicy"]
    for path, node in _walk(properties, logical):
        if id(node) not in seen and isinstance(node, dict) and "Statement" in node:
            yield path, "resource" if _has_principal(node) else "identity", node


def _walk(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{path}.{key}", value
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield f"{path}[{i}]", value
            yield from _walk(value, f"{path}[{i}]")


def _has_principal(document: Any) -> bool:
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    statements = [statements] if isinstance(statements, dict) else statements
    return any(isinstance(s, dict) and "Principal" in s for s in statements if isinstance(statements, list))


def _plain(text: str) -> str:
    """An ARN with CloudFormation pseudo parameters (which hold colons) replaced by plain stand-ins."""
    for pseudo, plain in _PSEUDO.items():
        text = text.replace(pseudo, plain)
    return text


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
