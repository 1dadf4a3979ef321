"""`promote`: observe -> decide -> act -> record, for one artifact into one environment.

Observe (reads only; calls in brackets): the artifact [pred ledger: LIST + GET, or the staged
listing], the env's lock [LIST + GET] (a dead one is reconciled first) and, at the same time in
threads, every target's live alias [GET each]; for a real change also the gate facts [HEAD
artifact, HEAD each other region's replica, alarms].
Decide (core, pure): no-op? gates; the plan of typed steps. `--dry-run` shows that plan.
Act: the `started` record takes the lock [PUT]; the executor runs the plan, waves in parallel.
Record: one outcome per target [PUT each], the last one closing the lock.
"""

from __future__ import annotations

import threading

from pipeline.artifact.manifest import hex_sha256
from pipeline.aws.alarms import alarm_states
from pipeline.aws.artifacts import StagedArtifact
from pipeline.aws.ledger import LedgerView
from pipeline.aws.replicas import Replica, Replicas
from pipeline.config.merged import Environment
from pipeline.core import gates as G
from pipeline.core import records as R
from pipeline.core import shas
from pipeline.core.bake import alarm_summary, duration, ticker_interval
from pipeline.core.ledger import LockState, Record, find_outcome
from pipeline.core.locks import age_seconds
from pipeline.core.nextstep import rolled_back
from pipeline.core.observed import GateFacts
from pipeline.core.plan import Plan, is_noop, promotion_plan
from pipeline.core.prune import ledger_protection
from pipeline.core.waits import expected_update
from pipeline.engine.context import EngineContext
from pipeline.engine.executor import DisplayExecutor, Executor, Source, TargetRun, message
from pipeline.engine.lock import EnvLock, this_holder
from pipeline.engine.observe import LiveReads, window
from pipeline.engine.recorder import Recorder
from pipeline.engine.report import Result, print_summary
from pipeline.errors import InputError, RefusedError
from pipeline.infra import naming


