"""The executor: runs a plan's steps through the adapters, one target at a time, waves in parallel.

It decides nothing the plan has not decided: each step is done as written; a failing check
(VerifyCode, Smoke, Bake) or an error ends the target's steps, and the plan's `undo` steps put
its alias back. Every step carried out is appended to `TargetRun.executed`, which is how the
tests show that what runs is what `--dry-run` printed. `DisplayExecutor` is the dry run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pipeline.artifact.manifest import hex_sha256 as hex_sha
from pipeline.aws.functions import FunctionAdapter, FunctionVersion
from pipeline.config.merged import Target
from pipeline.config.values import SmokeCase
from pipeline.core import records as R
from pipeline.core import waits
from pipeline.core.plan import Plan, TargetPlan
from pipeline.core.smoke import SmokeResult
from pipeline.core.steps import (
    NEW_VERSION,
    Bake,
    DeleteAlias,
    DeployCode,
    PointAlias,
    Prune,
    Smoke,
    Step,
    SwitchRuntime,
    VerifyCode,
)
from pipeline.engine.pruning import prune_step
from pipeline.engine.smoke_run import first_failure, run_smoke
from pipeline.errors import PipelineError, one_line
from pipeline.output import Output

TIMING = {"switch-runtime": "switch_runtime", "deploy-code": waits.DEPLOY_TIMING, "alias": "alias",
          "alias-canary": "alias_canary", "alias-full": "alias_full", "restore-alias": "rollback",
          "remove-alias": "rollback", "smoke": "smoke", "bake": "bake", "prune": "prune"}


@dataclass
class TargetRun:
    """One target's plan while it runs: what it published, how it ended, what it did."""

    target: Target
    fn: FunctionAdapter
    plan: TargetPlan
    previous: FunctionVersion | None  # what the alias pointed at before (None: no alias yet)
    expected_update: float | None = None  # how long its last code update took (the ledger's word): times the polls
    published: FunctionVersion | None = None
    outcome: str | None = None
    reason: str = ""
    smoke: list[SmokeResult] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    executed: list[Step] = field(default_factory=list)
    prune: dict[str, Any] | None = None  # what its Prune step deleted, failed to delete and kept
    warnings: list[str] = field(default_factory=list)  # what went wrong without failing the run

    @property
    def label(self) -> str:
        return self.plan.label

    @property
    def ref(self) -> R.TargetRef:
        return R.TargetRef(self.target.account, self.target.region)

    def as_target(self) -> dict[str, str]:
        return self.ref.to_dict()


@dataclass(frozen=True)
class Source:
    """Where DeployCode takes the code from."""

    bucket: str
    key: str
    version_id: str | None
    architecture: str
    replicas: Mapping[str, tuple[str, str | None]] = field(default_factory=dict)  # region -> (bucket, version)

    def at(self, region: str) -> tuple[str, str | None]:
        """The bucket and object version in `region` (Lambda loads code only from its own region)."""
        return self.replicas.get(region, (self.bucket, self.version_id))


class StepFailed(Exception):
    def __init__(self, outcome: str, reason: str, undo: bool) -> None:
        super().__init__(reason)
        self.outcome, self.reason, self.undo = outcome, reason, undo


def message(exc: BaseException) -> str:
    if isinstance(exc, PipelineError):
        return exc.message
    return one_line(f"unexpected error: {type(exc).__name__}: {exc}")


