"""AWS's policy evaluation logic for one request: who, what action, on what, in which context.

Order, as AWS documents it (single account, then cross-account):
1. an explicit Deny in any applicable policy (identity, permissions boundary, resource) denies;
2. same account: an Allow in an identity policy (capped by the boundary, when one is set) allows,
   and so does a resource policy naming the principal itself; a resource policy naming only the
   account (`arn:aws:iam::<account>:root` or the bare id) delegates to the identity policies;
3. KMS key policies and role trust policies are required: without their Allow (direct, or through
   the account delegation plus an identity Allow) nothing allows;
4. cross-account: the identity side (identity policy and boundary) AND the resource policy must
   both allow.
Service principals (`lambda.amazonaws.com`) only ever match a resource policy's `Service`.
SCPs, RCPs and session policies are not modelled (README says so).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pipeline.local.iam.conditions import Context, conditions_hold
from pipeline.local.iam.policy import Policy, Statement, glob_match, statement_applies


@dataclass(frozen=True)
class Principal:
    arn: str  # as the caller is named in errors and aws:PrincipalArn's source
    account: str
    kind: str = "role"  # "role" (an assumed-role session), "user", "root", "service"
    identity_arn: str = ""  # the IAM role or user ARN (aws:PrincipalArn); the service name for services

    @property
    def principal_arn(self) -> str:
        return self.identity_arn or self.arn


@dataclass(frozen=True)
class Request:
    principal: Principal
    action: str
    resource: str
    context: Mapping[str, Sequence[str]] = field(default_factory=dict)
    resource_account: str | None = None  # the account owning the resource (None: the principal's)


@dataclass(frozen=True)
class Matched:
    policy: str
    statement: str
    effect: str


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # "allowed" or AWS's "because ..." clause
    matched: tuple[Matched, ...] = ()

    def message(self, request: Request) -> str:
        return (f"User: {request.principal.arn} is not authorized to perform: {request.action} "
                f"on resource: {request.resource} {self.reason}")


def principal_match(principals: Mapping[str, tuple[str, ...]], who: Principal) -> str | None:
    """"direct" when the element names the caller (or `*`), "account" when it names its account only."""
    found: str | None = None
    for kind, values in principals.items():
        for value in values:
            if kind == "*" or (kind == "AWS" and value == "*"):
                if who.kind != "service":
                    return "direct"
            elif kind == "Service":
                if who.kind == "service" and value.lower() == who.identity_arn.lower():
                    return "direct"
            elif kind == "AWS" and who.kind != "service":
                if value in (who.account, f"arn:aws:iam::{who.account}:root"):
                    found = "account" if who.kind != "root" else "direct"
                elif value in (who.arn, who.identity_arn) or glob_match(value, who.identity_arn):
                    return "direct"
    return found


def _statement_matches(statement: Statement, request: Request, context: Context) -> bool:
    return statement_applies(statement, request.action, request.resource) and \
        conditions_hold(statement.conditions, context)


def _context(request: Request) -> dict[str, Sequence[str]]:
    ctx = {key.lower(): value for key, value in request.context.items()}
    who = request.principal
    ctx.setdefault("aws:principalarn", [who.principal_arn])
    ctx.setdefault("aws:principalaccount", [who.account])
    if who.kind == "service":
        ctx.pop("aws:principalarn")
        ctx.pop("aws:principalaccount")
        ctx.setdefault("aws:principalservicename", [who.identity_arn])
    return ctx


@dataclass(frozen=True)
class Policies:
    identity: Sequence[Policy] = ()
    boundary: Policy | None = None
    resource: Policy | None = None
    resource_required: bool = False  # KMS key policy, role trust policy


def _scan(policies: Sequence[Policy], request: Request, ctx: Context, with_principal: bool) \
        -> tuple[list[Matched], list[tuple[Matched, str]]]:
    denies: list[Matched] = []
    allows: list[tuple[Matched, str]] = []
    for policy in policies:
        for st in policy.statements:
            how = "identity"
            if with_principal:
                if st.principals is not None:
                    how = principal_match(st.principals, request.principal) or ""
                    if not how:
                        continue
                elif st.not_principals is not None:
                    if principal_match(st.not_principals, request.principal):
                        continue
                    how = "direct"
                else:
                    continue
            if not _statement_matches(st, request, ctx):
                continue
            hit = Matched(policy.name, st.label, st.effect)
            if st.effect == "Deny":
                denies.append(hit)
            else:
                allows.append((hit, how))
    return denies, allows


def evaluate(request: Request, policies: Policies) -> Decision:
    ctx = _context(request)
    who = request.principal
    identity = () if who.kind == "service" else tuple(policies.identity)
    id_deny, id_allow = _scan(identity, request, ctx, with_principal=False)
    bd_deny, bd_allow = _scan([policies.boundary] if policies.boundary and identity else [], request, ctx, False)
    rs_deny, rs_allow = _scan([policies.resource] if policies.resource else [], request, ctx, True)
    for denies, kind in ((rs_deny, "a resource-based policy"), (id_deny, "an identity-based policy"),
                         (bd_deny, "a permissions boundary")):
        if denies:
            return Decision(False, f"with an explicit deny in {kind}", tuple(denies))
    boundary_ok = policies.boundary is None or bool(bd_allow)
    identity_ok = bool(id_allow) and boundary_ok
    direct = [m for m, how in rs_allow if how == "direct"]
    delegated = [m for m, how in rs_allow if how == "account"]
    same_account = request.resource_account in (None, who.account)
    used = tuple(m for m, _ in id_allow) + tuple(m for m, _ in bd_allow)
    if who.kind == "service":
        if direct:
            return Decision(True, "allowed", tuple(direct))
        return Decision(False, f"because no resource-based policy allows the {request.action} action")
    if same_account and not policies.resource_required:
        if identity_ok:
            return Decision(True, "allowed", used)
        if direct and (boundary_ok or _names_session(policies.resource, who)):
            return Decision(True, "allowed", tuple(direct))
        return _deny_reason(request, policies, bool(id_allow), boundary_ok)
    if same_account:  # resource policy required (KMS key, trust policy)
        if direct and boundary_ok:
            return Decision(True, "allowed", tuple(direct) + used)
        if delegated and identity_ok:
            return Decision(True, "allowed", tuple(delegated) + used)
        if not rs_allow:
            return Decision(False, f"because no resource-based policy allows the {request.action} action")
        return _deny_reason(request, policies, bool(id_allow), boundary_ok)
    if not identity_ok:
        return _deny_reason(request, policies, bool(id_allow), boundary_ok)
    if rs_allow:
        return Decision(True, "allowed", tuple(m for m, _ in rs_allow) + used)
    return Decision(False, f"because no resource-based policy allows the {request.action} action")


def _names_session(policy: Policy | None, who: Principal) -> bool:
    return policy is not None and any(who.arn in (st.principals or {}).get("AWS", ()) for st in policy.statements)


def _deny_reason(request: Request, policies: Policies, identity_allowed: bool, boundary_ok: bool) -> Decision:
    if identity_allowed and not boundary_ok:
        return Decision(False, f"because no permissions boundary allows the {request.action} action")
    return Decision(False, f"because no identity-based policy allows the {request.action} action")
