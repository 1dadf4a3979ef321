"""`status`'s "next" column: the facts `promote --to E` would read, judged by the same gates (read-only).

Observe: the artifact promote would pick (`engine.promote.candidate`), whether it was rolled back
here, and the gate facts (`engine.promote.observe_gates`: the predecessor's ledger, the staged
object and its replica in each other target region, alarms, the lock). Decide:
`core.gates.evaluate`, then `core.nextstep.decide` says what that means. A dead lock counts as
free: the next promote reconciles it before its gates.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.aws.ledger import LedgerView
from pipeline.config.merged import Environment
from pipeline.core import gates as G
from pipeline.core import nextstep as N
from pipeline.core.ledger import LockState
from pipeline.engine.context import EngineContext
from pipeline.engine.promote import candidate, observe_gates, observe_replicas
from pipeline.engine.state import TargetStatus


def next_step(ctx: EngineContext, env: Environment, views: dict[str, LedgerView], lock: LockState, dead: str | None,
              live: Sequence[TargetStatus]) -> N.NextStep:
    requires = env.gates.requires
    if any(s.function_missing for s in live):
        return N.not_bootstrapped(env.name)
    requires_view = None
    if requires:
        requires_view = views.get(requires) or ctx.ledger.view(requires)
        views[requires] = requires_view
    digest = candidate(ctx, env, requires_view)
    if digest is None:
        return N.nothing(env.name, requires)
    current = all(s.live_sha256 == digest and s.expected_sha256 == digest and not s.findings for s in live)
    back = None if current else N.rolled_back(views[env.name].newest_first(), digest)
    gates: list[G.GateResult] = []
    if not current:
        staged = ctx.store.head(digest)
        facts = observe_gates(ctx, env, digest, staged, LockState(None, None) if dead else lock, False, None, None,
                              requires_view=requires_view, replicas=observe_replicas(ctx, env, digest, staged))
        gates = G.evaluate(facts)
    return N.decide(env.name, digest, current=current, back=back, gates=gates)
