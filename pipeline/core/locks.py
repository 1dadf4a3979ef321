"""When a promotion lock is dead: the pure rule every writer (and `verify`) applies. Pure.

A held lock is dead when its lease expired, when its holder ran on this host and that process
is gone, or when its holder ran in CodeBuild and that build has ended. A dead lock is
reconciled by the next writer; a live one refuses it (exit 3, naming the holder).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pipeline.core import records as R
from pipeline.core.ledger import LockState


@dataclass(frozen=True)
class HolderFacts:
    """What was observed about a lock's holder outside the ledger."""

    process_gone: bool = False  # it ran on this host and its pid no longer exists
    build_status: str | None = None  # CodeBuild buildStatus of the holder's build (None: no build / unknown)
    build_complete: bool = False


def dead_reason(lock: LockState, now: dt.datetime, facts: HolderFacts) -> str | None:
    """Why the held lock is dead, or None while its holder may still be working."""
    if lock.started is None:
        return None
    holder = R.holder(lock.started)
    if lock.lease_expires is not None and lock.lease_expires < now:
        return f"its lease expired at {lock.lease_expires.isoformat()[:19]}Z"
    if facts.process_gone:
        return f"its process {holder.pid} on {holder.host} is gone"
    if holder.build_id and (facts.build_complete or (facts.build_status not in (None, "IN_PROGRESS"))):
        return f"its CodeBuild build {holder.build_id} has ended ({facts.build_status or 'complete'})"
    return None


def age_seconds(lock: LockState, now: dt.datetime) -> float | None:
    started_at = lock.started.time if lock.started else None
    return (now - started_at).total_seconds() if started_at else None


def held_message(env: str, lock: LockState, now: dt.datetime) -> str:
    """`<env> is locked by <actor> (<key>, for <age>)`: what a refused writer prints."""
    assert lock.started is not None
    age = age_seconds(lock, now)
    return (f"{env} is locked by {R.holder(lock.started).actor} ({lock.started.key}"
            + (f", held for {age:.0f}s" if age is not None else "") + ")")