class Executor:
    def __init__(self, progress: Callable[[str], None], *, smoke_cases: tuple[SmokeCase, ...] = (),
                 source: Source | None = None, bake: Callable[[TargetRun, int], str | None] | None = None) -> None:
        self.progress = progress
        self.smoke_cases = smoke_cases
        self.source = source
        self.bake = bake
        # Ctrl-C reaches only the main thread: the targets of a wave (worker threads) see it here, take no
        # further step, and go back (a bake waiting on it wakes at once)
        self.stop = threading.Event()

    # -- a whole plan ----------------------------------------------------------------------------------
    def run_waves(self, plan: Plan, runs: list[TargetRun]) -> None:
        """Targets in waves; a failed target rolls its whole wave back and skips the later waves."""
        by_plan = {id(r.plan): r for r in runs}
        for run in runs:
            if not run.plan.writes:
                run.outcome, run.reason = run.plan.record.outcome, run.plan.record.reason
                if run.outcome == R.PASSED:
                    run.published = run.previous
        waves = plan.waves()
        for n, wave in enumerate(waves):
            members = [by_plan[id(p)] for p in wave]
            if len(members) == 1:
                self.run_target(members[0])
            else:
                interrupted = False
                with ThreadPoolExecutor(max_workers=len(members)) as pool:
                    futures = [pool.submit(self.run_target, m) for m in members]
                    try:
                        for future in futures:
                            future.result()
                    except KeyboardInterrupt:
                        self.stop.set()  # the workers stop and undo; leaving this block waits for them
                        interrupted = True
                if interrupted:  # as for a failed target: its whole wave goes back
                    for run in members:
                        if run.outcome == R.PASSED:
                            self.undo(run, "interrupted")
                    raise KeyboardInterrupt
            if any(r.outcome != R.PASSED for r in members):
                for run in members:
                    if run.outcome == R.PASSED:
                        self.undo(run, "another target of its wave failed")
                for later in waves[n + 1:]:
                    for p in later:
                        by_plan[id(p)].outcome, by_plan[id(p)].reason = R.SKIPPED, "an earlier wave failed"
                return
        for run in runs:  # every wave passed: now (never before) the old versions go
            if run.outcome == R.PASSED and not self.stop.is_set():
                self.prune(run)

    def prune(self, run: TargetRun) -> None:
        """A passed run's Prune step (after every wave passed); it never fails the run."""
        for step in run.plan.steps:
            if isinstance(step, Prune) and not self.stop.is_set():
                self.do(run, step)

    def run_target(self, run: TargetRun) -> None:
        """The target's steps in order; sets run.outcome and run.reason."""
        try:
            for step in run.plan.steps:
                if not isinstance(step, Prune):  # run_waves prunes once the whole promotion passed
                    self.do(run, step)
        except StepFailed as failed:
            if failed.undo:
                self.undo(run, failed.reason)
            else:
                run.outcome, run.reason = failed.outcome, failed.reason
            return
        except Exception as exc:  # not only PipelineError: whatever broke, the alias goes back
            reason = message(exc)
            try:
                self.undo(run, reason)
            except Exception as again:
                reason += f"; rollback failed too: {message(again)}"
            run.outcome, run.reason = R.FAILED, reason
            return
        run.outcome, run.reason = R.PASSED, run.plan.record.reason

    def undo(self, run: TargetRun, why: str) -> None:
        """The plan's undo steps (alias back to what it was before); the run ends ROLLED_BACK."""
        for step in run.plan.undo:
            self.do(run, step, what=f"rolled back: {step.detail} ({why})")
        run.outcome, run.reason = R.ROLLED_BACK, why

    # -- one step --------------------------------------------------------------------------------------
    def do(self, run: TargetRun, step: Step, what: str = "") -> None:
        if self.stop.is_set() and not what:  # interrupted: no further step (the undo steps still run)
            published = run.published is not None
            raise StepFailed(R.ROLLED_BACK if published else R.FAILED, "interrupted", undo=published)
        run.executed.append(step)
        name = TIMING.get(step.kind, step.kind)
        start = time.perf_counter()
        try:
            detail = self._do(run, step)
        finally:
            run.timings[name] = round(time.perf_counter() - start, 3)
        self.progress(f"  {run.label}: {what or detail or step.detail} ({run.timings[name]:.2f}s)")

    def _do(self, run: TargetRun, step: Step) -> str:
        fn = run.fn
        if isinstance(step, SwitchRuntime):
            fn.last_wait = None
            fn.switch_runtime(step.runtime, step.handler)
            return f"runtime {step.current} -> {step.runtime}" + (f", {fn.last_wait}" if fn.last_wait else "")
        if isinstance(step, DeployCode):
            assert self.source is not None
            s = self.source
            fn.last_wait = None
            bucket, version_id = s.at(run.target.region)  # Lambda loads code only from its own region
            run.published = fn.deploy(bucket, s.key, version_id, s.architecture, expected=run.expected_update)
            return (f"code {step.digest[:12]} uploaded from S3 and published as v{run.published.version}"
                    + (f", {fn.last_wait}" if fn.last_wait else ""))
        if isinstance(step, VerifyCode):
            got = hex_sha(run.published.code_sha256) if run.published else None
            if got != step.digest:
                version = run.published.version if run.published else "?"
                raise StepFailed(R.FAILED, f"published version {version} has CodeSha256 {got}, "
                                           f"expected {step.digest}: alias not moved", undo=False)
            return f"CodeSha256 of v{version_of(run, NEW_VERSION)} matches"
        if isinstance(step, PointAlias):
            version = version_of(run, step.version)
            extra = (version_of(run, step.extra), step.weight) if step.extra else None
            fn.point_alias(step.alias, version, extra=extra, exists=not step.create)
            return (f"{step.alias}: {round((1 - step.weight) * 100)}% v{version}, "
                    f"{round(step.weight * 100)}% v{extra[0]}" if extra else f"{step.alias} -> v{version}")
        if isinstance(step, DeleteAlias):
            fn.delete_alias(step.alias)
            return f"{step.alias} removed"
        if isinstance(step, Smoke):
            results: list[SmokeResult] = []
            for qualifier in step.qualifiers:
                results += run_smoke(fn, self.smoke_cases, version_of(run, qualifier))
            run.smoke = results
            failure = first_failure(results)
            if failure is not None:
                raise StepFailed(R.ROLLED_BACK, failure, undo=True)
            return f"{len(results)} smoke case(s) on {', '.join(version_of(run, q) for q in step.qualifiers)}"
        if isinstance(step, Bake):
            assert self.bake is not None
            self.progress(f"  {run.label}: baking {step.seconds}s, watching alarms ...")
            start = time.perf_counter()
            interrupted = f"  {run.label}: bake interrupted after {{:.2f}}s of {step.seconds}s"
            try:
                failure = self.bake(run, step.seconds)
            except KeyboardInterrupt:  # say so before the undo's lines: the bake did not finish
                self.progress(interrupted.format(time.perf_counter() - start))
                raise
            if self.stop.is_set():  # a worker thread woken by Ctrl-C in the main thread
                self.progress(interrupted.format(time.perf_counter() - start))
                raise StepFailed(R.ROLLED_BACK, "interrupted", undo=True)
            if failure is not None:
                raise StepFailed(R.ROLLED_BACK, failure, undo=True)
            return "bake finished"
        if isinstance(step, Prune):  # never raises: a failed prune is a warning on a passed run
            pruned = prune_step(fn, run.label, step, run.published.version if run.published else None)
            run.prune, warning = pruned.summary(), pruned.warning()
            run.warnings += [warning] if warning else []
            return pruned.line()
        raise TypeError(f"no executor for {step!r}")


def version_of(run: TargetRun, version: str) -> str:
    """NEW_VERSION is the version this run's DeployCode published."""
    if version != NEW_VERSION:
        return version
    if run.published is None:
        raise PipelineError(f"{run.label}: no version was published yet")
    return run.published.version


class DisplayExecutor:
    """`--dry-run`: the same plan, shown and not run."""

    def __init__(self, out: Output) -> None:
        self.out = out

    def show(self, plan: Plan, title: str) -> list[dict[str, Any]]:
        self.out.table(["step", "target", "detail"], plan.rows(), title=title)
        return plan.to_list()
