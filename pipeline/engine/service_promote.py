"""`promote` of a multi-function service: observe -> decide -> act -> record, every function as one release.

Observe: as for one function (artifact, lock, gates), with every target's every function's `live` alias read
in parallel (`ServiceReads`). Decide: `core.release_plan.service_promotion_plan`. Act: the `started` record
(naming every function and each one's alias before) takes the lock; `ServiceExecutor` runs the waves; the
http cases go to the target's front-door `ApiEndpoint`. Record: one outcome per target with every function's
version and CodeSha256 (`functions`), the last one closing the lock.
"""

from __future__ import annotations

from collections.abc import Callable

from pipeline.aws.http_smoke import api_endpoint
from pipeline.aws.ledger import LedgerView
from pipeline.config.merged import Environment, Target
from pipeline.core import gates as G
from pipeline.core import records as R
from pipeline.core.plan import is_noop
from pipeline.core.prune import ledger_protection
from pipeline.core.release_plan import service_promotion_plan
from pipeline.core.waits import expected_update
from pipeline.engine import promote as P
from pipeline.engine.context import EngineContext
from pipeline.engine.executor import DisplayExecutor, Source, TargetRun, message
from pipeline.engine.lock import EnvLock, this_holder
from pipeline.engine.observe import window
from pipeline.engine.recorder import Recorder
from pipeline.engine.report import Result
from pipeline.engine.service_executor import FunctionPart, ServiceExecutor, ServiceRun
from pipeline.engine.service_observe import ServiceObservation, ServiceReads
from pipeline.errors import InputError, PipelineError, RefusedError
from pipeline.infra import naming
from pipeline.output import Output, render_table


def smoke_counts(env: Environment) -> tuple[dict[str, int], int]:
    """The invoke-style cases per function, and the number of http cases."""
    invoke: dict[str, int] = {}
    for case in env.smoke:
        if case.http is None:
            invoke[case.function or ""] = invoke.get(case.function or "", 0) + 1
    return invoke, sum(1 for c in env.smoke if c.http is not None)


def endpoints(ctx: EngineContext, env: Environment) -> Callable[[TargetRun], str]:
    """`run -> ApiEndpoint` of the run's target's front-door stack, read once per target."""
    seen: dict[tuple[str, str], str] = {}

    def endpoint(run: TargetRun) -> str:
        key = (run.target.account, run.target.region)
        if key not in seen:
            seen[key] = api_endpoint(ctx.session(env, run.target), run.target.region,
                                     naming.front_door_stack_name(ctx.config, env), env.name)
        return seen[key]
    return endpoint


def endpoint_of(ctx: EngineContext, env: Environment, target: Target) -> tuple[str | None, str | None]:
    """(the target's ApiEndpoint, None) or (None, why it cannot be read): for `status`."""
    try:
        return api_endpoint(ctx.session(env, target), target.region,
                            naming.front_door_stack_name(ctx.config, env), env.name), None
    except PipelineError as exc:
        return None, exc.message


def service_runs(observed: list[ServiceObservation], plans: tuple, view: LedgerView | None = None
                 ) -> list[ServiceRun]:
    """Each target's run, a part per function; with `view`, each part's polls are timed from that function's
    last recorded code update (core/waits.py), as the one function's are."""
    runs = []
    for o, p in zip(observed, plans, strict=True):
        first = next(iter(o.fns))
        parts = {k: FunctionPart(o.target, fn, p, o.live[k], key=k, expected_update=expected_update(
                     window(view), o.target.account, o.target.region, k) if view is not None else None)
                 for k, fn in o.fns.items()}
        runs.append(ServiceRun(o.target, o.fns[first], p, o.live[first], parts=parts))
    return runs


