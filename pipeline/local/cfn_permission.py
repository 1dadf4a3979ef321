"""`AWS::Lambda::Permission` as Lambda's AddPermission makes it (moto's own model drops the Qualifier).

moto's model appends the raw CloudFormation properties to the function's policy: no statement id a
delete could find, the alias in `FunctionName` (an alias ARN, or a name with `Qualifier`) not the
statement's resource, no update, no delete. Here create calls the backend's `add_permission` with the
function name and qualifier parsed out as the API does (so the statement's Resource is the alias ARN
and an API Gateway request on that alias finds it), a missing function or alias fails the resource, and
delete removes the statement by its id. Every property of this type requires replacement on AWS:
an update makes a new statement and removes the old one. `!Ref` is the statement id.
"""

from __future__ import annotations

import json
import re
from typing import Any

_ARN = re.compile(r"^arn:[\w-]+:lambda:(?P<region>[\w-]+):(?P<account>\d{12}):function:(?P<name>[^:]+)"
                  r"(?::(?P<qualifier>[^:]+))?$")
_FIELDS = ("Action", "Principal", "SourceArn", "SourceAccount", "EventSourceToken", "PrincipalOrgID",
           "FunctionUrlAuthType")


def _where(props: dict[str, Any], account_id: str, region_name: str) -> tuple[str, str, str, str | None]:
    """(account, region, function name, qualifier) of the function the permission is on."""
    ref = str(props.get("FunctionName") or "")
    qualifier = props.get("Qualifier")
    match = _ARN.match(ref)
    if match is not None:
        if qualifier and match["qualifier"] and qualifier != match["qualifier"]:
            raise ValueError("The derived qualifier from the function name does not match the specified qualifier.")
        return match["account"], match["region"], match["name"], match["qualifier"] or qualifier
    name, _, inline = ref.partition(":")
    return account_id, region_name, name, inline or qualifier


def _backend(account_id: str, region_name: str) -> Any:
    from moto.awslambda.models import lambda_backends

    return lambda_backends[account_id][region_name]


def define(base: type) -> type:
    """The model class (defined once moto is imported: it must subclass moto's CloudFormationModel)."""

    class StackPermission(base):  # type: ignore[misc,valid-type]
        def __init__(self, sid: str, where: tuple[str, str, str, str | None]) -> None:
            self.sid, self.where = sid, where

        @property
        def physical_resource_id(self) -> str:
            return self.sid

        @staticmethod
        def cloudformation_name_type() -> str:
            return ""

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Lambda::Permission"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return False

        def is_created(self) -> bool:
            return True

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                            account_id: str, region_name: str, **kwargs: Any) -> StackPermission:
            props = cloudformation_json["Properties"]
            for required in ("Action", "FunctionName", "Principal"):
                if not props.get(required):
                    raise ValueError(f"Property {required} cannot be empty.")
            where = _where(props, account_id, region_name)
            statement = {"StatementId": resource_name, **{k: props[k] for k in _FIELDS if props.get(k) is not None}}
            backend = _backend(where[0], where[1])
            if where[3] and not where[3].isdigit() and where[3] != "$LATEST":
                backend.get_alias(where[3], where[2])  # a missing alias fails as AddPermission does
            backend.add_permission(where[2], where[3], json.dumps(statement))
            return cls(resource_name, where)

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                            cloudformation_json: dict[str, Any], account_id: str,
                                            region_name: str) -> StackPermission:
            made = cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id,
                                                       region_name)
            if original_resource is not None and original_resource.sid != made.sid:
                original_resource.delete(account_id, region_name)
            return made

        @classmethod
        def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                            account_id: str, region_name: str) -> None:
            props = cloudformation_json.get("Properties") or {}
            cls(resource_name, _where(props, account_id, region_name)).delete(account_id, region_name)

        def delete(self, account_id: str, region_name: str) -> None:
            owner, region, name, _ = self.where
            try:
                function = _backend(owner, region).get_function(name)
            except Exception:
                return  # the function is gone, and its policy with it
            if any(s.get("Sid") == self.sid for s in function.policy.statements):
                function.policy.del_statement(self.sid)

    return StackPermission
