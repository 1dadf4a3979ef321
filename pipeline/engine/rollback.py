"""`rollback`: move the alias back to the last good (or a named) artifact that passed smoke in this env.

The same lock and ledger as a promotion. Observe: the lock (a dead one is reconciled, a live
one refuses: exit 3 naming the holder), the live aliases, the chosen artifact's passed record
and what its version holds now. Decide: `core.plan.rollback_plan`. Act: `started` record
(losing that race is exit 3 too), alias moves and smoke through the executor. Record: outcomes.
"""

from __future__ import annotations

from pipeline.artifact.manifest import hex_sha256
from pipeline.config.merged import Environment
from pipeline.core import records as R
from pipeline.core import shas
from pipeline.core.ledger import find_outcome
from pipeline.core.observed import RollbackCandidate
from pipeline.core.plan import rollback_plan
from pipeline.engine.context import EngineContext
from pipeline.engine.executor import DisplayExecutor, Executor, TargetRun
from pipeline.engine.lock import EnvLock, this_holder
from pipeline.engine.observe import observe_target
from pipeline.engine.recorder import Recorder
from pipeline.engine.report import Result, print_summary
from pipeline.errors import InputError, PipelineError


def rollback(ctx: EngineContext, env: Environment, artifact: str | None, flag: str = "--artifact", *,
             dry_run: bool = False) -> Result:
    lock = EnvLock(ctx, env)
    # observe
    view, held = lock.observe()
    if artifact:  # a typed prefix means one artifact that passed here: resolved before anything is written
        artifact = artifact.lower()
        if not shas.is_full(artifact):
            passed = (str(R.artifact(r)) for r in view.newest_first() if r.type == "outcome"
                      and r.get("outcome") == R.PASSED and R.artifact(r))
            artifact = shas.resolve(artifact, passed, flag, f"artifacts that passed smoke in {env.name}")
    if not dry_run:
        view, held = lock.clear_dead(view, held)
    lock.refuse_held(held)
    observed = [observe_target(ctx, env, target, view, "") for target in env.targets]
    current = observed[0].state.alias_sha256
    if artifact:
        chosen = find_outcome(view.newest_first(), outcome=R.PASSED, artifact=artifact)
        if chosen is None:
            raise InputError(f"{flag} {artifact[:12]}: that artifact never passed smoke in {env.name}")
    else:
        chosen = find_outcome(view.newest_first(), outcome=R.PASSED, exclude_artifact=current)
        if chosen is None:
            raise PipelineError(f"{env.name}: no earlier artifact passed smoke here: nothing to roll back to")
    lock.refuse_tampered(f"rollback of {env.name}")  # `chosen` must not be a forged PASSED record
    digest = str(R.artifact(chosen))
    candidates, versions = [], {}
    for o in observed:
        record = find_outcome(view.newest_first(), target={"account": o.target.account, "region": o.target.region},
                              outcome=R.PASSED, artifact=digest)
        version = R.version(record) if record else None
        found = o.fn.version(version) if version else None
        versions[o.state.label] = found
        candidates.append(RollbackCandidate(o.state, version, hex_sha256(found.code_sha256) if found else None))
    # decide
    plan = rollback_plan(env.name, digest, candidates, len(env.smoke))
    result = Result(env.name, digest)
    result.plan = DisplayExecutor(ctx.out).show(
        plan, f"rollback plan for {env.name}" + (" (dry run: nothing written)" if dry_run else ""))
    if dry_run:
        result.dry_run = True
        return result
    # act
    runs = [TargetRun(o.target, o.fn, p, o.live) for o, p in zip(observed, plan.targets, strict=True)]
    for run in runs:
        if run.plan.writes:
            run.published = versions[run.label]
    result.runs = runs
    recorder = Recorder(ctx.ledger, view, ctx.now)
    started = lock.acquire(recorder, R.started(
        action="rollback", artifact=digest, commit=R.commit(chosen), actor=ctx.actor, holder=this_holder(ctx.actor),
        targets=[r.ref for r in runs], lease_expires=lock.lease_until(),
        previous={o.state.label: (o.state.alias_version, o.state.alias_sha256) for o in observed}))
    executor = Executor(ctx.out.progress, smoke_cases=env.smoke)
    try:
        for run in runs:
            if run.plan.writes:
                executor.run_target(run)
            else:
                run.outcome, run.reason = run.plan.record.outcome, run.plan.record.reason
    finally:
        # record
        for i, run in enumerate(runs):
            run.executed.append(run.plan.record)
            recorder.append(R.outcome(
                action="rollback", started_seq=started.seq, target=run.ref, artifact=digest, commit=R.commit(chosen),
                outcome=run.outcome or R.FAILED, reason=run.reason,
                version=run.published.version if run.published else None,
                previous_version=run.previous.version if run.previous else None, actor=ctx.actor,
                closes=i == len(runs) - 1, smoke=[s.to_dict() for s in run.smoke], timings=run.timings))
        result.ledger = [r.key for r in recorder.written]
    print_summary(ctx.out, env.name, digest, runs)
    return result
