"""A target's smoke cases against one version or alias: every case invoked, together, as a user's traffic
arrives (each is its own invocation and expectations; none reads another's outcome), the results kept in the
order the cases are written. The executor's Smoke step turns the first failure into a rollback.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from pipeline.aws.functions import FunctionAdapter
from pipeline.config.values import SmokeCase
from pipeline.core.smoke import SmokeResult, case_event, evaluate
from pipeline.errors import PipelineError

SMOKE_CONCURRENCY = 8  # smoke invocations in flight at once per target (each may be a cold start)


def run_smoke(fn: FunctionAdapter, cases: tuple[SmokeCase, ...], qualifier: str) -> list[SmokeResult]:
    """Every case's result, in the configured order; a failing case does not stop the others."""
    def one(case: SmokeCase) -> SmokeResult:
        try:
            inv = fn.invoke(qualifier, case_event(case))
        except PipelineError as exc:
            return SmokeResult(case.name, qualifier, False, exc.message, None, 0.0, "")
        return evaluate(case, qualifier, inv)
    if len(cases) <= 1:
        return [one(case) for case in cases]
    with ThreadPoolExecutor(max_workers=min(len(cases), SMOKE_CONCURRENCY),
                            thread_name_prefix=f"smoke-{qualifier}") as pool:
        return list(pool.map(one, cases))


def first_failure(results: list[SmokeResult]) -> str | None:
    for result in results:
        if not result.passed:
            return f"smoke {result.name!r} on {result.qualifier} failed: {result.reason}"
    return None
