"""One env's promotion lock, used the same way by every writer (promote, rollback, unlock).

The lock is the ledger's open `started` record. Every writer: reads it (`observe`), puts a dead
one right (`clear_dead`: reconcile), refuses a live one naming its holder (exit 3), refuses a
tampered ledger (exit 3), and takes it with a conditional put (`acquire`: losing that race is
exit 3 naming the winner too, never a raw conflict). Long runs renew its lease (`Lease`).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid

from pipeline.aws.codebuild import build_state
from pipeline.aws.ledger import LedgerConflict, LedgerView
from pipeline.config.merged import Environment
from pipeline.core import records as R
from pipeline.core.ledger import LockState, Record, lock_state
from pipeline.core.locks import HolderFacts, dead_reason, held_message
from pipeline.core.plan import lease_seconds
from pipeline.engine.context import EngineContext
from pipeline.engine.reconcile import reconcile
from pipeline.engine.recorder import Recorder
from pipeline.errors import RefusedError


def this_holder(actor: str) -> R.Holder:
    """This process as a lock holder (the CodeBuild build id too, when it runs in CodeBuild)."""
    return R.Holder(actor, socket.gethostname(), os.getpid(), uuid.uuid4().hex,
                    os.environ.get("CODEBUILD_BUILD_ID") or None)


def process_gone(holder: R.Holder) -> bool:
    """True only when the holder ran on this host and its process no longer exists."""
    if holder.host != socket.gethostname() or holder.pid is None or holder.pid == os.getpid():
        return False
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def env_lease_seconds(env: Environment) -> int:
    canary = env.strategy.canary
    return lease_seconds(canary.bake_seconds if canary else None, len(env.smoke))


class EnvLock:
    def __init__(self, ctx: EngineContext, env: Environment) -> None:
        self.ctx = ctx
        self.env = env

    def observe(self) -> tuple[LedgerView, LockState]:
        view = self.ctx.ledger.view(self.env.name)
        return view, lock_state(view.newest_first())

    def holder_facts(self, lock: LockState) -> HolderFacts:
        """What the process table and CodeBuild say of the holder (CodeBuild asked only for a CI holder)."""
        if lock.started is None:
            return HolderFacts()
        holder = R.holder(lock.started)
        build = None
        if holder.build_id:
            build = build_state(self.ctx.tooling, self.ctx.config.tooling.region, holder.build_id)
        return HolderFacts(process_gone(holder), build.status if build else None,
                           bool(build and build.complete))

    def dead(self, lock: LockState) -> str | None:
        """Why the held lock is dead (None: free, or its holder may still be working)."""
        if not lock.held:
            return None
        return dead_reason(lock, self.ctx.now(), self.holder_facts(lock))

    def clear_dead(self, view: LedgerView, lock: LockState) -> tuple[LedgerView, LockState]:
        """A dead lock is reconciled (the env back on verified code, ABORTED recorded); then read again."""
        if not lock.held or self.dead(lock) is None:
            return view, lock
        reconcile(self.ctx, self.env, view, lock)
        return self.observe()

    def refuse_held(self, lock: LockState) -> None:
        if lock.held:
            raise RefusedError(held_message(self.env.name, lock, self.ctx.now()))

    def refuse_tampered(self, what: str) -> None:
        """Decisions rest on ledger records: refuse (exit 3) when those read so far show tampering."""
        problems = self.ctx.ledger.tampering()
        if problems:
            raise RefusedError(f"{what} refused: the ledger was tampered with: {problems[0]}"
                               + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
                               + "; run `pipeline verify`", details=problems)

    def lease_seconds(self) -> int:
        return env_lease_seconds(self.env)

    def lease_until(self) -> dt.datetime:
        return self.ctx.now() + dt.timedelta(seconds=self.lease_seconds())

    def acquire(self, recorder: Recorder, fields: dict) -> Record:
        """Write the `started` record right after the tip we observed; someone else there: exit 3 naming them."""
        try:
            return recorder.start(fields)
        except LedgerConflict:
            view, lock = self.observe()
            holder = R.holder(lock.started).actor if lock.started else "another writer"
            where = lock.started.key if lock.started else view.tip.key if view.tip else ""
            action = R.action(lock.started) if lock.started else "promotion"
            raise RefusedError(f"{self.env.name} is locked: {holder} started a "
                               f"{'promotion' if action == 'promote' else action} first ({where})") from None

    def renew(self, recorder: Recorder, started_seq: int) -> None:
        recorder.append(R.lease(started_seq=started_seq, lease_expires=self.lease_until(), actor=self.ctx.actor))

    def break_lock(self, view: LedgerView, lock: LockState) -> list[str]:
        """`unlock --force`: reconcile a lock whatever its holder's state, saying who broke it."""
        assert lock.started is not None
        holder = R.holder(lock.started).actor
        return reconcile(self.ctx, self.env, view, lock,
                         why=f"lock of {holder} ({lock.started.key}) broken by {self.ctx.actor} with --force")