def promote_service(ctx: EngineContext, env_name: str, artifact: str | None = None, *, approve: bool = False,
                    reason: str | None = None, dry_run: bool = False, approver: str | None = None) -> Result:
    """`engine.promote.promote` for a service (`functions:`): the same gates, lock and ledger; one release."""
    env = ctx.config.env(env_name)
    if not env.smoke:
        raise InputError(f"{env.source}: smoke: an environment needs at least one smoke case to promote into")
    lock = EnvLock(ctx, env)
    ctx.accounts.factory.preload("s3", "lambda")
    digest = P.resolve_artifact(ctx, env, artifact)
    what = f"promotion of {digest[:12]} to {env.name}"
    with ServiceReads(ctx, env) as live:
        view, held = lock.observe()
        if held.held and not dry_run:
            view, cleared = lock.clear_dead(view, held)
            if cleared is not held:
                live.discard()
            held = cleared
        observed = live.observe(view, digest)
    lock.refuse_tampered(what)
    result = Result(env.name, digest)
    if is_noop([o.state for o in observed], digest, held.held):
        result.noop = True
        ctx.out.progress(f"{env.name}: {digest[:12]} is already live on every function and passed smoke: "
                         "nothing to do")
        return result
    staged = ctx.store.head(digest)
    replicas = P.observe_replicas(ctx, env, digest, staged)
    facts = P.observe_gates(ctx, env, digest, staged, held, approve, approver, reason, replicas=replicas)
    result.gates = G.evaluate(facts)
    lock.refuse_tampered(what)
    refused = G.refusal(result.gates)
    if refused:
        raise RefusedError(f"{what} {refused[0]}", fields={
            "env": env.name, "artifact": digest, "refused_by": [g.name for g in G.failing(result.gates)],
            "gates": [g.to_dict() for g in result.gates]})
    ctx.out.table(["gate", "result", "reason"], [[g.name, "pass" if g.passed else "FAIL", g.reason]
                                                 for g in result.gates], title=f"gates for {env.name}")
    assert staged is not None
    canary = env.strategy.canary
    invoke, http = smoke_counts(env)
    plan = service_promotion_plan(env.name, digest, [o.state for o in observed], invoke_cases=invoke,
                                  http_cases=http, canary_percent=canary.percent if canary else None,
                                  bake_seconds=canary.bake_seconds if canary else 0, wave_size=env.wave_size,
                                  handlers={f.key: f.settings.handler for f in env.functions},
                                  prune_keep=env.keep_versions, protect=protection(view, observed, digest))
    result.plan = DisplayExecutor(ctx.out).show(
        plan, f"plan for {env.name} ({len(env.functions)} functions, one release)"
        + (" (dry run: nothing written)" if dry_run else ""))
    if dry_run:
        result.dry_run = True
        return result
    runs = service_runs(observed, plan.targets, view)
    result.runs = list(runs)
    approval = {"approver": facts.approver, "reason": reason} if env.gates.approval else None
    recorder = Recorder(ctx.ledger, view, ctx.now)
    holder = this_holder(ctx.actor)
    started = lock.acquire(recorder, R.started(
        action="promote", artifact=digest, commit=staged.commit, dirty=staged.dirty, actor=ctx.actor, holder=holder,
        targets=[r.ref for r in runs], lease_expires=lock.lease_until(),
        previous={o.state.label: (None, None) for o in observed}, approval=approval,
        gates=[g.to_dict() for g in result.gates],
        functions={o.state.label: {k: (s.alias_version, s.alias_sha256) for k, s in o.state.functions}
                   for o in observed}))
    ctx.out.progress(f"lock taken: {started.key}; deploying {digest[:12]} to {len(env.functions)} functions on "
                     f"{len(runs)} target(s), waves of {env.wave_size}")
    executor = ServiceExecutor(
        ctx.out.progress, smoke_cases=env.smoke, endpoint=endpoints(ctx, env),
        source=Source(ctx.config.artifact_bucket, naming.artifact_key(ctx.config, digest), staged.version_id,
                      env.function.architecture, {r.region: (r.bucket, r.version_id) for r in replicas}),
        bake=lambda run, seconds: P.bake(ctx, lock, env, run, seconds, recorder, started.seq, executor.stop))
    try:
        executor.run_waves(plan, list(runs))
    finally:
        close_interrupted(executor, runs)
        for i, run in enumerate(runs):
            run.executed.append(run.plan.record)
            recorder.append(R.outcome(
                action="promote", started_seq=started.seq, target=run.ref, artifact=digest, commit=staged.commit,
                outcome=str(run.outcome), reason=run.reason, version=None, previous_version=None, actor=ctx.actor,
                closes=i == len(runs) - 1, build_id=holder.build_id, approval=approval,
                gates=[g.to_dict() for g in result.gates], smoke=[s.to_dict() for s in run.smoke],
                timings=run.timings, dirty=staged.dirty, functions=run.functions()))
        result.ledger = [r.key for r in recorder.written]
        result.warnings = [w for r in runs for w in r.warnings]
        for line in result.warnings:  # a failed prune leaves the release passed: said, recorded, not fatal
            ctx.out.progress(line)
    print_service_summary(ctx.out, env.name, digest, runs)
    return result


def protection(view: LedgerView, observed: list[ServiceObservation], digest: str
               ) -> dict[str, dict[str, dict[str, str]]]:
    """Per target label, per function: the versions the ledger names (last good, rollback target) that its
    prune keeps once `digest` is live."""
    out = {}
    for o in observed:
        where = {"account": o.target.account, "region": o.target.region}
        out[o.state.label] = {k: ledger_protection(window(view), where, digest, k) for k in o.fns}
    return out


def close_interrupted(executor: ServiceExecutor, runs: list[ServiceRun]) -> None:
    """A run stopped mid-way (Ctrl-C): every function it moved goes back before its record closes the lock."""
    for run in runs:
        if run.outcome == R.ROLLED_BACK and run.reason == "interrupted":
            run.outcome, run.reason = R.FAILED, "interrupted; aliases rolled back"
        if run.outcome is None:
            reason = run.reason or "interrupted"
            if any(p.moved for p in run.parts.values()):
                try:
                    executor.undo(run, reason)
                    reason += "; aliases rolled back"
                except Exception as exc:
                    reason += f"; rollback failed: {message(exc)}"
            run.outcome, run.reason = R.FAILED, reason
            run.collect()


def print_service_summary(out: Output, env: str, digest: str, runs: list[ServiceRun]) -> None:
    rows = [[s.name, s.qualifier, "pass" if s.passed else "FAIL", s.status, f"{s.duration_ms:.0f}", s.reason]
            for r in runs for s in r.smoke]
    if rows:
        out.table(["smoke", "qualifier", "result", "status", "ms", "detail"], rows)
    out.text(render_table(["target", "function", "outcome", "version", "previous", "detail"],
                          [[r.label, k, r.outcome, f["version"], f["previous_version"], r.reason]
                           for r in runs for k, f in r.functions().items()], title=f"{env}: {digest[:12]}"))

