"""One target (account/region) of an environment: observe it, deploy to it, smoke it, roll it back."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.artifact.manifest import hex_sha256 as hex_sha
from pipeline.aws.functions import FunctionAdapter, FunctionVersion
from pipeline.config.files import SmokeCase
from pipeline.config.merged import Environment, Target
from pipeline.core.function import GO_HANDLER, GO_RUNTIME, LIVE_ALIAS
from pipeline.core.plan import TargetState
from pipeline.core.smoke import SmokeResult, case_event, evaluate
from pipeline.errors import PipelineError


@dataclass
class TargetRun:
    target: Target
    fn: FunctionAdapter
    state: TargetState
    previous: FunctionVersion | None  # what the alias pointed at before (None: no alias yet)
    published: FunctionVersion | None = None
    outcome: str | None = None
    reason: str = ""
    smoke: list[SmokeResult] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.state.label

    def as_target(self) -> dict[str, str]:
        return {"account": self.target.account, "region": self.target.region}

    def timed(self, name: str, fn: Callable[[], Any], progress: Callable[[str], None] | None = None,
              what: str = "") -> Any:
        """Run one step, keep its duration, and (with `progress`) say what it did and how long it took."""
        start = time.perf_counter()
        try:
            return fn()
        finally:
            self.timings[name] = round(time.perf_counter() - start, 3)
            if progress is not None:
                progress(f"  {self.label}: {what or name} ({self.timings[name]:.2f}s)")


def observe(fn: FunctionAdapter, target: Target, passed_here: bool) -> TargetRun:
    """Read the live alias (one call); fall back to the function itself when there is no alias yet."""
    live = fn.version(LIVE_ALIAS)
    runtime = live.runtime if live else fn.require().runtime
    state = TargetState(target.account, target.region, runtime, live.version if live else None,
                        hex_sha(live.code_sha256) if live else None, passed_here)
    return TargetRun(target, fn, state, live)


def run_smoke(run: TargetRun, cases: tuple[SmokeCase, ...], qualifier: str) -> list[SmokeResult]:
    results = []
    for case in cases:
        try:
            inv = run.fn.invoke(qualifier, case_event(case))
        except PipelineError as exc:
            results.append(SmokeResult(case.name, qualifier, False, exc.message, None, 0.0, ""))
            continue
        results.append(evaluate(case, qualifier, inv))
    return results


def deploy(run: TargetRun, env: Environment, bucket: str, key: str, object_version: str | None, digest: str,
           progress: Callable[[str], None], bake: Callable[[TargetRun, int], str | None]) -> None:
    """Carry out the plan for one target; sets run.outcome (PASSED / FAILED / ROLLED_BACK) and run.reason."""
    fn = run.fn
    if run.state.runtime != GO_RUNTIME:
        run.timed("switch_runtime", lambda: fn.switch_runtime(GO_RUNTIME, GO_HANDLER), progress,
                  f"runtime {run.state.runtime} -> {GO_RUNTIME}, waited for the update")
    published = run.timed("deploy_code", lambda: fn.deploy(bucket, key, object_version, env.function.architecture),
                          progress, f"code {digest[:12]} uploaded from S3 and published")
    run.published = published
    got = hex_sha(published.code_sha256)
    if got != digest:
        run.outcome, run.reason = "FAILED", (f"published version {published.version} has CodeSha256 {got}, "
                                             f"expected {digest}: alias not moved")
        return
    previous = run.previous.version if run.previous else None
    canary = env.strategy.canary if previous else None
    if canary:
        run.timed("alias_canary", lambda: fn.point_alias(LIVE_ALIAS, previous, extra=(published.version,
                                                                                     canary.percent / 100)),
                  progress, f"{LIVE_ALIAS}: {canary.percent}% to v{published.version}, rest on v{previous} (canary)")
        run.smoke = run.timed("smoke", lambda: run_smoke(run, env.smoke, published.version)
                              + run_smoke(run, env.smoke, LIVE_ALIAS), progress,
                              f"{2 * len(env.smoke)} smoke case(s) on v{published.version} and {LIVE_ALIAS}")
        failure = _first_failure(run.smoke)
        if failure is None:
            progress(f"  {run.label}: baking {canary.bake_seconds}s, watching alarms ...")
            failure = run.timed("bake", lambda: bake(run, canary.bake_seconds), progress, "bake finished")
        if failure is None:
            run.timed("alias_full", lambda: fn.point_alias(LIVE_ALIAS, published.version), progress,
                      f"{LIVE_ALIAS}: 100% on v{published.version}")
    else:
        run.timed("alias", lambda: fn.point_alias(LIVE_ALIAS, published.version, exists=previous is not None),
                  progress, f"{LIVE_ALIAS} -> v{published.version}")
        run.smoke = run.timed("smoke", lambda: run_smoke(run, env.smoke, LIVE_ALIAS), progress,
                              f"{len(env.smoke)} smoke case(s) on {LIVE_ALIAS}")
        failure = _first_failure(run.smoke)
    if failure is None:
        run.outcome, run.reason = "PASSED", "smoke passed"
        return
    roll_back(run, f"{failure}", progress)


def roll_back(run: TargetRun, why: str, progress: Callable[[str], None]) -> None:
    """Alias back to what it pointed at before this promotion (or away, if there was nothing)."""
    previous = run.previous.version if run.previous else None
    what = f"rolled back: {LIVE_ALIAS} -> " + (f"v{previous}" if previous else "removed") + f" ({why})"
    if previous:
        run.timed("rollback", lambda: run.fn.point_alias(LIVE_ALIAS, previous), progress, what)
    else:
        run.timed("rollback", lambda: run.fn.delete_alias(LIVE_ALIAS), progress, what)
    run.outcome, run.reason = "ROLLED_BACK", why


def _first_failure(results: list[SmokeResult]) -> str | None:
    for result in results:
        if not result.passed:
            return f"smoke {result.name!r} on {result.qualifier} failed: {result.reason}"
    return None
