"""Recovery from a run that died (or whose lock was broken): make the env run only verified code.

Observe: the open `started` record, which of its targets have no outcome yet, and where each
one's alias points now. Decide: `core.plan.reconcile_plan` (alias back to what the started
record says it pointed at before; an alias the dead run created is removed). Act: the
executor. Record: an ABORTED outcome per target closes the lock (or an `unlock` record when
every target already had an outcome).
"""

from __future__ import annotations

from pipeline.aws.ledger import LedgerView
from pipeline.config.merged import Environment, Target
from pipeline.core import records as R
from pipeline.core.function import LIVE_ALIAS
from pipeline.core.ledger import LockState, target_key
from pipeline.core.observed import PendingTarget
from pipeline.core.plan import reconcile_plan
from pipeline.engine.context import EngineContext
from pipeline.engine.executor import Executor, TargetRun
from pipeline.engine.recorder import Recorder


def reconcile(ctx: EngineContext, env: Environment, view: LedgerView, lock: LockState, why: str = "") -> list[str]:
    started = lock.started
    assert started is not None
    holder = R.holder(started).actor
    reason = why or f"{R.action(started)} by {holder} ({started.key}) did not finish"
    ctx.out.progress(f"{env.name}: reconciling: {reason}")
    # observe
    done = {target_key(r.get("target")) for r in view.newest_first() if r.seq > started.seq and r.type == "outcome"}
    runs: list[TargetRun] = []
    pending: list[PendingTarget] = []
    functions = {}
    for ref in R.targets(started):
        if ref.label in done:
            continue
        fn = ctx.function(env, Target(ref.account, ref.region))
        live = fn.version(LIVE_ALIAS)
        pending.append(PendingTarget(ref.account, ref.region, R.previous_version(started, ref.label),
                                     live.version if live else None))
        functions[ref.label] = (Target(ref.account, ref.region), fn, live)
    # decide
    plan = reconcile_plan(env.name, R.artifact(started), pending, reason)
    # act
    executor = Executor(lambda _line: None)
    for target_plan in plan.targets:
        target, fn, live = functions[target_plan.label]
        run = TargetRun(target, fn, target_plan, live)
        runs.append(run)
        for step in target_plan.steps:
            executor.do(run, step)
    # record
    recorder = Recorder(ctx.ledger, view, ctx.now)
    for i, run in enumerate(runs):
        p = run.plan
        assert isinstance(p.target, PendingTarget) and p.record.outcome is not None
        recorder.append(R.outcome(action=R.action(started), started_seq=started.seq, target=run.ref,
                                  artifact=R.artifact(started), commit=R.commit(started), outcome=p.record.outcome,
                                  reason=p.record.reason, version=None, previous_version=p.target.before,
                                  actor=ctx.actor, closes=i == len(runs) - 1))
    if not runs:
        recorder.append(R.unlock(started_seq=started.seq, actor=ctx.actor,
                                 reason=f"{reason}; every target already had an outcome"))
    notes = [run.plan.record.reason.removeprefix(f"{reason}; ") for run in runs]
    for note in notes:
        ctx.out.progress(f"  {note}")
    return notes
