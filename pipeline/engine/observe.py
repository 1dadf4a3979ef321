"""The read phase shared by promote and rollback: each target's live alias and what the ledger says of it.

Reads only. The values it returns (`Observation.state`) are what the pure core decides on.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

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


def observe_target(ctx: EngineContext, env: Environment, target: Target, view: LedgerView,
                   digest: str) -> Observation:
    """The live alias (one call; the function itself when there is no alias yet) and the ledger's word."""
    # Failed, rolled-back and aborted runs put the alias back, so what runs here by the ledger's
    # account is the newest PASSED outcome; the live alias is checked against it separately.
    newest = find_outcome(view.newest_first(), target={"account": target.account, "region": target.region},
                          outcome=R.PASSED)
    passed_here = bool(newest and R.artifact(newest) == digest)
    fn = ctx.function(env, target)
    live = fn.version(LIVE_ALIAS)
    runtime = live.runtime if live else fn.require().runtime
    return Observation(target, fn, live, ObservedTarget(target.account, target.region, runtime,
                                                        live.version if live else None,
                                                        hex_sha256(live.code_sha256) if live else None, passed_here))


def observe_targets(ctx: EngineContext, env: Environment, view: LedgerView, digest: str) -> list[Observation]:
    """Every target; read in parallel (each is its own account/region)."""
    if len(env.targets) == 1:
        return [observe_target(ctx, env, env.targets[0], view, digest)]
    with ThreadPoolExecutor(max_workers=min(len(env.targets), env.wave_size)) as pool:
        return list(pool.map(lambda t: observe_target(ctx, env, t, view, digest), env.targets))


def window(view: LedgerView) -> Iterator[Record]:
    for i, record in enumerate(view.newest_first()):
        if i >= PREDECESSOR_WINDOW:
            return
        yield record
