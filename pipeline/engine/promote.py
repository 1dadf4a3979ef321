"""`promote`: resolve the artifact, reconcile a crashed run, evaluate every gate, then deploy.

Order of business (each step's API calls in brackets):
  resolve artifact [pred ledger: LIST + GET] -> own ledger [LIST + GET] -> observe targets
  [get live alias] -> no-op? -> gates [HEAD artifact, alarms] -> `started` record = lock [PUT]
  -> per target: update code+publish, (wait), alias, smoke [1 per case] -> outcome record [PUT].
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pipeline.aws.accounts import Accounts
from pipeline.aws.alarms import alarm_states
from pipeline.aws.artifacts import ArtifactStore, StagedArtifact
from pipeline.aws.functions import FunctionAdapter
from pipeline.aws.ledger import LedgerConflict, LedgerStore, LedgerView
from pipeline.config.merged import Environment, PipelineConfig
from pipeline.core import gates as G
from pipeline.core.ledger import LockState, find_outcome, lock_state
from pipeline.core.plan import Step, target_steps, waves
from pipeline.engine.holder import holder_info, holder_is_dead
from pipeline.engine.recorder import Recorder
from pipeline.engine.targets import TargetRun, deploy, hex_sha, observe, roll_back
from pipeline.errors import InputError, PipelineError, RefusedError, one_line
from pipeline.infra import naming
from pipeline.output import Output, render_table

PREDECESSOR_WINDOW = 200  # records walked back when looking for a passed record


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class Result:
    env: str
    artifact: str
    noop: bool = False
    gates: list[G.GateResult] = field(default_factory=list)
    plan: list[Step] = field(default_factory=list)
    runs: list[TargetRun] = field(default_factory=list)
    ledger: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return self.noop or self.dry_run or all(r.outcome == "PASSED" for r in self.runs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env, "artifact": self.artifact, "noop": self.noop,
            "gates": [g.to_dict() for g in self.gates],
            "plan": [{"kind": s.kind, "target": s.target, "detail": s.detail} for s in self.plan],
            "targets": [{"target": r.label, "outcome": r.outcome, "reason": r.reason,
                         "version": r.published.version if r.published else None,
                         "previous_version": r.previous.version if r.previous else None,
                         "smoke": [s.to_dict() for s in r.smoke], "timings": r.timings} for r in self.runs],
            "ledger": self.ledger,
        }


class Promotion:
    def __init__(self, config: PipelineConfig, accounts: Accounts, out: Output, *,
                 now: Callable[[], dt.datetime] = utcnow, sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self.accounts = accounts
        self.out = out
        self.now = now
        self.sleep = sleep
        tooling = accounts.tooling()
        self.actor = tooling.identity.arn
        self.store = ArtifactStore(tooling, config)
        self.ledger = LedgerStore(tooling, config)

    # -- entry point --------------------------------------------------------------------------
    def promote(self, env_name: str, artifact: str | None = None, *, approve: bool = False,
                reason: str | None = None, dry_run: bool = False, approver: str | None = None) -> Result:
        env = self.config.env(env_name)
        if not env.smoke:
            raise InputError(f"{env.source}: smoke: an environment needs at least one smoke case to promote into")
        digest = self.resolve_artifact(env, artifact)
        result = Result(env.name, digest)
        view = self.ledger.view(env.name)
        lock = lock_state(view.newest_first())
        if lock.held and self.is_stale(lock) and not dry_run:
            from pipeline.engine.reconcile import reconcile

            reconcile(self, env, view, lock)
            view = self.ledger.view(env.name)
            lock = lock_state(view.newest_first())

        runs = self._observe_all(env, view, digest)
        result.runs = runs
        self.refuse_tampered_ledger(f"promotion of {digest[:12]} to {env.name}")  # before trusting a no-op
        if not lock.held and all(not target_steps(r.state, digest, None, 0, 0) for r in runs):
            result.noop, result.runs = True, []
            self.out.progress(f"{env.name}: {digest[:12]} is already live and passed smoke: nothing to do")
            return result

        staged = self.store.head(digest)
        if env.gates.approval and approve and approver is None:
            approver = self.accounts.factory.base().identity.arn  # who really runs this: never a typed name
        if not env.gates.approval:
            approver = None  # nothing to approve here: nothing recorded
        result.gates = self._gates(env, digest, staged, lock, approver, reason)
        self.refuse_tampered_ledger(f"promotion of {digest[:12]} to {env.name}")
        self.out.table(["gate", "result", "reason"], [[g.name, "pass" if g.passed else "FAIL", g.reason]
                                                      for g in result.gates], title=f"gates for {env.name}")
        failed = G.failing(result.gates)
        if failed:
            raise RefusedError(f"promotion of {digest[:12]} to {env.name} refused by "
                               f"{', '.join(g.name for g in failed)}: "
                               + "; ".join(f"{g.name}: {g.reason}" for g in failed),
                               details=[f"{g.name}: {g.reason}" for g in failed])
        assert staged is not None
        canary = env.strategy.canary
        result.plan = [s for r in runs for s in target_steps(
            r.state, digest, canary.percent if canary else None, canary.bake_seconds if canary else 0,
            len(env.smoke))]
        self.out.table(["step", "target", "detail"], [[s.kind, s.target, s.detail] for s in result.plan],
                       title=f"plan for {env.name}" + (" (dry run: nothing written)" if dry_run else ""))
        if dry_run:
            result.dry_run = True
            return result

        recorder = Recorder(self.ledger, view, self.now)
        approval = {"approver": approver, "reason": reason} if env.gates.approval else None
        started = self._acquire(recorder, env, digest, staged, runs, result.gates, approval)
        self.out.progress(f"lock taken: {started.key} (lease until {started.get('lease_expires')[:19]}Z); "
                          f"deploying {digest[:12]} to {len(runs)} target(s), waves of {env.wave_size}")
        try:
            self._deploy_waves(env, digest, staged, runs, recorder, started.seq)
        finally:
            self._record_outcomes(recorder, env, digest, staged, runs, started.seq, approval, result.gates)
            result.ledger = [r.key for r in recorder.written]
        self.print_summary(env, digest, runs)
        return result

    # -- artifact -------------------------------------------------------------------------------
    def resolve_artifact(self, env: Environment, artifact: str | None) -> str:
        if artifact:
            value = artifact.strip().lower()
            if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
                raise InputError(f"--artifact: expected a full sha256 (64 hex characters), got {artifact!r}")
            return value
        requires = env.gates.requires
        if requires:
            found = find_outcome(_window(self.ledger.view(requires)), outcome="PASSED")
            if found is None:
                raise RefusedError(f"nothing to promote: no artifact has passed smoke in {requires} yet")
            return str(found.get("artifact"))
        newest = self.store.newest_sha256()
        if newest is None:
            raise InputError("nothing to promote: no staged artifact (run `pipeline build` and `pipeline stage`)")
        return newest

    # -- observation and gates -----------------------------------------------------------------
    def function(self, env: Environment, target: Any) -> FunctionAdapter:
        session = self.accounts.target(env, target)
        return FunctionAdapter(session, target.region, naming.function_name(self.config, env), sleep=self.sleep)

    def _observe_all(self, env: Environment, view: LedgerView, digest: str) -> list[TargetRun]:
        """Every target's live state; targets are read in parallel (each is its own account/region)."""
        if len(env.targets) == 1:
            return [self.observe_target(env, env.targets[0], view, digest)]
        with ThreadPoolExecutor(max_workers=min(len(env.targets), env.wave_size)) as pool:
            return list(pool.map(lambda t: self.observe_target(env, t, view, digest), env.targets))

    def observe_target(self, env: Environment, target: Any, view: LedgerView, digest: str) -> TargetRun:
        # Failed, rolled-back and aborted runs put the alias back, so what runs here by the ledger's
        # account is the newest PASSED outcome; the live alias is checked against it separately.
        newest = find_outcome(view.newest_first(), target={"account": target.account, "region": target.region},
                              outcome="PASSED")
        passed_here = bool(newest and newest.get("artifact") == digest)
        return observe(self.function(env, target), target, passed_here)

    def _gates(self, env: Environment, digest: str, staged: StagedArtifact | None, lock: LockState,
               approver: str | None, reason: str | None) -> list[G.GateResult]:
        results = []
        requires = env.gates.requires
        passed_before = bool(requires) and find_outcome(
            _window(self.ledger.view(requires)), outcome="PASSED", artifact=digest) is not None
        results.append(G.predecessor(requires, digest, passed_before))
        results.append(G.approval(env.gates.approval, approver, reason,
                                  bool(staged and staged.dirty)))
        results.append(G.freeze(env.gates.freeze, env.timezone, self.now()))
        states: dict[str, str | None] = {}
        if env.gates.alarms:
            for target in env.targets:
                states.update(alarm_states(self.accounts.target(env, target), target.region, env.gates.alarms))
        results.append(G.alarms(states))
        where = f"s3://{self.config.artifact_bucket}/{naming.artifact_key(self.config, digest)}"
        staged_hex = None
        if staged is not None:
            staged_hex = hex_sha(staged.code_sha256) or "(no checksum recorded)"
        results.append(G.integrity(digest, staged_hex, where))
        holder = lock.started.get("holder", {}) if lock.started else {}
        age = (self.now() - lock.started.time).total_seconds() if lock.started and lock.started.time else None
        results.append(G.lock(holder.get("actor") if lock.held else None, age,
                              lock.started.key if lock.started else ""))
        return results

    def refuse_tampered_ledger(self, what: str) -> None:
        """Gates and no-op decisions rest on ledger records: refuse (exit 3) when those show tampering."""
        problems = self.ledger.tampering()
        if problems:
            raise RefusedError(f"{what} refused: the ledger was tampered with: {problems[0]}"
                               + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
                               + "; run `pipeline verify`", details=problems)

    def is_stale(self, lock: LockState) -> bool:
        assert lock.started is not None
        expired = lock.lease_expires is not None and lock.lease_expires < self.now()
        return expired or holder_is_dead(lock.started.get("holder", {}))

    def lease_seconds(self, env: Environment) -> int:
        canary = env.strategy.canary
        return 300 + (canary.bake_seconds if canary else 0) + 60 * len(env.smoke)

    def _acquire(self, recorder: Recorder, env: Environment, digest: str, staged: StagedArtifact,
                 runs: list[TargetRun], gate_results: list[G.GateResult], approval: dict | None) -> Any:
        lease = self.now() + dt.timedelta(seconds=self.lease_seconds(env))
        fields = {"type": "started", "action": "promote", "artifact": digest, "commit": staged.commit,
                  "dirty": staged.dirty, "actor": self.actor, "holder": holder_info(self.actor),
                  "targets": [r.as_target() for r in runs], "lease_expires": lease.isoformat(),
                  "previous": {r.label: {"version": r.previous.version if r.previous else None,
                                         "sha256": r.state.alias_sha256} for r in runs},
                  "approval": approval, "gates": [g.to_dict() for g in gate_results]}
        try:
            return recorder.start(fields)
        except LedgerConflict:
            view = self.ledger.view(env.name)
            lock = lock_state(view.newest_first())
            holder = lock.started.get("holder", {}).get("actor") if lock.started else "another promotion"
            raise RefusedError(f"{env.name} is locked: {holder} started a promotion first "
                               f"({lock.started.key if lock.started else view.tip.key if view.tip else ''})") \
                from None

    def _deploy_waves(self, env: Environment, digest: str, staged: StagedArtifact, runs: list[TargetRun],
                      recorder: Recorder, started_seq: int) -> None:
        key = naming.artifact_key(self.config, digest)

        def one(run: TargetRun) -> None:
            try:
                deploy(run, env, self.config.artifact_bucket, key, staged.version_id, digest, self.out.progress,
                       lambda r, s: self.bake(env, r, s, recorder, started_seq))
            except Exception as exc:  # not only PipelineError: whatever broke, the alias goes back
                run.reason = _message(exc)
                try:
                    roll_back(run, run.reason, self.out.progress)
                except Exception as again:
                    run.reason += f"; rollback failed too: {_message(again)}"
                run.outcome = "FAILED"

        pending = [r for r in runs if target_steps(r.state, digest, None, 0, 0)]
        for run in runs:
            if run not in pending:
                # its record names the live version too: a later rollback to this release looks it up there
                run.outcome, run.reason, run.published = "PASSED", "already live and passed", run.previous
        by_state = {id(r.state): r for r in pending}
        for wave in waves([r.state for r in pending], env.wave_size):
            members = [by_state[id(s)] for s in wave]
            if len(members) == 1:
                one(members[0])
            else:
                with ThreadPoolExecutor(max_workers=len(members)) as pool:
                    list(pool.map(one, members))
            if any(r.outcome != "PASSED" for r in members):
                for run in members:
                    if run.outcome == "PASSED":
                        roll_back(run, "another target of its wave failed", self.out.progress)
                for run in pending[pending.index(members[-1]) + 1:]:
                    run.outcome, run.reason = "SKIPPED", "an earlier wave failed"
                return

    def bake(self, env: Environment, run: TargetRun, seconds: int, recorder: Recorder, started_seq: int) -> str | None:
        """Wait `seconds` watching the env's alarms; renew the lock's lease when half of it is used."""
        deadline = time.monotonic() + seconds
        lease_left = self.lease_seconds(env)
        renew_at = time.monotonic() + lease_left / 2
        while True:
            if env.gates.alarms:
                states = alarm_states(self.accounts.target(env, run.target), run.target.region, env.gates.alarms)
                firing = sorted(n for n, s in states.items() if s == "ALARM")
                if firing:
                    return f"alarm {', '.join(firing)} went into ALARM during the bake"
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if time.monotonic() >= renew_at:
                lease = self.now() + dt.timedelta(seconds=lease_left)
                recorder.append({"type": "lease", "started_seq": started_seq, "lease_expires": lease.isoformat(),
                                 "actor": self.actor})
                renew_at = time.monotonic() + lease_left / 2
            # wake for whatever comes first: the end, the next alarm check, the lease renewal
            self.sleep(max(0.05, min(remaining, 5.0, max(1.0, seconds / 3), renew_at - time.monotonic())))

    def _record_outcomes(self, recorder: Recorder, env: Environment, digest: str, staged: StagedArtifact,
                         runs: list[TargetRun], started_seq: int, approval: dict | None,
                         gate_results: list[G.GateResult]) -> None:
        for run in runs:
            if run.outcome is None:
                run.reason = run.reason or "interrupted"
                if run.published is not None:  # the alias may be on unverified code, and this record closes the lock
                    try:
                        roll_back(run, run.reason, self.out.progress)
                        run.reason += "; alias rolled back"
                    except Exception as exc:
                        run.reason += f"; rollback failed: {_message(exc)}"
                run.outcome = "FAILED"
        for i, run in enumerate(runs):
            recorder.append({
                "type": "outcome", "action": "promote", "started_seq": started_seq, "target": run.as_target(),
                "account": run.target.account, "region": run.target.region, "artifact": digest,
                "commit": staged.commit, "outcome": run.outcome, "reason": run.reason,
                "version": run.published.version if run.published else None,
                "previous_version": run.previous.version if run.previous else None,
                "actor": self.actor, "build_id": holder_info(self.actor).get("build_id"), "approval": approval,
                "gates": [g.to_dict() for g in gate_results], "smoke": [s.to_dict() for s in run.smoke],
                "timings": run.timings, "closes": i == len(runs) - 1,
            })

    def print_summary(self, env: Environment, digest: str, runs: list[TargetRun]) -> None:
        rows = [[s.name, s.qualifier, "pass" if s.passed else "FAIL", s.status, f"{s.duration_ms:.0f}", s.reason]
                for r in runs for s in r.smoke]
        if rows:
            self.out.table(["smoke", "qualifier", "result", "status", "ms", "detail"], rows)
        self.out.text(render_table(["target", "outcome", "version", "previous", "detail"],
                                   [[r.label, r.outcome, r.published.version if r.published else None,
                                     r.previous.version if r.previous else None, r.reason] for r in runs],
                                   title=f"{env.name}: {digest[:12]}"))


def _message(exc: Exception) -> str:
    if isinstance(exc, PipelineError):
        return exc.message
    return one_line(f"unexpected error: {type(exc).__name__}: {exc}")


def _window(view: LedgerView) -> Any:
    for i, record in enumerate(view.newest_first()):
        if i >= PREDECESSOR_WINDOW:
            return
        yield record


