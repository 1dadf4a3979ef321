"""Keep moto's own bucket-policy check from denying what AWS allows.

moto's object GET/PUT consult the bucket policy with every Condition ignored, so a conditional
Deny such as the tooling bucket's DenyInsecureTransport (`aws:SecureTransport: false`) denied every
request, the owner's included, once CloudFormation really put the policy on the bucket. Here
statements with a Condition are left out of moto's check (the emulator's IAM evaluation is the place
that can judge them with the request's context); moto keeps judging the unconditional ones.
`install()` is idempotent.
"""

from __future__ import annotations

import json
from typing import Any

_INSTALLED = False


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        document = json.loads(self.policy.decode())
        statements = document.get("Statement", [])
        statements = [s for s in (statements if isinstance(statements, list) else [statements]) if "Condition" not in s]
        if not statements:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps({**document, "Statement": statements})).is_action_permitted(action, resource)

    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]
    _INSTALLED = True
