"""`rollback`: move the alias back to the last good (or a named) artifact that passed smoke in this env.

It goes through the same lock and ledger as a promotion: a `started` record, the alias move,
the smoke tests, an outcome record.
"""

from __future__ import annotations

import datetime as dt

from pipeline.aws.ledger import LedgerView
from pipeline.config.merged import Environment
from pipeline.core.ledger import find_outcome, lock_state
from pipeline.core.plan import LIVE_ALIAS
from pipeline.engine.holder import holder_info
from pipeline.engine.promote import Promotion, Result
from pipeline.engine.recorder import Recorder
from pipeline.engine.targets import TargetRun, hex_sha, roll_back, run_smoke
from pipeline.errors import InputError, PipelineError, RefusedError


def rollback(promotion: Promotion, env: Environment, to: str | None) -> Result:
    view = promotion.ledger.view(env.name)
    lock = lock_state(view.newest_first())
    if lock.held:
        if not promotion.is_stale(lock):
            holder = (lock.started.get("holder") or {}).get("actor") if lock.started else "?"
            raise RefusedError(f"{env.name} is locked by {holder} ({lock.started.key if lock.started else ''})")
        from pipeline.engine.reconcile import reconcile

        reconcile(promotion, env, view, lock)
        view = promotion.ledger.view(env.name)
    runs = [promotion.observe_target(env, target, view, "") for target in env.targets]
    current = runs[0].state.alias_sha256
    if to:
        chosen = find_outcome(view.newest_first(), outcome="PASSED", artifact=to.lower())
        if chosen is None:
            raise InputError(f"--to {to}: that artifact never passed smoke in {env.name}")
    else:
        chosen = find_outcome(view.newest_first(), outcome="PASSED", exclude_artifact=current)
        if chosen is None:
            raise PipelineError(f"{env.name}: no earlier artifact passed smoke here: nothing to roll back to")
    promotion.refuse_tampered_ledger(f"rollback of {env.name}")  # `chosen` must not be a forged PASSED record
    digest = str(chosen.get("artifact"))
    result = Result(env.name, digest, runs=runs)
    recorder = Recorder(promotion.ledger, view, promotion.now)
    started = recorder.start({
        "type": "started", "action": "rollback", "artifact": digest, "commit": chosen.get("commit"),
        "actor": promotion.actor, "holder": holder_info(promotion.actor),
        "targets": [r.as_target() for r in runs],
        "lease_expires": (promotion.now() + dt.timedelta(seconds=promotion.lease_seconds(env))).isoformat(),
        "previous": {r.label: {"version": r.previous.version if r.previous else None, "sha256": r.state.alias_sha256}
                     for r in runs}})
    try:
        for run in runs:
            _move(promotion, env, run, view, digest)
    finally:
        for i, run in enumerate(runs):
            recorder.append({
                "type": "outcome", "action": "rollback", "started_seq": started.seq, "target": run.as_target(),
                "account": run.target.account, "region": run.target.region, "artifact": digest,
                "commit": chosen.get("commit"), "outcome": run.outcome or "FAILED", "reason": run.reason,
                "version": run.published.version if run.published else None,
                "previous_version": run.previous.version if run.previous else None, "actor": promotion.actor,
                "smoke": [s.to_dict() for s in run.smoke], "timings": run.timings, "closes": i == len(runs) - 1})
        result.ledger = [r.key for r in recorder.written]
    promotion.print_summary(env, digest, runs)
    return result


def _move(promotion: Promotion, env: Environment, run: TargetRun, view: LedgerView, digest: str) -> None:
    record = find_outcome(view.newest_first(), target=run.as_target(), outcome="PASSED", artifact=digest)
    version = record.get("version") if record else None
    if not version:
        run.outcome, run.reason = "FAILED", f"no passed version of {digest[:12]} recorded for {run.label}"
        return
    found = run.fn.version(str(version))
    if found is None or hex_sha(found.code_sha256) != digest:
        run.outcome, run.reason = "FAILED", (f"version {version} no longer holds {digest[:12]} "
                                             f"(has {hex_sha(found.code_sha256) if found else 'nothing'})")
        return
    run.published = found
    promotion.out.progress(f"  {run.label}: {LIVE_ALIAS} -> v{version} ({digest[:12]})")
    run.timed("alias", lambda: run.fn.point_alias(LIVE_ALIAS, str(version), exists=run.previous is not None))
    run.smoke = run.timed("smoke", lambda: run_smoke(run, env.smoke, LIVE_ALIAS))
    failed = [s for s in run.smoke if not s.passed]
    if failed:
        roll_back(run, f"smoke {failed[0].name!r} failed after rollback: {failed[0].reason}", promotion.out.progress)
    else:
        run.outcome, run.reason = "PASSED", f"rolled back to {digest[:12]}"
