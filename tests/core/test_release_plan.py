"""A multi-function service's release plan (no AWS): deploys and verifies before any alias moves, invoke smoke
on the new versions, http smoke on live, one failure puts every function back, canary per function alias."""

from __future__ import annotations

from pipeline.core import records as R
from pipeline.core.function import GO_RUNTIME
from pipeline.core.ledger import Record
from pipeline.core.observed import ObservedTarget, ServiceTarget
from pipeline.core.plan import promotion_plan
from pipeline.core.release_plan import (
    HttpSmoke,
    OnFunction,
    ServiceRollback,
    phases,
    service_promotion_plan,
    service_rollback_plan,
)
from pipeline.core.steps import NEW_VERSION, Bake, DeleteAlias, DeployCode, PointAlias, Smoke, SwitchRuntime, VerifyCode

DIGEST = "ab" * 32
OLD = "cd" * 32
A = "111111111111/us-east-1"


def fn(version: str | None = "3", sha: str | None = OLD, runtime: str = GO_RUNTIME) -> ObservedTarget:
    return ObservedTarget("111111111111", "us-east-1", runtime, version, sha, False)


def service(api: ObservedTarget | None = None, worker: ObservedTarget | None = None, *, passed: bool = False,
            account: str = "111111111111") -> ServiceTarget:
    return ServiceTarget(account, "us-east-1", (("api", api or fn()), ("worker", worker or fn("1"))), passed)


def plan_of(*targets: ServiceTarget, canary: int | None = None, http: int = 2, wave_size: int = 1):
    return service_promotion_plan("dev", DIGEST, list(targets), invoke_cases={"worker": 1}, http_cases=http,
                                  canary_percent=canary, bake_seconds=60, wave_size=wave_size,
                                  handlers={"api": "api", "worker": "worker"})


def test_release_order_deploys_and_verifies_every_function_before_any_alias_moves():
    [p] = plan_of(service()).targets
    kinds = [(s.kind, getattr(s, "function", None)) for s in p.steps]
    assert kinds == [("deploy-code", "api"), ("deploy-code", "worker"), ("verify-code", "api"),
                     ("verify-code", "worker"), ("smoke", "worker"), ("alias", "api"), ("alias", "worker"),
                     ("http-smoke", None)]
    first_alias = next(i for i, s in enumerate(p.steps) if s.kind == "alias")
    assert all(s.kind in ("deploy-code", "verify-code", "smoke") for s in p.steps[:first_alias])
    assert p.steps[1] == OnFunction("worker", DeployCode(f"{A} worker", DIGEST))
    assert p.steps[5] == OnFunction("api", PointAlias(f"{A} api", NEW_VERSION, previous="3"))


def test_invoke_smoke_runs_on_the_new_versions_and_http_smoke_on_live():
    [p] = plan_of(service()).targets
    [smoke] = [s for s in p.steps if s.kind == "smoke"]
    assert smoke == OnFunction("worker", Smoke(f"{A} worker", (NEW_VERSION,), 1))  # the published version
    assert p.steps[-1] == HttpSmoke(A, 2)
    assert "api" not in {getattr(s, "function", "") for s in p.steps if s.kind == "smoke"}  # no invoke case on api


def test_one_failure_puts_every_function_back():
    [p] = plan_of(service(worker=fn(None, None))).targets
    assert p.undo == (OnFunction("api", PointAlias(f"{A} api", "3", kind="restore-alias")),
                      OnFunction("worker", DeleteAlias(f"{A} worker")))
    assert p.record.on_failure == "api v3, worker none"


def test_a_function_on_the_bootstrap_stub_is_no_release_no_canary_and_goes_back_to_the_stub():
    stub = fn("1", "ee" * 32, runtime="python3.12")
    [p] = plan_of(service(api=stub, worker=stub), canary=10).targets
    assert p.steps[:2] == (OnFunction("api", SwitchRuntime(f"{A} api", "python3.12", handler="api")),
                           OnFunction("worker", SwitchRuntime(f"{A} worker", "python3.12", handler="worker")))
    assert not any(s.kind in ("alias-canary", "bake", "alias-full") for s in p.steps)  # nothing to canary against
    assert OnFunction("api", PointAlias(f"{A} api", NEW_VERSION, previous="1")) in p.steps  # alias exists: moved
    assert p.undo[0] == OnFunction("api", PointAlias(f"{A} api", "1", kind="restore-alias"))  # back to the stub


