"""In-place CloudFormation updates moto has no code for: log groups, managed policies, KMS keys.

moto 5.2's `AWS::Logs::LogGroup`, `AWS::IAM::ManagedPolicy` and `AWS::KMS::Key` have no update: a
changed RetentionInDays, policy document or key policy was silently kept as first created while the
stack said UPDATE_COMPLETE (`cfn_ops` now fails an update of a type with no update code instead).
Here each is updated through its moto backend as the API would: PutRetentionPolicy /
DeleteRetentionPolicy (a new LogGroupName replaces the group), CreatePolicyVersion as the default
(the oldest non-default version goes when IAM's five are used; a new name replaces the policy),
UpdateKeyDescription / PutKeyPolicy / Enable|DisableKeyRotation. `install()` is idempotent.
"""

from __future__ import annotations

import json
from typing import Any

_INSTALLED = False


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.iam.models import ManagedPolicy
    from moto.kms.models import Key
    from moto.logs.models import LogGroup

    LogGroup.update_from_cloudformation_json = classmethod(_log_group)  # type: ignore[method-assign,assignment]
    ManagedPolicy.update_from_cloudformation_json = classmethod(_managed_policy)  # type: ignore[method-assign,assignment]
    Key.update_from_cloudformation_json = classmethod(_key)  # type: ignore[method-assign,assignment]
    _INSTALLED = True


def _log_group(cls: Any, original_resource: Any, new_resource_name: str, cloudformation_json: dict[str, Any],
               account_id: str, region_name: str) -> Any:
    from moto.logs.models import logs_backends

    backend = logs_backends[account_id][region_name]
    props = cloudformation_json["Properties"]
    name = props.get("LogGroupName", original_resource.name)
    if name != original_resource.name:
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
    if props.get("RetentionInDays") is not None:
        backend.put_retention_policy(name, int(props["RetentionInDays"]))
    else:
        backend.delete_retention_policy(name)
    return backend.groups[name]


def _managed_policy(cls: Any, original_resource: Any, new_resource_name: str, cloudformation_json: dict[str, Any],
                    account_id: str, region_name: str) -> Any:
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    backend = iam_backends[account_id][get_partition(region_name)]
    props = cloudformation_json["Properties"]
    if props.get("ManagedPolicyName", original_resource.name) != original_resource.name:
        for role in list(original_resource.roles if hasattr(original_resource, "roles") else []):
            backend.detach_role_policy(original_resource.arn, role)
        backend.delete_policy(original_resource.arn)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
    policy = backend.get_policy(original_resource.arn)
    document = json.dumps(props.get("PolicyDocument"))
    current = next(v for v in policy.versions if v.is_default).document
    if json.loads(document) != json.loads(current):
        if len(policy.versions) >= 5:
            oldest = next(v for v in policy.versions if not v.is_default)
            backend.delete_policy_version(policy.arn, oldest.version_id)
        backend.create_policy_version(policy.arn, document, set_as_default=True)
    return policy


def _key(cls: Any, original_resource: Any, new_resource_name: str, cloudformation_json: dict[str, Any],
         account_id: str, region_name: str) -> Any:
    from moto.kms.models import kms_backends

    backend = kms_backends[account_id][region_name]
    props = cloudformation_json["Properties"]
    key_id = original_resource.id
    if "Description" in props:
        backend.update_key_description(key_id, props["Description"])
    if "KeyPolicy" in props:
        policy = props["KeyPolicy"]
        backend.put_key_policy(key_id, policy if isinstance(policy, str) else json.dumps(policy))
    if str(props.get("EnableKeyRotation", False)).lower() == "true":
        backend.enable_key_rotation(key_id)
    else:
        backend.disable_key_rotation(key_id)
    return backend.keys[key_id]
