"""Facts about resources that authorization needs and only moto's backends hold: who owns a bucket,
its policy and default encryption, an object's KMS key, a KMS key's ARN, policy and aliases, a
Lambda function's resource policy, a stack's ARN. Every lookup tolerates a missing resource (the
operation itself then answers NotFound, after authorization, as AWS does).
"""

from __future__ import annotations

import json
from typing import Any

from pipeline.local.iam.policy import Policy, PolicyError, parse_policy

P = "aws"


def bucket(name: str) -> Any:
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(name)
    if owner is None:
        return None
    return s3_backends[owner[1]][owner[0]].buckets.get(name)


def bucket_account(name: str) -> str | None:
    found = bucket(name)
    return getattr(found, "account_id", None)


def bucket_policy(name: str) -> Policy | None:
    found = bucket(name)
    if found is None or not found.policy:
        return None
    return _parse(found.policy, f"arn:aws:s3:::{name} (bucket policy)")


def bucket_default_kms_key(name: str) -> str | None:
    """The KMS key of the bucket's default SSE-KMS encryption, None without one."""
    found = bucket(name)
    rules = ((getattr(found, "encryption", None) or {}).get("Rule") or [])
    for rule in rules if isinstance(rules, list) else [rules]:
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        if default.get("SSEAlgorithm") == "aws:kms":
            return default.get("KMSMasterKeyID") or "alias/aws/s3"
    return None


def object_kms_key(bucket_name: str, key: str, version: str | None) -> str | None:
    found = bucket(bucket_name)
    if found is None:
        return None
    try:
        obj = found.keys.getlist(key)
        if version:
            obj = [o for o in obj if str(o.version_id) == version]
        item = obj[-1] if obj else None
    except (KeyError, AttributeError):
        item = None
    if item is None or getattr(item, "encryption", None) != "aws:kms":
        return None
    return item.kms_key_id or "alias/aws/s3"


def kms_key(key_id: str, account: str, region: str) -> Any:
    from moto.kms.models import kms_backends

    if key_id.startswith("arn:"):
        parts = key_id.split(":")
        region, account = parts[3], parts[4]
    backend = kms_backends[account][region]
    try:
        return backend.keys[backend.any_id_to_key_id(key_id)]
    except (KeyError, TypeError, AttributeError):
        return None


def kms_key_arn(key_id: str, account: str, region: str) -> tuple[str, str]:
    """(key ARN, owning account); for an unknown key the ARN as AWS would name it."""
    found = kms_key(key_id, account, region)
    if found is not None:
        return found.arn, found.account_id
    if key_id.startswith("arn:"):
        return key_id, key_id.split(":")[4]
    return f"arn:aws:kms:{region}:{account}:key/{key_id}", account


def kms_policy_and_aliases(key_arn: str) -> tuple[Policy | None, list[str]]:
    parts = key_arn.split(":")
    found = kms_key(key_arn, parts[4], parts[3])
    if found is None:
        return None, []
    return _parse(found.policy, f"{key_arn} (key policy)"), list(getattr(found, "aliases", {}) or {})


def function_policy(account: str, region: str, name: str) -> Policy | None:
    from moto.awslambda.models import lambda_backends

    try:
        fn = lambda_backends[account][region].get_function(name)
    except Exception:
        return None
    statements = getattr(getattr(fn, "policy", None), "statements", None)
    if not statements:
        return None
    return _parse({"Version": "2012-10-17", "Statement": [_as_aws(dict(st)) for st in statements]},
                  f"{fn.function_arn} (resource policy)")


def _as_aws(statement: dict[str, Any]) -> dict[str, Any]:
    """A statement as Lambda's GetPolicy shows it: AddPermission's bare account id is `{"AWS": <root ARN>}`, and an
    unqualified permission covers the unqualified ARN (moto stores a principal string and `:$LATEST`)."""
    principal = statement.get("Principal")
    if isinstance(principal, str) and principal != "*":
        statement["Principal"] = {"AWS": f"arn:aws:iam::{principal}:root" if principal.isdigit() else principal}
    resource = statement.get("Resource")
    if isinstance(resource, str) and resource.endswith(":$LATEST"):
        statement["Resource"] = resource[: -len(":$LATEST")]
    return statement


def stack_arn(account: str, region: str, name: str) -> str:
    from moto.cloudformation.models import cloudformation_backends

    if name.startswith("arn:"):
        return name
    try:
        for stack in cloudformation_backends[account][region].stacks.values():
            if stack.name == name and "DELETE_COMPLETE" not in stack.status:
                return str(stack.stack_id)
    except Exception:
        pass
    return f"arn:aws:cloudformation:{region}:{account}:stack/{name}/*"


def _parse(document: Any, name: str) -> Policy | None:
    try:
        if isinstance(document, (bytes, bytearray)):
            document = document.decode("utf-8")
        if isinstance(document, str):
            document = json.loads(document)
        return parse_policy(document, name)
    except (PolicyError, ValueError):
        return Policy(name, ())
