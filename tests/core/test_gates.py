"""The gates on hand-built facts (no AWS): each gate's pass and fail, and the refusal line."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

from pipeline.core import gates as G
from pipeline.core.observed import GateFacts

DIGEST = "ab" * 32
WEDNESDAY = dt.datetime(2026, 11, 18, 10, 0, tzinfo=dt.timezone.utc)


def facts(**changes) -> GateFacts:
    base = GateFacts(requires="dev", passed_in_requires=True, approval_required=False, approver=None, reason=None,
                     dirty=False, freeze=(), timezone="UTC", now=WEDNESDAY, alarm_states={}, digest=DIGEST,
                     staged_sha256=DIGEST, staged_where="s3://b/k", lock_holder=None, lock_age_seconds=None,
                     lock_key="")
    return dataclasses.replace(base, **changes)


def by_name(results: list[G.GateResult]) -> dict[str, G.GateResult]:
    return {g.name: g for g in results}


def test_all_pass_in_order_and_no_refusal():
    results = G.evaluate(facts())
    assert [g.name for g in results] == ["predecessor", "approval", "clean", "freeze", "alarms", "integrity",
                                         "lock"]
    assert all(g.passed for g in results) and G.refusal(results) is None


def test_each_failure_is_named_with_its_reason():
    results = by_name(G.evaluate(facts(
        passed_in_requires=False, approval_required=True, freeze=("Wed 09:00-Wed 11:00",),
        alarm_states={"errors": "ALARM", "gone": None}, staged_sha256=None, lock_holder="arn:x",
        lock_age_seconds=150, lock_key="ledger/test/00000003.json")))
    assert [n for n, g in results.items() if g.passed] == ["clean"]  # not required: see its own test
    assert "no passed smoke record in dev" in results["predecessor"].reason
    assert "--approve" in results["approval"].reason
    assert results["freeze"].reason == ("frozen until Wed 2026-11-18 11:00 UTC "
                                        "(window Wed 09:00-Wed 11:00; now Wed 10:00)")
    assert results["freeze"].until == "2026-11-18T11:00+00:00"
    assert results["alarms"].reason == "in ALARM: errors; not found: gone"
    assert "is not staged at s3://b/k" in results["integrity"].reason
    assert results["lock"].reason == "held by arn:x for 2m (ledger/test/00000003.json)"
    message, details = G.refusal(list(results.values()))
    assert message.startswith("refused: predecessor: ")
    failed = [g for g in results.values() if not g.passed]
    assert message == "refused: " + "; ".join(f"{g.name}: {g.reason}" for g in failed)
    for gate in failed:  # each failing gate once, with its reason
        assert message.count(gate.reason) == 1
    assert len(details) == 6 and message.count("\n") == 0


def test_first_stage_dirty_build_and_approver():
    results = by_name(G.evaluate(facts(requires=None, approval_required=True, approver="arn:me", reason="ok",
                                       dirty=True)))
    assert results["predecessor"].passed and "first stage" in results["predecessor"].reason
    assert not results["approval"].passed and "dirty work tree" in results["approval"].reason
    results = by_name(G.evaluate(facts(approval_required=True, approver="arn:me", reason="ok")))
    assert results["approval"].passed and results["approval"].reason == "approved by arn:me: ok"


def test_freeze_window_over_the_weekend_in_the_env_timezone():
    friday_evening = dt.datetime(2026, 11, 20, 17, 30, tzinfo=dt.timezone.utc)  # 18:30 in Berlin
    gate = by_name(G.evaluate(facts(freeze=("Fri 15:00-Mon 08:00",), timezone="Europe/Berlin",
                                    now=friday_evening)))["freeze"]
    assert not gate.passed and gate.reason == ("frozen until Mon 2026-11-23 08:00 Europe/Berlin "
                                               "(window Fri 15:00-Mon 08:00; now Fri 18:30)")
    assert gate.to_dict()["until"] == "2026-11-23T08:00+01:00"
    monday = dt.datetime(2026, 11, 23, 8, 30, tzinfo=dt.timezone.utc)
    assert by_name(G.evaluate(facts(freeze=("Fri 15:00-Mon 08:00",), timezone="Europe/Berlin",
                                    now=monday)))["freeze"].passed


def test_integrity_names_a_replaced_object():
    gate = by_name(G.evaluate(facts(staged_sha256="cd" * 32)))["integrity"]
    assert not gate.passed and gate.reason == f"s3://b/k has sha256 {'cd' * 32}, expected {DIGEST}"


def test_integrity_checks_the_replica_of_every_region_the_promotion_touches():
    ok = ("eu-west-1", "s3://r/k", DIGEST)
    gate = by_name(G.evaluate(facts(replicas=(ok,))))["integrity"]
    assert gate.passed and "replicas in eu-west-1" in gate.reason
    missing = by_name(G.evaluate(facts(replicas=(ok, ("ap-south-1", "s3://a/k", None)))))["integrity"]
    assert not missing.passed and "no replica in ap-south-1 (s3://a/k)" in missing.reason
    replaced = by_name(G.evaluate(facts(replicas=(("eu-west-1", "s3://r/k", "cd" * 32),))))["integrity"]
    assert not replaced.passed and "replaced after staging" in replaced.reason


def test_freeze_until_follows_windows_that_run_into_each_other_and_wall_clock_over_dst():
    berlin = ZoneInfo("Europe/Berlin")
    friday = dt.datetime(2026, 3, 27, 18, 0, tzinfo=berlin)  # the clocks go forward on Sunday 29 March
    until = G.freeze_until(["Fri 15:00-Mon 08:00", "Mon 08:00-Mon 10:00"], friday)
    assert until == dt.datetime(2026, 3, 30, 10, 0, tzinfo=berlin) and until.utcoffset() == dt.timedelta(hours=2)
    assert G.freeze_until(["Fri 15:00-Mon 08:00"], friday.replace(day=25)) is None  # a Wednesday
    assert "until" not in G.freeze([], "UTC", WEDNESDAY).to_dict()


def test_clean_gate_refuses_dirty_builds_only_where_configured():
    assert G.clean(False, True).passed and "dirty build" in G.clean(False, True).reason
    assert G.clean(True, False).passed
    refused = G.clean(True, True)
    assert not refused.passed and "gates.clean" in refused.reason and "`pipeline build`" in refused.reason


def test_a_dirty_build_is_warned_about_where_a_later_env_will_refuse_it():
    assert G.dirty_warning(DIGEST, True, "dev", ["prod"], "dev") == (
        "warning: abababababab was built from a dirty work tree: prod will refuse it; to release this change, "
        "commit it, then `pipeline build`, `pipeline stage` and start again with `pipeline promote --to dev`")
    assert G.dirty_warning(DIGEST, False, "dev", ["prod"], "dev") is None
    assert G.dirty_warning(DIGEST, True, "prod", ["prod"], "dev") is None  # prod's own gate says it
