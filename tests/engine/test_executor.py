"""The executor's failure rules, on an in-memory stand-in for the Lambda adapter (no AWS).

The integration tests drive the same paths through the CLI; these pin the rules themselves:
an error undoes, a failed undo is named, a code mismatch never moves the alias, a failed wave
undoes its passed members and skips the rest.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time

from pipeline.aws.functions import FunctionVersion
from pipeline.config.merged import Target
from pipeline.config.values import SmokeCase, SmokeExpect
from pipeline.core.observed import ObservedTarget
from pipeline.core.plan import promotion_plan
from pipeline.core.smoke import Invocation
from pipeline.engine.executor import Executor, Source, TargetRun
from pipeline.engine.smoke_run import run_smoke
from pipeline.errors import PipelineError

GOOD = b"the release"
DIGEST = hashlib.sha256(GOOD).hexdigest()
B64 = base64.b64encode(hashlib.sha256(GOOD).digest()).decode()
OTHER = base64.b64encode(hashlib.sha256(b"something else").digest()).decode()


class FakeFunction:
    """Records what was asked of it; `fail` maps a method name to the error it raises."""

    def __init__(self, *, code: str = B64, fail: dict[str, Exception] | None = None) -> None:
        self.code, self.fail, self.calls = code, fail or {}, []
        self.alias: tuple[str, tuple[str, float] | None] | None = ("1", None)

    def _call(self, name: str, *args) -> None:
        self.calls.append((name, *args))
        if name in self.fail:
            raise self.fail[name]

    def deploy(self, bucket, key, version_id, architecture, expected=None) -> FunctionVersion:
        self._call("deploy", key)
        return FunctionVersion("2", self.code, "provided.al2023", "bootstrap")

    def point_alias(self, alias, version, *, extra=None, exists=True) -> None:
        self._call("point_alias", version, extra)
        self.alias = (version, extra)

    def delete_alias(self, alias) -> None:
        self._call("delete_alias")
        self.alias = None

    def invoke(self, qualifier, event):  # no smoke cases in these plans
        raise AssertionError("not invoked")


def runs_for(*fns: FakeFunction, wave_size: int = 1):
    states = [ObservedTarget(f"{i}" * 12, "us-east-1", "provided.al2023", "1", "cd" * 32, False)
              for i in range(1, len(fns) + 1)]
    plan = promotion_plan("dev", DIGEST, states, canary_percent=None, bake_seconds=0, smoke_cases=0,
                          wave_size=wave_size)
    previous = FunctionVersion("1", OTHER, "provided.al2023", "bootstrap")
    runs = [TargetRun(Target(s.account, s.region), fn, p, previous)  # type: ignore[arg-type]
            for s, fn, p in zip(states, fns, plan.targets, strict=True)]
    return plan, runs


def executor(lines: list[str]) -> Executor:
    return Executor(lines.append, source=Source("bucket", "key", None, "x86_64"))


def test_an_error_undoes_and_fails():
    fn = FakeFunction(fail={"deploy": PipelineError("function x: update_function_code: AccessDenied")})
    _, [run] = runs_for(fn)
    executor([]).run_target(run)
    assert run.outcome == "FAILED" and run.reason == "function x: update_function_code: AccessDenied"
    assert [s.kind for s in run.executed] == ["deploy-code", "restore-alias"]
    assert fn.alias == ("1", None)


def test_a_failed_undo_is_named_too():
    fn = FakeFunction(fail={"deploy": RuntimeError("boom"), "point_alias": PipelineError("alias: throttled")})
    _, [run] = runs_for(fn)
    executor([]).run_target(run)
    assert run.outcome == "FAILED"
    assert run.reason == "unexpected error: RuntimeError: boom; rollback failed too: alias: throttled"


def test_a_code_mismatch_never_moves_the_alias():
    fn = FakeFunction(code=OTHER)
    _, [run] = runs_for(fn)
    executor([]).run_target(run)
    assert run.outcome == "FAILED" and run.reason.endswith(f"expected {DIGEST}: alias not moved")
    assert [c[0] for c in fn.calls] == ["deploy"] and [s.kind for s in run.executed] == ["deploy-code",
                                                                                        "verify-code"]


def test_a_failed_wave_undoes_its_passed_member_and_skips_the_next():
    ok, bad, later = FakeFunction(), FakeFunction(fail={"deploy": PipelineError("denied")}), FakeFunction()
    plan, runs = runs_for(ok, bad, later, wave_size=2)
    lines: list[str] = []
    executor(lines).run_waves(plan, runs)
    assert [r.outcome for r in runs] == ["ROLLED_BACK", "FAILED", "SKIPPED"]
    assert runs[0].reason == "another target of its wave failed" and runs[2].reason == "an earlier wave failed"
    assert [s.kind for s in runs[0].executed] == ["deploy-code", "verify-code", "alias", "smoke", "restore-alias"]
    assert ok.alias == ("1", None) and later.calls == []
    assert any("rolled back: live back to v1" in line for line in lines)


class BarrierFunction:
    """Each invocation waits for all the others to arrive: a serial runner would never get past the first."""

    def __init__(self, parties: int) -> None:
        self.barrier = threading.Barrier(parties, timeout=5)
        self.order: list[str] = []

    def invoke(self, qualifier: str, event: dict) -> Invocation:
        self.barrier.wait()
        path = event.get("rawPath", "")
        if path == "/slow":
            time.sleep(0.05)  # the injected delay: it answers last, and is still reported first
        self.order.append(path)
        body = json.dumps({"statusCode": 200 if path != "/broken" else 500, "body": "{}"}).encode()
        return Invocation(body, 1.0, None, qualifier)


def test_smoke_cases_are_invoked_together_and_reported_in_their_order():
    cases = tuple(SmokeCase(f"case-{p}", path=p, expect=SmokeExpect(statusCode=200))
                  for p in ("/slow", "/broken", "/fast"))
    fn = BarrierFunction(len(cases))
    results = run_smoke(fn, cases, "7")  # type: ignore[arg-type]
    assert [r.name for r in results] == ["case-/slow", "case-/broken", "case-/fast"]
    assert [r.passed for r in results] == [True, False, True]  # a failing case does not stop the others
    assert fn.order[-1] == "/slow"
    assert all(r.qualifier == "7" for r in results)
