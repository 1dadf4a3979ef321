"""`rollback` of a multi-function service: every function back to the last good (or a named) release.

The same lock and ledger as a promotion. Observe: the lock, every function's live alias (in parallel), the
chosen release's PASSED outcome on each target and, for each function, what its recorded version holds now.
Decide: `core.release_plan.service_rollback_plan`. Act: the `started` record, every alias moved, smoke (the
invoke cases on `live`, the http cases through the front door); a failure puts every function back. Record:
one outcome per target naming every function's version and CodeSha256.
"""

from __future__ import annotations

from pipeline.artifact.manifest import hex_sha256
from pipeline.config.merged import Environment
from pipeline.core import records as R
from pipeline.core import shas
from pipeline.core.ledger import find_outcome
from pipeline.core.release_plan import ServiceRollback, service_rollback_plan
from pipeline.engine.context import EngineContext
from pipeline.engine.executor import DisplayExecutor
from pipeline.engine.lock import EnvLock, this_holder
from pipeline.engine.recorder import Recorder
from pipeline.engine.report import Result
from pipeline.engine.service_executor import ServiceExecutor
from pipeline.engine.service_observe import ServiceReads
from pipeline.engine.service_promote import endpoints, print_service_summary, service_runs, smoke_counts
from pipeline.errors import InputError, PipelineError


def rollback_service(ctx: EngineContext, env: Environment, artifact: str | None, flag: str = "--artifact", *,
                     dry_run: bool = False) -> Result:
    lock = EnvLock(ctx, env)
    # observe
    with ServiceReads(ctx, env) as reads:
        view, held = lock.observe()
        if artifact:
            artifact = artifact.lower()
            if not shas.is_full(artifact):
                passed = (str(R.artifact(r)) for r in view.newest_first() if r.type == R.OUTCOME
                          and R.outcome_of(r) == R.PASSED and R.artifact(r))
                artifact = shas.resolve(artifact, passed, flag, f"artifacts that passed smoke in {env.name}")
        if not dry_run:
            view, cleared = lock.clear_dead(view, held)
            if cleared is not held:
                reads.discard()
            held = cleared
        lock.refuse_held(held)
        observed = reads.observe(view, "")
    current = observed[0].state.functions[0][1].alias_sha256
    if artifact:
        chosen = find_outcome(view.newest_first(), outcome=R.PASSED, artifact=artifact)
        if chosen is None:
            raise InputError(f"{flag} {artifact[:12]}: that artifact never passed smoke in {env.name}")
    else:
        chosen = find_outcome(view.newest_first(), outcome=R.PASSED, exclude_artifact=current)
        if chosen is None:
            raise PipelineError(f"{env.name}: no earlier release passed smoke here: nothing to roll back to")
    lock.refuse_tampered(f"rollback of {env.name}")
    digest = str(R.artifact(chosen))
    candidates, found = [], {}
    for o in observed:
        record = find_outcome(view.newest_first(), target={"account": o.target.account, "region": o.target.region},
                              outcome=R.PASSED, artifact=digest)
        recorded = R.function_versions(record) if record else {}
        versions = []
        for key, fn in o.fns.items():
            version = recorded.get(key)
            holds = fn.version(version) if version else None
            found[(o.state.label, key)] = holds
            versions.append((key, version, hex_sha256(holds.code_sha256) if holds else None))
        candidates.append(ServiceRollback(o.state, tuple(versions)))
    # decide
    invoke, http = smoke_counts(env)
    plan = service_rollback_plan(env.name, digest, candidates, invoke_cases=invoke, http_cases=http)
    result = Result(env.name, digest)
    result.plan = DisplayExecutor(ctx.out).show(
        plan, f"rollback plan for {env.name}" + (" (dry run: nothing written)" if dry_run else ""))
    if dry_run:
        result.dry_run = True
        return result
    # act
    runs = service_runs(observed, plan.targets)
    for run in runs:
        if run.plan.writes:
            for key, part in run.parts.items():
                part.published = found[(run.label, key)]
    result.runs = list(runs)
    recorder = Recorder(ctx.ledger, view, ctx.now)
    started = lock.acquire(recorder, R.started(
        action="rollback", artifact=digest, commit=R.commit(chosen), actor=ctx.actor, holder=this_holder(ctx.actor),
        targets=[r.ref for r in runs], lease_expires=lock.lease_until(),
        previous={o.state.label: (None, None) for o in observed},
        functions={o.state.label: {k: (s.alias_version, s.alias_sha256) for k, s in o.state.functions}
                   for o in observed}))
    executor = ServiceExecutor(ctx.out.progress, smoke_cases=env.smoke, endpoint=endpoints(ctx, env))
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
                outcome=run.outcome or R.FAILED, reason=run.reason, version=None, previous_version=None,
                actor=ctx.actor, closes=i == len(runs) - 1, smoke=[s.to_dict() for s in run.smoke],
                timings=run.timings, functions=run.functions()))
        result.ledger = [r.key for r in recorder.written]
    print_service_summary(ctx.out, env.name, digest, runs)
    return result
