"""The executor of a multi-function service's plans (core/release_plan.py): the one executor, per function.

A target's run (`ServiceRun`) holds one `FunctionPart` per function (its adapter, what it published, its
own executed steps); an `OnFunction` step is the base executor's step done on that part, so deploy, verify,
alias moves, smoke and restores are exactly the one-function executor's. A phase (`core.release_plan.phases`)
of several functions runs in threads, one per function; a failure in any ends the target after the phase,
and `undo` puts back every function whose alias this run moved. `HttpSmoke` sends the env's `http:` cases
to the target's HTTP API (`endpoint(run)`), which reaches the `live` aliases.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from pipeline.artifact.manifest import hex_sha256
from pipeline.aws.functions import FunctionVersion
from pipeline.aws.http_smoke import send
from pipeline.config.values import SmokeCase
from pipeline.core import records as R
from pipeline.core.release_plan import HttpSmoke, OnFunction, phases
from pipeline.core.smoke import SmokeResult, evaluate
from pipeline.core.steps import PointAlias, Prune, Smoke, Step
from pipeline.engine.executor import Executor, Source, StepFailed, TargetRun, message, version_of
from pipeline.engine.smoke_run import SMOKE_CONCURRENCY, first_failure, run_smoke
from pipeline.errors import PipelineError


@dataclass
class FunctionPart(TargetRun):
    """One function of a target's run (its adapter in `fn`)."""

    key: str = ""

    @property
    def label(self) -> str:
        return f"{self.plan.label} {self.key}"

    @property
    def moved(self) -> bool:
        """This run pointed its alias somewhere (its undo must put it back)."""
        return any(isinstance(s, PointAlias) for s in self.executed)


@dataclass
class ServiceRun(TargetRun):
    """A target of a service: every function's part, and the http cases' results."""

    parts: dict[str, FunctionPart] = field(default_factory=dict)
    http: list[SmokeResult] = field(default_factory=list)

    def collect(self) -> None:
        """The smoke results and timings of every part, for the record."""
        self.smoke = [r for p in self.parts.values() for r in p.smoke] + self.http
        for key, part in self.parts.items():
            self.timings.update({f"{key}.{name}": t for name, t in part.timings.items()})

    def functions(self) -> dict[str, dict[str, str | None]]:
        """What the outcome records per function: the version it runs now (hex CodeSha256) and before."""
        out = {}
        for key, part in self.parts.items():
            now = part.published if part.published is not None and self.outcome == R.PASSED else part.previous
            out[key] = {"version": now.version if now else None, "sha256": _hex(now),
                        "previous_version": part.previous.version if part.previous else None,
                        "published": part.published.version if part.published else None,
                        **({"prune": part.prune} if part.prune is not None else {})}
        return out


def _hex(version: FunctionVersion | None) -> str | None:
    return hex_sha256(version.code_sha256) if version else None


