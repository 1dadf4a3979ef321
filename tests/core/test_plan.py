"""The planner on observed-state fixtures (no AWS): every branch of promote, rollback and reconcile."""

from __future__ import annotations

import pytest

from pipeline.core.function import GO_RUNTIME
from pipeline.core.observed import ObservedTarget, PendingTarget, RollbackCandidate
from pipeline.core.plan import is_noop, lease_seconds, promotion_plan, reconcile_plan, rollback_plan
from pipeline.core.steps import (
    NEW_VERSION,
    Bake,
    DeleteAlias,
    DeployCode,
    PointAlias,
    RecordOutcome,
    Smoke,
    SwitchRuntime,
    VerifyCode,
)

DIGEST = "ab" * 32
OLD = "cd" * 32


def target(account: str = "111111111111", *, runtime: str | None = GO_RUNTIME, version: str | None = "1",
           sha: str | None = OLD, passed: bool = False) -> ObservedTarget:
    return ObservedTarget(account, "us-east-1", runtime, version, sha, passed)


def plan_of(*targets: ObservedTarget, canary: int | None = None, bake: int = 0, wave_size: int = 1):
    return promotion_plan("dev", DIGEST, list(targets), canary_percent=canary, bake_seconds=bake, smoke_cases=2,
                          wave_size=wave_size)


def test_stub_runtime_is_switched_first():
    t = target(runtime="python3.12", version=None, sha=None)
    [p] = plan_of(t).targets
    assert p.steps == (SwitchRuntime(t.label, "python3.12"), DeployCode(t.label, DIGEST), VerifyCode(t.label, DIGEST),
                       PointAlias(t.label, NEW_VERSION, create=True), Smoke(t.label, ("live",), 2))
    assert p.undo == (DeleteAlias(t.label),)  # nothing verified ran here before: the alias goes away


def test_first_deploy_creates_the_alias_and_even_a_canary_env_goes_all_at_once():
    t = target(version=None, sha=None)
    [p] = plan_of(t, canary=10, bake=60).targets
    assert [s.kind for s in p.steps] == ["deploy-code", "verify-code", "alias", "smoke"]
    assert p.steps[2] == PointAlias(t.label, NEW_VERSION, create=True)
    assert p.record.outcome is None and p.record.reason == "smoke passed"


def test_code_update_moves_the_alias_and_undo_goes_back_to_the_previous_version():
    t = target(version="4")
    [p] = plan_of(t).targets
    assert [s.kind for s in p.steps] == ["deploy-code", "verify-code", "alias", "smoke"]
    alias = p.steps[2]
    assert isinstance(alias, PointAlias) and not alias.create and alias.weights == {NEW_VERSION: 1.0}
    assert p.undo == (PointAlias(t.label, "4", kind="restore-alias"),)
    assert p.undo[0].detail == "live back to v4 (weights cleared)"
    assert "on failure the alias goes back to v4" in p.record.detail


def test_noop_when_every_target_runs_the_digest_with_a_passed_record():
    current = target(sha=DIGEST, passed=True)
    assert is_noop([current], DIGEST, lock_held=False)
    assert not is_noop([current], DIGEST, lock_held=True)  # an open lock is never a no-op
    assert not is_noop([target(sha=DIGEST, passed=False)], DIGEST, lock_held=False)  # live but never passed here
    [p] = plan_of(current).targets
    assert p.steps == () and not p.writes and p.record == RecordOutcome(current.label, "PASSED",
                                                                        "already live and passed")
    assert plan_of(current).rows() == []


def test_canary_splits_smokes_both_bakes_then_goes_full():
    t = target(version="3")
    [p] = plan_of(t, canary=10, bake=300).targets
    canary, smoke, bake, full = p.steps[2:]
    assert canary == PointAlias(t.label, "3", kind="alias-canary", extra=NEW_VERSION, weight=0.1)
    assert canary.weights == {"3": 0.9, NEW_VERSION: 0.1}
    assert canary.detail == "live: 90% v3, 10% new version"
    assert smoke == Smoke(t.label, (NEW_VERSION, "live"), 2)
    assert bake == Bake(t.label, 300)
    assert full == PointAlias(t.label, NEW_VERSION, kind="alias-full") and full.detail == "live: 100% new version"
    assert p.undo == (PointAlias(t.label, "3", kind="restore-alias"),)  # also clears the weights


def test_waves_hold_only_targets_with_steps_in_config_order():
    targets = [target(str(i) * 12) for i in range(1, 6)]
    targets[2] = target("333333333333", sha=DIGEST, passed=True)  # current: no wave for it
    plan = plan_of(*targets, wave_size=2)
    assert [[p.label.split("/")[0] for p in wave] for wave in plan.waves()] == [
        ["111111111111", "222222222222"], ["444444444444", "555555555555"]]
    assert len(plan.targets) == 5  # every target is recorded, the current one as already live


def test_rollback_target_points_at_the_passed_version_and_undo_returns():
    t = target(version="5")
    plan = rollback_plan("dev", DIGEST, [RollbackCandidate(t, "2", DIGEST)], smoke_cases=1)
    [p] = plan.targets
    assert p.steps == (PointAlias(t.label, "2", previous="5"), Smoke(t.label, ("live",), 1))
    assert p.undo == (PointAlias(t.label, "5", kind="restore-alias"),)
    assert p.record.reason == f"rolled back to {DIGEST[:12]}"


@pytest.mark.parametrize(("version", "holds", "expected"), [
    (None, None, "no passed version of abababababab recorded for 111111111111/us-east-1"),
    ("2", OLD, f"version 2 no longer holds abababababab (has {OLD})"),
    ("2", None, "version 2 no longer holds abababababab (has nothing)"),
])
def test_rollback_target_that_cannot_go_back_fails_without_a_write(version, holds, expected):
    plan = rollback_plan("dev", DIGEST, [RollbackCandidate(target(), version, holds)], smoke_cases=1)
    [p] = plan.targets
    assert p.steps == () and p.record.outcome == "FAILED" and p.record.reason == expected


def test_reconcile_puts_back_removes_or_leaves_alone():
    pending = [PendingTarget("111111111111", "us-east-1", before="1", live="2"),
               PendingTarget("222222222222", "us-east-1", before="1", live="1"),
               PendingTarget("333333333333", "us-east-1", before=None, live="7"),
               PendingTarget("444444444444", "us-east-1", before=None, live=None)]
    plan = reconcile_plan("dev", DIGEST, pending, "promote by x (ledger/dev/00000004.json) did not finish")
    moved, kept, created, nothing = plan.targets
    assert moved.steps == (PointAlias(moved.label, "1", kind="restore-alias", previous="2"),)
    assert moved.record.reason.endswith("111111111111/us-east-1: alias live moved back v2 -> v1")
    assert kept.steps == (PointAlias(kept.label, "1", kind="restore-alias", previous="1"),)  # clears weights
    assert kept.record.reason.endswith("alias live kept at v1 (weights cleared)")
    assert created.steps == (DeleteAlias(created.label),)
    assert created.record.reason.endswith("removed alias live (v7, never verified)")
    assert nothing.steps == () and nothing.record.reason.endswith("no alias, nothing to undo")
    assert {p.record.outcome for p in plan.targets} == {"ABORTED"}


def test_steps_are_frozen():
    step = DeployCode("a/b", DIGEST)
    with pytest.raises(AttributeError):
        step.digest = OLD  # type: ignore[misc]


def test_lease_covers_bake_and_smoke():
    assert lease_seconds(None, 2) == 420
    assert lease_seconds(600, 1) == 960