def test_canary_weights_apply_per_function_alias_and_http_runs_during_the_split():
    [p] = plan_of(service(), canary=10).targets
    kinds = [s.kind for s in p.steps]
    assert kinds == ["deploy-code", "deploy-code", "verify-code", "verify-code", "smoke", "alias-canary",
                     "alias-canary", "http-smoke", "bake", "alias-full", "alias-full"]
    assert p.steps[5] == OnFunction("api", PointAlias(f"{A} api", "3", kind="alias-canary", extra=NEW_VERSION,
                                                      weight=0.1))
    assert p.steps[8] == Bake(A, 60)


def test_phases_group_one_kind_across_functions():
    [p] = plan_of(service(), canary=10).targets
    assert [[s.kind for s in ph] for ph in phases(p.steps)] == [
        ["deploy-code"] * 2, ["verify-code"] * 2, ["smoke"], ["alias-canary"] * 2, ["http-smoke"], ["bake"],
        ["alias-full"] * 2]


def test_current_release_is_a_noop_and_waves_are_kept():
    current = service(fn("3", DIGEST), fn("1", DIGEST), passed=True)
    other = service(account="222222222222")
    plan = plan_of(current, other, wave_size=2)
    assert not plan.targets[0].writes and plan.targets[0].record.outcome == R.PASSED
    assert [len(w) for w in plan.waves()] == [1]
    assert not service(fn("3", DIGEST), fn("1", OLD), passed=True).is_current(DIGEST)  # one function behind


def test_plan_rows_show_every_function():
    rows = plan_of(service()).rows()
    assert [f"{A} api", f"{A} worker"] == [r[1] for r in rows if r[0] == "deploy-code"]
    assert rows[-1][0] == "record"


def test_one_function_plan_is_unchanged():
    t = ObservedTarget("111111111111", "us-east-1", GO_RUNTIME, "1", OLD, False)
    [p] = promotion_plan("dev", DIGEST, [t], canary_percent=None, bake_seconds=0, smoke_cases=2,
                         wave_size=1).targets
    assert p.steps == (DeployCode(t.label, DIGEST), VerifyCode(t.label, DIGEST),
                       PointAlias(t.label, NEW_VERSION, previous="1"), Smoke(t.label, ("live",), 2))


def test_rollback_moves_every_function_to_the_release_then_smoke():
    state = service(fn("4", DIGEST), fn("2", DIGEST))
    ok = ServiceRollback(state, (("api", "3", OLD), ("worker", "1", OLD)))
    [p] = service_rollback_plan("dev", OLD, [ok], invoke_cases={"worker": 1}, http_cases=1).targets
    assert p.steps == (OnFunction("api", PointAlias(f"{A} api", "3", previous="4")),
                       OnFunction("worker", PointAlias(f"{A} worker", "1", previous="2")),
                       OnFunction("worker", Smoke(f"{A} worker", ("live",), 1)), HttpSmoke(A, 1))
    gone = ServiceRollback(state, (("api", "3", OLD), ("worker", None, None)))
    [q] = service_rollback_plan("dev", OLD, [gone], invoke_cases={}, http_cases=0).targets
    assert not q.writes and q.record.outcome == R.FAILED and "worker" in q.record.reason


def test_records_name_every_function_and_old_shapes_stay_readable():
    import datetime as dt

    started = R.started(action="promote", artifact=DIGEST, commit=None, actor="me", holder=R.Holder("me"),
                        targets=[R.TargetRef("111111111111", "us-east-1")],
                        lease_expires=dt.datetime(2024, 1, 1), previous={A: (None, None)},
                        functions={A: {"api": ("3", OLD), "worker": (None, None)}})
    assert started["functions"] == ["api", "worker"]
    rec = Record("k1", b"", dict(started, seq=1))
    assert R.previous_versions(rec, A) == {"api": "3", "worker": None}
    out = R.outcome(action="promote", started_seq=1, target=R.TargetRef("111111111111", "us-east-1"),
                    artifact=DIGEST, commit=None, outcome=R.PASSED, reason="", version=None, previous_version=None,
                    actor="me", closes=True, functions={"api": {"version": "4", "sha256": DIGEST}})
    orec = Record("k2", b"", dict(out, seq=2))
    assert R.function_versions(orec) == {"api": "4"} and R.function_sha256s(orec) == {"api": DIGEST}
    old = Record("k3", b"", {"type": "outcome", "version": "7", "artifact": OLD, "seq": 3})
    assert R.function_versions(old) == {"": "7"} and R.function_sha256s(old) == {"": OLD}
    assert R.previous_versions(Record("k4", b"", {"previous": {A: {"version": "2"}}}), A) == {"": "2"}
