"""The read phase shared by promote and rollback: each target's live alias and what the ledger says of it.

Reads only; promote reads the live aliases (target accounts) while it reads the ledger (the tooling bucket).
The values it returns (`Observation.state`) are what the pure core decides on.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

from pipeline.artifact.manifest import hex_sha256
from pipeline.aws.functions import FunctionAdapter, FunctionVersion
from pipeline.aws.ledger import LedgerView
from pipeline.config.merged import Environment, Target
from pipeline.core import records as R
from pipeline.core.function import LIVE_ALIAS
from pipeline.core.ledger import Record, find_outcome
from pipeline.core.observed import ObservedTarget
from pipeline.engine.context import EngineContext

PREDECESSOR_WINDOW = 200  # records walked back when looking for a passed record


@dataclass(frozen=True)
class Observation:
    """One target as read: its adapter, the live alias's version, and the plain observed value."""

    target: Target
    fn: FunctionAdapter
    live: FunctionVersion | None
    state: ObservedTarget


class LiveRead(NamedTuple):
    """What a target runs, as read from Lambda: its adapter, the live alias (None before the first release) and
    the runtime (the function's own when there is no alias yet)."""

    fn: FunctionAdapter
    live: FunctionVersion | None
    runtime: str | None


def read_live(ctx: EngineContext, env: Environment, target: Target) -> LiveRead:
    """The live alias (one call; the function itself when there is no alias yet)."""
    fn = ctx.function(env, target)
    live = fn.version(LIVE_ALIAS)
    return LiveRead(fn, live, live.runtime if live else fn.require().runtime)


def observe_target(ctx: EngineContext, env: Environment, target: Target, view: LedgerView, digest: str,
                   read: LiveRead | None = None) -> Observation:
    """The live alias (read now unless `read` has it) and the ledger's word on it."""
    # Failed, rolled-back and aborted runs put the alias back, so what runs here by the ledger's
    # account is the newest PASSED outcome; the live alias is checked against it separately.
    newest = find_outcome(view.newest_first(), target={"account": target.account, "region": target.region},
                          outcome=R.PASSED)
    passed_here = bool(newest and R.artifact(newest) == digest)
    fn, live, runtime = read or read_live(ctx, env, target)
    return Observation(target, fn, live, ObservedTarget(target.account, target.region, runtime,
                                                        live.version if live else None,
                                                        hex_sha256(live.code_sha256) if live else None, passed_here))


class LiveReads:
    """Every target's live alias read in threads from the moment it is made, while the caller reads the ledger
    (another account's bucket: the two do not wait on each other). `observe` joins them; a read that failed
    raises there, after the ledger's own errors."""

    def __init__(self, ctx: EngineContext, env: Environment) -> None:
        self.ctx, self.env = ctx, env
        self._pool = ThreadPoolExecutor(max_workers=max(1, min(len(env.targets), env.wave_size)))
        self._reads: list[Future[LiveRead]] | None = [self._pool.submit(read_live, ctx, env, t) for t in env.targets]

    def __enter__(self) -> LiveReads:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def discard(self) -> None:
        """The world changed since the reads began (a dead lock was reconciled): `observe` reads again."""
        self._reads = None

    def observe(self, view: LedgerView, digest: str) -> list[Observation]:
        """Every target as read, judged against `view`; read again (in parallel) after `discard`."""
        env = self.env
        if self._reads is None:
            self._reads = [self._pool.submit(read_live, self.ctx, env, t) for t in env.targets]
        return [observe_target(self.ctx, env, t, view, digest, read.result())
                for t, read in zip(env.targets, self._reads, strict=True)]


def window(view: LedgerView) -> Iterator[Record]:
    for i, record in enumerate(view.newest_first()):
        if i >= PREDECESSOR_WINDOW:
            return
        yield record