def promote(ctx: EngineContext, env_name: str, artifact: str | None = None, *, approve: bool = False,
            reason: str | None = None, dry_run: bool = False, approver: str | None = None) -> Result:
    env = ctx.config.env(env_name)
    if not env.smoke:
        raise InputError(f"{env.source}: smoke: an environment needs at least one smoke case to promote into")
    lock = EnvLock(ctx, env)
    ctx.accounts.factory.preload("s3", "lambda")  # parsed while the first AssumeRole is answered
    # observe
    digest = resolve_artifact(ctx, env, artifact)
    what = f"promotion of {digest[:12]} to {env.name}"
    with LiveReads(ctx, env) as live:
        view, held = lock.observe()
        if held.held and not dry_run:
            view, cleared = lock.clear_dead(view, held)
            if cleared is not held:  # a dead lock's run was reconciled: the aliases may have moved back
                live.discard()
            held = cleared
        observed = live.observe(view, digest)
    lock.refuse_tampered(what)  # before trusting a no-op
    result = Result(env.name, digest)
    # decide: nothing to do?
    if is_noop([o.state for o in observed], digest, held.held):
        result.noop = True
        ctx.out.progress(f"{env.name}: {digest[:12]} is already live and passed smoke: nothing to do")
        return result
    staged = ctx.store.head(digest)
    replicas = observe_replicas(ctx, env, digest, staged)
    facts = observe_gates(ctx, env, digest, staged, held, approve, approver, reason, replicas=replicas)
    # decide: gates, plan
    result.gates = G.evaluate(facts)
    lock.refuse_tampered(what)
    refused = G.refusal(result.gates)
    if refused:  # each failing gate said once, in the error line; every gate in the JSON document
        raise RefusedError(f"{what} {refused[0]}", fields={
            "env": env.name, "artifact": digest, "refused_by": [g.name for g in G.failing(result.gates)],
            "gates": [g.to_dict() for g in result.gates]})
    ctx.out.table(["gate", "result", "reason"], [[g.name, "pass" if g.passed else "FAIL", g.reason]
                                                 for g in result.gates], title=f"gates for {env.name}")
    warning = G.dirty_warning(digest, bool(staged and staged.dirty), env.name, _refusing_later(ctx, env),
                               ctx.config.order[0])
    if warning:
        ctx.out.progress(warning)
    back = rolled_back(view.newest_first(), digest)
    if back is not None:  # the gates allow it (it passed its predecessor): say plainly what this does
        result.notes.append(f"{back.sentence(env.name)}: this {'plan' if dry_run else 'promotion'} deploys it "
                            f"again; the gates above decided as for any artifact (nothing refuses a rolled-back "
                            f"one); to move past it, promote a newer artifact")
        for note in result.notes:
            ctx.out.text(f"note: {note}")
    assert staged is not None
    canary = env.strategy.canary
    plan = promotion_plan(env.name, digest, [o.state for o in observed],
                          canary_percent=canary.percent if canary else None,
                          bake_seconds=canary.bake_seconds if canary else 0, smoke_cases=len(env.smoke),
                          wave_size=env.wave_size, prune_keep=env.keep_versions,
                          protect={o.state.label: ledger_protection(
                              window(view), {"account": o.target.account, "region": o.target.region}, digest)
                                   for o in observed})
    result.plan = DisplayExecutor(ctx.out).show(
        plan, f"plan for {env.name}" + (f": deploys the rolled-back {digest[:12]} again" if back else "")
        + (" (dry run: nothing written)" if dry_run else ""))
    if dry_run:
        result.dry_run = True
        return result
    # act
    runs = [TargetRun(o.target, o.fn, p, o.live,
                      expected_update=expected_update(window(view), o.target.account, o.target.region))
            for o, p in zip(observed, plan.targets, strict=True)]
    result.runs = runs
    approval = {"approver": facts.approver, "reason": reason} if env.gates.approval else None
    recorder = Recorder(ctx.ledger, view, ctx.now)
    holder = this_holder(ctx.actor)
    started = lock.acquire(recorder, R.started(
        action="promote", artifact=digest, commit=staged.commit, dirty=staged.dirty, actor=ctx.actor, holder=holder,
        targets=[r.ref for r in runs], lease_expires=lock.lease_until(),
        previous={o.state.label: (o.state.alias_version, o.state.alias_sha256) for o in observed},
        approval=approval, gates=[g.to_dict() for g in result.gates]))
    ctx.out.progress(f"lock taken: {started.key} (lease until {str(started.get('lease_expires'))[:19]}Z); "
                     f"deploying {digest[:12]} to {len(runs)} target(s), waves of {env.wave_size}")
    executor = Executor(ctx.out.progress, smoke_cases=env.smoke,
                        source=Source(ctx.config.artifact_bucket, naming.artifact_key(ctx.config, digest),
                                      staged.version_id, env.function.architecture,
                                      {r.region: (r.bucket, r.version_id) for r in replicas}),
                        bake=lambda run, seconds: bake(ctx, lock, env, run, seconds, recorder, started.seq,
                                                       executor.stop))
    try:
        executor.run_waves(plan, runs)
    finally:
        # record
        close_interrupted(executor, runs)
        record_outcomes(ctx, recorder, plan, runs, started, staged, approval, holder.build_id, result.gates)
        result.ledger = [r.key for r in recorder.written]
        result.warnings = [w for r in runs for w in r.warnings]
        for line in result.warnings:  # a failed prune leaves the promotion passed: said, recorded, not fatal
            ctx.out.progress(line)
        if any(r.reason.startswith("interrupted") for r in runs):
            ctx.out.progress(f"{env.name}: interrupted: " + "; ".join(f"{r.label} {r.outcome} ({r.reason})"
                                                                     for r in runs)
                             + f"; recorded in {', '.join(r.key for r in recorder.written if r.type == R.OUTCOME)}")
    print_summary(ctx.out, env.name, digest, runs)
    return result