class ServiceExecutor(Executor):
    def __init__(self, progress: Callable[[str], None], *, smoke_cases: tuple[SmokeCase, ...] = (),
                 source: Source | None = None, bake: Callable[[TargetRun, int], str | None] | None = None,
                 endpoint: Callable[[TargetRun], str] | None = None) -> None:
        super().__init__(progress, smoke_cases=smoke_cases, source=source, bake=bake)
        self.endpoint = endpoint

    def run_target(self, run: TargetRun) -> None:
        """The target's phases in order (a phase of several functions at once); sets outcome and reason."""
        assert isinstance(run, ServiceRun)
        try:
            for phase in phases(run.plan.steps):
                if not _pruning(phase):  # run_waves prunes once the whole promotion passed
                    self._phase(run, phase)
        except StepFailed as failed:
            self.undo(run, failed.reason)
            if not failed.undo:
                run.outcome = failed.outcome
            return
        except Exception as exc:  # whatever broke, every moved alias goes back
            reason = message(exc)
            try:
                self.undo(run, reason)
            except Exception as again:
                reason += f"; rollback failed too: {message(again)}"
            run.outcome, run.reason = R.FAILED, reason
            return
        finally:
            run.collect()
        run.outcome, run.reason = R.PASSED, run.plan.record.reason

    def prune(self, run: TargetRun) -> None:
        """Every function's Prune step at once (one thread per function); a failure is the run's warning."""
        assert isinstance(run, ServiceRun)
        steps = [s for s in run.plan.steps if isinstance(s, OnFunction) and isinstance(s.step, Prune)]
        if not steps:
            return
        try:
            self._phase(run, list(steps))
        except Exception as exc:  # prune_step never raises; an interrupt between steps may: the run stands
            run.warnings.append(f"warning: {run.label}: prune stopped: {message(exc)}")
        run.warnings += [w for part in run.parts.values() for w in part.warnings]

    def _phase(self, run: ServiceRun, phase: list[object]) -> None:
        if len(phase) == 1:
            self.do(run, phase[0])
            return
        with ThreadPoolExecutor(max_workers=len(phase), thread_name_prefix=f"{run.label}-") as pool:
            futures: list[Future[None]] = [pool.submit(self.do, run, step) for step in phase]
            try:
                errors = [f.exception() for f in futures]
            except KeyboardInterrupt:
                self.stop.set()  # the other functions take no further step; leaving the block waits for them
                raise
        failed = [e for e in errors if e is not None]
        if failed:  # a check's failure first (it names the function), else the first error
            raise next((e for e in failed if isinstance(e, StepFailed)), failed[0])

    def undo(self, run: TargetRun, why: str) -> None:
        """Every function whose alias this run moved goes back (the plan's undo step for it)."""
        assert isinstance(run, ServiceRun)
        for step in run.plan.undo:
            if isinstance(step, OnFunction) and run.parts[step.function].moved:
                self.do(run, step, what=f"rolled back: {step.detail} ({why})")
        run.outcome, run.reason = R.ROLLED_BACK, why

    def do(self, run: TargetRun, step: Step, what: str = "") -> None:
        if isinstance(step, OnFunction):
            assert isinstance(run, ServiceRun)
            run.executed.append(step)
            super().do(run.parts[step.function], step.step, what)
            return
        super().do(run, step, what)

    def _do(self, run: TargetRun, step: Step) -> str:
        if isinstance(step, Smoke) and isinstance(run, FunctionPart):
            cases = tuple(c for c in self.smoke_cases if c.http is None and c.function == run.key)
            results: list[SmokeResult] = []
            for qualifier in step.qualifiers:
                version = version_of(run, qualifier)
                results += [dataclasses.replace(r, qualifier=f"{run.key}:{version}")
                            for r in run_smoke(run.fn, cases, version)]
            run.smoke = results
            failure = first_failure(results)
            if failure is not None:
                raise StepFailed(R.ROLLED_BACK, failure, undo=True)
            return f"{len(results)} smoke case(s) on {run.key} " + ", ".join(
                version_of(run, q) for q in step.qualifiers)
        if isinstance(step, HttpSmoke):
            assert isinstance(run, ServiceRun) and self.endpoint is not None
            endpoint = self.endpoint(run)
            run.http = http_smoke(endpoint, tuple(c for c in self.smoke_cases if c.http is not None))
            failure = first_failure(run.http)
            if failure is not None:
                raise StepFailed(R.ROLLED_BACK, failure, undo=True)
            return f"{len(run.http)} http case(s) against {endpoint}"
        return super()._do(run, step)


def _pruning(phase: list[object]) -> bool:
    return all(isinstance(s, OnFunction) and isinstance(s.step, Prune) for s in phase)


def http_smoke(endpoint: str, cases: tuple[SmokeCase, ...]) -> list[SmokeResult]:
    """Every http case sent at once (as users' requests arrive), results in the configured order."""
    def one(case: SmokeCase) -> SmokeResult:
        assert case.http is not None
        try:
            answer = send(endpoint, case.http)
        except PipelineError as exc:
            return SmokeResult(case.name, "http", False, exc.message, None, 0.0, "")
        return evaluate(case, "http", answer)
    with ThreadPoolExecutor(max_workers=max(1, min(len(cases), SMOKE_CONCURRENCY))) as pool:
        return list(pool.map(one, cases))


def service_run(run_target: TargetRun, parts: dict[str, FunctionPart]) -> ServiceRun:
    """A ServiceRun from a TargetRun's fields and its parts."""
    fields = {f.name: getattr(run_target, f.name) for f in dataclasses.fields(TargetRun)}
    return ServiceRun(**fields, parts=parts)
