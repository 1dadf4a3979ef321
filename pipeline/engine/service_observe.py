"""The read phase of a multi-function service: every target's every function's `live` alias, in parallel.

As `engine.observe.LiveReads` for one function, the reads start when the object is made and run while the
caller reads the ledger; `observe` joins them into `core.observed.ServiceTarget` values. A `live` alias on
the bootstrap stub's version reads as what it is (runtime python3.12): the plan counts it as no release.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from pipeline.artifact.manifest import hex_sha256
from pipeline.aws.functions import FunctionAdapter, FunctionVersion
from pipeline.aws.ledger import LedgerView
from pipeline.config.merged import Environment, Target
from pipeline.core import records as R
from pipeline.core.function import LIVE_ALIAS
from pipeline.core.ledger import find_outcome
from pipeline.core.observed import ObservedTarget, ServiceTarget
from pipeline.engine.context import EngineContext
from pipeline.engine.observe import LiveRead


@dataclass(frozen=True)
class ServiceObservation:
    """One target of a service as read: each function's adapter and live alias, and the plain value."""

    target: Target
    fns: dict[str, FunctionAdapter]
    live: dict[str, FunctionVersion | None]
    state: ServiceTarget


def function_keys(env: Environment) -> list[str]:
    return [f.key for f in env.functions]


def read_function(ctx: EngineContext, env: Environment, target: Target, key: str) -> LiveRead:
    """One function's live alias (one call; the function itself when there is no alias yet)."""
    fn = ctx.function(env, target, key)
    live = fn.version(LIVE_ALIAS)
    return LiveRead(fn, live, live.runtime if live else fn.require().runtime)


def judge(env: Environment, target: Target, reads: dict[str, LiveRead], view: LedgerView,
          digest: str) -> ServiceObservation:
    """The reads of one target against the ledger: did the release `digest` pass here last?"""
    newest = find_outcome(view.newest_first(), target={"account": target.account, "region": target.region},
                          outcome=R.PASSED)
    passed_here = bool(newest and R.artifact(newest) == digest)
    states = tuple((k, ObservedTarget(target.account, target.region, r.runtime, r.live.version if r.live else None,
                                      hex_sha256(r.live.code_sha256) if r.live else None, passed_here))
                   for k, r in reads.items())
    return ServiceObservation(target, {k: r.fn for k, r in reads.items()}, {k: r.live for k, r in reads.items()},
                              ServiceTarget(target.account, target.region, states, passed_here))


class ServiceReads:
    """Every (target, function) live alias read in threads from the moment it is made."""

    def __init__(self, ctx: EngineContext, env: Environment) -> None:
        self.ctx, self.env = ctx, env
        self.keys = function_keys(env)
        width = max(1, min(len(env.targets), env.wave_size)) * len(self.keys)
        self._pool = ThreadPoolExecutor(max_workers=min(width, 16))
        self._reads: dict[tuple[int, str], Future[LiveRead]] | None = self._submit()

    def _submit(self) -> dict[tuple[int, str], Future[LiveRead]]:
        ctx, env = self.ctx, self.env
        return {(i, k): self._pool.submit(read_function, ctx, env, t, k)
                for i, t in enumerate(env.targets) for k in self.keys}

    def __enter__(self) -> ServiceReads:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def discard(self) -> None:
        self._reads = None

    def observe(self, view: LedgerView, digest: str) -> list[ServiceObservation]:
        if self._reads is None:
            self._reads = self._submit()
        reads = self._reads
        return [judge(self.env, t, {k: reads[(i, k)].result() for k in self.keys}, view, digest)
                for i, t in enumerate(self.env.targets)]