def resolve_artifact(ctx: EngineContext, env: Environment, artifact: str | None) -> str:
    if artifact:
        return staged_digest(ctx, artifact)
    found = candidate(ctx, env)
    if found is None and env.gates.requires:
        raise RefusedError(f"nothing to promote: no artifact has passed smoke in {env.gates.requires} yet")
    if found is None:
        raise InputError("nothing to promote: no staged artifact (run `pipeline build` and `pipeline stage`)")
    return found


def candidate(ctx: EngineContext, env: Environment, requires_view: LedgerView | None = None) -> str | None:
    """What `promote --to env` picks without --artifact: the newest artifact that passed smoke in
    `gates.requires` (the first stage: the newest staged one); None when there is none."""
    requires = env.gates.requires
    if requires:
        found = find_outcome(window(requires_view or ctx.ledger.view(requires)), outcome=R.PASSED)
        return str(R.artifact(found)) if found is not None else None
    return ctx.store.newest_sha256()


def _refusing_later(ctx: EngineContext, env: Environment) -> list[str]:
    """This env and those after it in `order` that refuse a dirty build (approval or gates.clean)."""
    order = list(ctx.config.order)
    later = order[order.index(env.name):] if env.name in order else [env.name]
    return [n for n in later if ctx.config.env(n).gates.approval or ctx.config.env(n).gates.clean]


def staged_digest(ctx: EngineContext, artifact: str, flag: str = "--artifact") -> str:
    """A typed digest or prefix as the full sha256: a prefix resolves against the staged artifacts (one LIST,
    only for a prefix); a full digest is taken as given (the integrity gate says whether it is staged)."""
    try:
        value = shas.normalise(artifact)
    except ValueError as exc:
        raise InputError(f"{flag}: {exc}") from None
    if shas.is_full(value):
        return value
    return shas.resolve(value, ctx.store.staged_sha256s(), flag, "staged artifacts")


def observe_replicas(ctx: EngineContext, env: Environment, digest: str, staged: StagedArtifact | None) -> list[Replica]:
    """The replica in each other region the env's targets use [HEAD each]: Lambda loads from its own region."""
    regions = [r for r in dict.fromkeys(t.region for t in env.targets) if r != ctx.config.tooling.region]
    if staged is None or not regions:
        return []
    return Replicas(ctx.tooling, ctx.config).check(naming.artifact_key(ctx.config, digest), staged.code_sha256,
                                                   regions)


def observe_gates(ctx: EngineContext, env: Environment, digest: str, staged: StagedArtifact | None, lock: LockState,
                  approve: bool, approver: str | None, reason: str | None,
                  requires_view: LedgerView | None = None, replicas: list[Replica] | None = None) -> GateFacts:
    requires = env.gates.requires
    if env.gates.approval and approve and approver is None:
        approver = ctx.accounts.factory.base().identity.arn  # who really runs this: never a typed name
    if not env.gates.approval:
        approver = None  # nothing to approve here: nothing recorded
    passed = bool(requires) and find_outcome(window(requires_view or ctx.ledger.view(requires)), outcome=R.PASSED,
                                             artifact=digest) is not None
    states: dict[str, str | None] = {}
    if env.gates.alarms:
        for target in env.targets:
            states.update(alarm_states(ctx.session(env, target), target.region, env.gates.alarms))
    staged_hex = None
    if staged is not None:
        staged_hex = hex_sha256(staged.code_sha256) or "(no checksum recorded)"
    return GateFacts(
        requires=requires, passed_in_requires=passed, approval_required=env.gates.approval, approver=approver,
        reason=reason, dirty=bool(staged and staged.dirty), freeze=tuple(env.gates.freeze), timezone=env.timezone,
        now=ctx.now(), alarm_states=states, digest=digest, staged_sha256=staged_hex,
        staged_where=f"s3://{ctx.config.artifact_bucket}/{naming.artifact_key(ctx.config, digest)}",
        lock_holder=R.holder(lock.started).actor if lock.started else None,
        lock_age_seconds=age_seconds(lock, ctx.now()), lock_key=lock.started.key if lock.started else "",
        clean_required=env.gates.clean,
        replicas=tuple((r.region, r.where, r.sha256 if r.state != "missing" else None) for r in replicas or ()))


