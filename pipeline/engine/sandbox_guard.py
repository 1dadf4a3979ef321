"""Sandbox guardrails, the acting part: the boundary check before `up` writes anything, the cost
budget `up` keeps (and `down`/`gc` remove), and the one-writer-at-a-time deploy lock.

Each step observes first and writes only what differs, so a second `up` with nothing changed
writes nothing but its lock.
"""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pipeline.aws.sandbox_guard import GuardAWS, LockTaken
from pipeline.aws.session import SessionFactory
from pipeline.config.merged import PipelineConfig
from pipeline.core import sandbox as S
from pipeline.core import sandbox_guard as G
from pipeline.core.sandbox import role_name
from pipeline.engine.lock import process_gone, this_holder
from pipeline.engine.sandbox_account import Caller, open_caller
from pipeline.errors import RefusedError

LEASE_SECONDS = 900  # an `up` or `deploy` takes a few minutes at most; a crashed one frees the lock after this


def check_boundary(config: PipelineConfig, caller: Caller, guard: GuardAWS) -> None:
    """require_boundary: the caller's role must carry `<name>-sandbox-boundary` (exit 3, before any write)."""
    if not (config.sandbox and config.sandbox.require_boundary):
        return
    role = role_name(caller.arn)
    if role is None:
        raise RefusedError(f"sandbox refused: {config.directory}/sandbox.yml says require_boundary: true, but you "
                           f"act as {caller.arn}, not as a role with the {G.boundary_name(config.name)} boundary")
    if caller.role is None:
        raise RefusedError(f"sandbox refused: {config.directory}/sandbox.yml says require_boundary: true, but "
                           f"iam:GetRole on your role {role} was refused, so its boundary cannot be checked")
    found = (caller.role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    problem = G.boundary_problem(config, role, found, caller.account)
    if problem:
        raise RefusedError(problem)


def ensure_budget(guard: GuardAWS, config: PipelineConfig, name: str, owner: str, tags: dict[str, str]) -> str:
    """Create the budget, or bring its limit and notifications in line; what was done, in words."""
    spec = G.budget_spec(config, name, owner)
    found = guard.budget(spec.name)
    if found is not None and not G.budget_matches(found, spec):
        # Budgets has UpdateBudget, but a limit change is rare and delete+create keeps one code path
        # that the emulator answers too (moto has no UpdateBudget).
        guard.delete_budget(spec.name)
        guard.create_budget(spec, tags)
        return f"budget {spec.name} set to {G.amount(spec.limit_usd)} USD"
    if found is None:
        guard.create_budget(spec, tags)
        return f"budget {spec.name} created ({G.amount(spec.limit_usd)} USD, {len(spec.notifications())} alert(s))"
    added = guard.add_missing_notifications(spec, guard.notifications(spec.name))
    return f"budget {spec.name}: {added} alert(s) added" if added else f"budget {spec.name} unchanged"


def budget_status(guard: GuardAWS, name: str) -> dict[str, Any] | None:
    """Limit, actual and forecast spend (USD, as the API answers them), and how many alerts."""
    found = guard.budget(name)
    if found is None:
        return None
    spend = found.get("CalculatedSpend") or {}

    def usd(part: dict[str, Any] | None) -> str | None:
        return G.amount(float(part["Amount"])) if part and part.get("Amount") is not None else None

    return {"name": name, "limit_usd": usd(found.get("BudgetLimit")),
            "actual_usd": usd(spend.get("ActualSpend")), "forecast_usd": usd(spend.get("ForecastedSpend")),
            "alerts": len(guard.notifications(name))}


def untagged(states: list[Any], owner_key: str = S.TAG_OWNER) -> list[str]:
    """Names of stacks (or anything with .name and .tags) that lack the owner tag."""
    return [s.name for s in states if not s.tags.get(owner_key)]


def apply_boundary(config: PipelineConfig, factory: SessionFactory, region: str, services: tuple[str, ...]) -> str:
    """`sandbox boundary --apply`: the policy in the caller's account (guarded: never a pipeline account)."""
    caller = open_caller(config, factory)
    return GuardAWS(caller.session, caller.account, region).put_boundary(
        G.boundary_name(config.name), G.boundary_json(config.name, services))


def unlock(guard: GuardAWS, bucket: str, caller: Caller, label: str, force: bool, now: dt.datetime) -> str:
    """Free the deploy lock when it is ours, dead, or `force`; a live one of someone else's is exit 3."""
    seen = guard.read_lock(bucket, G.LOCK_KEY)
    if seen is None:
        return f"{label} is not locked"
    found = seen[0]
    from pipeline.core.records import Holder

    other = Holder(str(found.get("holder", "?")), found.get("host"), found.get("pid"))
    dead = G.lock_expired(found, now) or process_gone(other)
    if not (force or dead or other.actor == caller.arn):
        raise RefusedError(f"{label} is locked by {other.actor} (pid {other.pid} on {other.host}, since "
                           f"{found.get('acquired', '?')}), who may still be deploying: --force frees it anyway")
    guard.delete_lock(bucket, G.LOCK_KEY)
    return f"freed the lock of {label} (held by {other.actor}{', dead' if dead else ''})"


@contextmanager
def deploy_lock(guard: GuardAWS, bucket: str, caller: Caller, label: str, now: dt.datetime) -> Iterator[None]:
    """One `up`/`deploy` at a time per sandbox: a conditional put of the lock object, deleted at the end.
    A held lock refuses (exit 3, naming its holder) unless it is dead (lease over, or its process gone)."""
    holder = this_holder(caller.arn)
    body = G.lock_body(caller.arn, holder.host or socket.gethostname(), holder.pid or 0, holder.run or "", now,
                       LEASE_SECONDS)
    for _ in range(2):
        try:
            guard.put_lock(bucket, G.LOCK_KEY, body)
            break
        except LockTaken:
            seen = guard.read_lock(bucket, G.LOCK_KEY)
            if seen is None:
                continue  # freed between our put and our read: try once more
            found, _etag = seen
            from pipeline.core.records import Holder

            other = Holder(str(found.get("holder", "?")), found.get("host"), found.get("pid"))
            if G.lock_expired(found, now) or process_gone(other):
                guard.delete_lock(bucket, G.LOCK_KEY)
                continue
            raise RefusedError(f"{label} is locked: {other.actor} (pid {other.pid} on {other.host}, since "
                               f"{found.get('acquired', '?')}) is deploying it; try again when it is done") from None
    else:
        raise RefusedError(f"{label} is locked: another `sandbox up/deploy` took it first")
    try:
        yield
    finally:
        seen = guard.read_lock(bucket, G.LOCK_KEY)
        if seen is not None and seen[0].get("token") == (holder.run or ""):
            guard.delete_lock(bucket, G.LOCK_KEY)
