"""Who signed a request, and the policies IAM attaches to them, read from moto's IAM and STS backends.

- a key from `sts:AssumeRole` is a session of that role (moto's STS backend of the role's account
  holds it); its identity policies are the role's inline and managed policies, capped by its
  permissions boundary;
- a key of an IAM user: the user's inline and managed policies (and boundary);
- the base key `testing` is the administrator of the organization's management account
  (ADMIN_ACCOUNT), the identity every test and the demo's bootstrap start from; the operator (a
  user of the tooling account, `org.py`) is an IAM user like any other;
- any other key is not a valid credential (AWS: InvalidClientTokenId).

The organization: every member account has `OrganizationAccountAccessRole` (administrator, trusting
the management account), as AWS Organizations creates it; `ensure_org_role` adds it to an account
the first time a request names that account's role.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from pipeline.local.authz.org import ADMIN_ACCOUNT, ADMIN_KEY  # the organization: org.py
from pipeline.local.iam.evaluate import Principal
from pipeline.local.iam.policy import Policy, PolicyError, parse_policy

ORG_ROLE = "OrganizationAccountAccessRole"
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
_PARTITION = "aws"


@dataclass(frozen=True)
class Identity:
    principal: Principal
    policies: tuple[Policy, ...]
    boundary: Policy | None = None
    session_policy: Policy | None = None


def _iam(account: str):  # noqa: ANN202 - moto's backend type
    from moto.iam.models import iam_backends

    return iam_backends[account][_PARTITION]


def _attached(owner: object, arn: str) -> list[Policy]:
    out = []
    for name, document in getattr(owner, "policies", {}).items():
        out.append(parse_policy(document, f"{arn} (inline {name})"))
    for policy_arn, managed in getattr(owner, "managed_policies", {}).items():
        version = next((v for v in managed.versions if v.is_default), managed.versions[0])
        out.append(parse_policy(version.document, policy_arn))
    return out


def _boundary(account: str, arn: str | None) -> Policy | None:
    if not arn:
        return None
    try:
        managed = _iam(account).get_policy(arn)
    except Exception:  # a boundary naming a policy that does not exist allows nothing
        return Policy(arn, ())
    version = next((v for v in managed.versions if v.is_default), managed.versions[0])
    return parse_policy(version.document, f"{arn} (boundary)")


def role_named(arn: str):  # noqa: ANN201 - moto's Role
    account = arn.split(":")[4]
    name = arn.rsplit("/", 1)[-1]
    if name == ORG_ROLE:
        ensure_org_role(account)
    try:
        return _iam(account).get_role(name)
    except Exception:
        return None


def role_policies(role: object, arn: str) -> tuple[tuple[Policy, ...], Policy | None]:
    account = arn.split(":")[4]
    return tuple(_attached(role, arn)), _boundary(account, getattr(role, "permissions_boundary_arn", None))


def resolve(access_key: str) -> Identity | None:
    if access_key == ADMIN_KEY:
        arn = f"arn:aws:iam::{ADMIN_ACCOUNT}:user/admin"
        return Identity(Principal(arn, ADMIN_ACCOUNT, "user", arn),
                        (parse_policy(ADMIN_POLICY, f"{arn} (AdministratorAccess)"),))
    from moto.iam.models import get_account_id_from
    from moto.sts.models import sts_backends

    account = get_account_id_from(access_key)
    session = sts_backends[account][_PARTITION].get_assumed_role_from_access_key(access_key)
    if session is not None:
        role_arn = session.role_arn
        principal = Principal(session.arn, account, "role", role_arn)
        role = role_named(role_arn)
        if role is None:
            return Identity(principal, ())
        policies, boundary = role_policies(role, role_arn)
        session_policy = parse_policy(session.policy, f"{session.arn} (session policy)") if session.policy else None
        return Identity(principal, policies, boundary, session_policy)
    user = _iam(account).get_user_from_access_key_id(access_key)
    if user is not None:
        principal = Principal(user.arn, account, "user", user.arn)
        return Identity(principal, tuple(_attached(user, user.arn)),
                        _boundary(account, getattr(user, "permissions_boundary_arn", None)))
    return None


def ensure_org_role(account: str) -> None:
    """The member account's OrganizationAccountAccessRole, as Organizations creates it."""
    if account == ADMIN_ACCOUNT:
        return
    iam = _iam(account)
    try:
        iam.get_role(ORG_ROLE)
        return
    except Exception:
        pass
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ADMIN_ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]}
    try:
        role = iam.create_role(ORG_ROLE, json.dumps(trust), "/", None, "created by AWS Organizations", [], None)
    except TypeError:  # other moto signatures
        role = iam.create_role(role_name=ORG_ROLE, assume_role_policy_document=json.dumps(trust), path="/",
                               permissions_boundary=None, description="", tags=[], max_session_duration=None)
    # Organizations made it with the account, long before anyone asks: IAM propagated it then (consistency.py
    # would otherwise refuse the first AssumeRole for the `aws` timing's propagation window)
    role.create_date = role.create_date - timedelta(days=1)
    iam.put_role_policy(ORG_ROLE, "AdministratorAccess", json.dumps(ADMIN_POLICY))


def trust_policy(role: object, arn: str) -> Policy:
    try:
        return parse_policy(role.assume_role_policy_document, f"{arn} (trust policy)")  # type: ignore[attr-defined]
    except PolicyError:
        return Policy(f"{arn} (trust policy)", ())