def bake(ctx: EngineContext, lock: EnvLock, env: Environment, run: TargetRun, seconds: int, recorder: Recorder,
         started_seq: int, stop: threading.Event | None = None) -> str | None:
    """Wait `seconds` watching the env's alarms; renew the lock's lease when half of it is used.
    `stop` (set on Ctrl-C while targets run in threads) ends the wait at once: the executor undoes."""
    clock = ctx.monotonic
    deadline = clock() + seconds
    lease_left = lock.lease_seconds()
    renew_at = clock() + lease_left / 2
    every = ticker_interval(seconds)
    tick_at = clock() + every
    states: dict[str, str | None] = {}
    while True:
        if env.gates.alarms:
            states = alarm_states(ctx.session(env, run.target), run.target.region, env.gates.alarms)
            firing = sorted(n for n, s in states.items() if s == "ALARM")
            if firing:
                return f"alarm {', '.join(firing)} went into ALARM during the bake"
        remaining = deadline - clock()
        if remaining <= 0:
            return None
        if clock() >= tick_at:  # a calm ticker: time left and what the alarms say (a JSON record in CodeBuild)
            ctx.out.progress(f"  {run.label}: baking, {duration(remaining)} left; {alarm_summary(states)}")
            tick_at = clock() + every
        if clock() >= renew_at:
            lock.renew(recorder, started_seq)
            renew_at = clock() + lease_left / 2
        # wake for whatever comes first: the end, the next alarm check, the ticker, the lease renewal
        pause = max(0.05, min(remaining, 5.0, max(1.0, seconds / 3), renew_at - clock(), tick_at - clock()))
        if stop is not None and stop.is_set():
            return None
        if stop is not None and threading.current_thread() is not threading.main_thread():
            stop.wait(pause)  # Ctrl-C wakes it (the main thread gets the KeyboardInterrupt itself)
        else:
            ctx.sleep(pause)


def close_interrupted(executor: Executor, runs: list[TargetRun]) -> None:
    """A run stopped mid-way (Ctrl-C): its record closes the lock, so its alias must go back first."""
    for run in runs:
        if run.outcome == R.ROLLED_BACK and run.reason == "interrupted":  # a wave's thread, stopped and undone
            run.outcome, run.reason = R.FAILED, "interrupted; alias rolled back"
        if run.outcome is None:
            reason = run.reason or "interrupted"
            if run.published is not None:  # the alias may be on unverified code
                try:
                    executor.undo(run, reason)
                    reason += "; alias rolled back"
                except Exception as exc:
                    reason += f"; rollback failed: {message(exc)}"
            run.outcome, run.reason = R.FAILED, reason


def record_outcomes(ctx: EngineContext, recorder: Recorder, plan: Plan, runs: list[TargetRun], started: Record,
                    staged: StagedArtifact, approval: dict | None, build_id: str | None,
                    gate_results: list[G.GateResult]) -> None:
    for i, run in enumerate(runs):
        run.executed.append(run.plan.record)
        recorder.append(R.outcome(
            action="promote", started_seq=started.seq, target=run.ref, artifact=plan.digest, commit=staged.commit,
            outcome=str(run.outcome), reason=run.reason, version=run.published.version if run.published else None,
            previous_version=run.previous.version if run.previous else None, actor=ctx.actor, closes=i == len(runs) - 1,
            build_id=build_id, approval=approval, gates=[g.to_dict() for g in gate_results],
            smoke=[s.to_dict() for s in run.smoke], timings=run.timings, dirty=staged.dirty, prune=run.prune))
