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
    keys: list[str] = []  # each pending alias's function key ("" in the one-function service)
    for ref in R.targets(started):
        if ref.label in done:
            continue
        # a service's release names every function's alias from before; the one-function shape, one
        for key, before in R.previous_versions(started, ref.label).items():
            fn = ctx.function(env, Target(ref.account, ref.region), key)
            live = fn.version(LIVE_ALIAS)
            pending.append(PendingTarget(ref.account, ref.region, before, live.version if live else None))
            functions[len(pending) - 1] = (Target(ref.account, ref.region), fn, live)
            keys.append(key)
    # decide
    plan = reconcile_plan(env.name, R.artifact(started), pending, reason)
    # act
    executor = Executor(lambda _line: None)
    for i, target_plan in enumerate(plan.targets):
        target, fn, live = functions[i]
        run = TargetRun(target, fn, target_plan, live)
        runs.append(run)
        for step in target_plan.steps:
            executor.do(run, step)
    # record: one outcome per target (a service's names every function)
    recorder = Recorder(ctx.ledger, view, ctx.now)
    by_target: dict[str, list[tuple[str, TargetRun]]] = {}
    for key, run in zip(keys, runs, strict=True):
        by_target.setdefault(run.plan.label, []).append((key, run))
    for i, parts in enumerate(by_target.values()):
        first = parts[0][1].plan
        assert isinstance(first.target, PendingTarget) and first.record.outcome is not None
        service = any(key for key, _ in parts)
        notes = "; ".join(f"{key}: " * bool(key) + r.plan.record.reason.removeprefix(f"{reason}; ")
                          for key, r in parts)
        recorder.append(R.outcome(
            action=R.action(started), started_seq=started.seq, target=parts[0][1].ref, artifact=R.artifact(started),
            commit=R.commit(started), outcome=first.record.outcome,
            reason=first.record.reason if not service else f"{reason}; {notes}", version=None,
            previous_version=None if service else first.target.before, actor=ctx.actor,
            closes=i == len(by_target) - 1,
            functions={key: _restored(r) for key, r in parts} if service else None))
    notes = [run.plan.record.reason.removeprefix(f"{reason}; ") for run in runs]
    for note in notes:
        ctx.out.progress(f"  {note}")
    return notes


def _restored(run: TargetRun) -> dict[str, str | None]:
    """A service function's alias after the reconcile (its version from before) and what the dead run left."""
    pending = run.plan.target
    assert isinstance(pending, PendingTarget)
    return {"version": pending.before, "previous_version": pending.live}
