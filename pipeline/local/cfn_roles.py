"""Make moto's `AWS::IAM::Role` apply what CloudFormation applies: managed policies and every update.

moto 5.2 creates a role's inline `Policies` but drops `ManagedPolicyArns`, and its update changes
only the description: a changed trust policy, inline policy, managed policy list or permissions
boundary stayed as first created while the stack said UPDATE_COMPLETE; and it kept each inline policy
as a dict, so GetRolePolicy answered its Python repr instead of JSON. Here create puts the inline
policies as JSON documents and attaches the managed policies, and an in-place update (same RoleName) puts
the new trust policy, inline policies (removing the ones no longer listed), managed policies and boundary
through moto's IAM backend, as the IAM calls would; delete detaches the managed policies first (IAM
refuses otherwise). `install()` is idempotent.
"""

from __future__ import annotations

import json
from typing import Any

_INSTALLED = False


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.iam.models import Role

    create = Role.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    update = Role.update_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_role(cls: Any, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
                    region_name: str, **kwargs: Any) -> Any:
        role = create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        backend = _backend(account_id, region_name)
        for policy in cloudformation_json["Properties"].get("Policies") or []:  # as JSON, not moto's dict
            backend.put_role_policy(role.name, policy["PolicyName"], _document(policy["PolicyDocument"]))
        for arn in cloudformation_json["Properties"].get("ManagedPolicyArns") or []:
            backend.attach_role_policy(arn, role.name)
        return role

    def update_role(cls: Any, original_resource: Any, new_resource_name: str, cloudformation_json: dict[str, Any],
                    account_id: str, region_name: str) -> Any:
        props = cloudformation_json["Properties"]
        name = props.get("RoleName", original_resource.name)
        if name != original_resource.name:  # a new RoleName replaces the role
            cls.delete_from_cloudformation_json(original_resource.name, cloudformation_json, account_id, region_name)
            return create_role(cls, new_resource_name, cloudformation_json, account_id, region_name)
        update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)
        _apply(_backend(account_id, region_name), name, props)
        return _backend(account_id, region_name).get_role(name)

    delete = Role.delete_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def delete_role(cls: Any, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
                    region_name: str) -> None:
        backend = _backend(account_id, region_name)
        role = next((r for r in backend.roles.values() if r.name == resource_name), None)
        for arn in list(role.managed_policies) if role is not None else []:  # IAM refuses to delete attached roles
            backend.detach_role_policy(arn, resource_name)
        delete(cls, resource_name, cloudformation_json, account_id, region_name)

    Role.delete_from_cloudformation_json = classmethod(delete_role)  # type: ignore[method-assign,assignment]
    Role.create_from_cloudformation_json = classmethod(create_role)  # type: ignore[method-assign,assignment]
    Role.update_from_cloudformation_json = classmethod(update_role)  # type: ignore[method-assign,assignment]
    _INSTALLED = True


def _backend(account_id: str, region_name: str) -> Any:
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    return iam_backends[account_id][get_partition(region_name)]


def _document(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _apply(backend: Any, name: str, props: dict[str, Any]) -> None:
    role = backend.get_role(name)
    backend.update_assume_role_policy(name, _document(props["AssumeRolePolicyDocument"]))
    wanted = {p["PolicyName"]: _document(p["PolicyDocument"]) for p in props.get("Policies") or []}
    for policy_name in [p for p in role.policies if p not in wanted]:
        backend.delete_role_policy(name, policy_name)
    for policy_name, document in wanted.items():
        backend.put_role_policy(name, policy_name, document)
    managed = set(props.get("ManagedPolicyArns") or [])
    for arn in [a for a in role.managed_policies if a not in managed]:
        backend.detach_role_policy(arn, name)
    for arn in sorted(managed - set(role.managed_policies)):
        backend.attach_role_policy(arn, name)
    boundary = props.get("PermissionsBoundary")
    if boundary and boundary != role.permissions_boundary_arn:
        backend.put_role_permissions_boundary(name, boundary)
    elif not boundary and role.permissions_boundary_arn:
        backend.delete_role_permissions_boundary(name)
