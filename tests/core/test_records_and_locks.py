"""The ledger schema's constructors and accessors, and the dead-lock rule (no AWS)."""

from __future__ import annotations

import datetime as dt

from pipeline.core import records as R
from pipeline.core.ledger import LockState, lock_state, new_record
from pipeline.core.locks import HolderFacts, dead_reason, held_message

NOW = dt.datetime(2026, 12, 2, 19, 0, tzinfo=dt.timezone.utc)
DIGEST = "ab" * 32
TARGET = R.TargetRef("111111111111", "us-east-1")


def started_record(*, build_id: str | None = None, lease_minutes: int = 10) -> R.Record:
    holder = R.Holder("arn:aws:sts::1:assumed-role/p/me", "host-a", 4242, "run1", build_id)
    fields = R.started(action="promote", artifact=DIGEST, commit="c0ffee", dirty=False, actor=holder.actor,
                       holder=holder, targets=[TARGET], lease_expires=NOW + dt.timedelta(minutes=lease_minutes),
                       previous={TARGET.label: ("3", "cd" * 32)}, approval=None, gates=[])
    return new_record("dev", None, fields, NOW - dt.timedelta(seconds=90))


def test_started_record_round_trips_through_the_accessors():
    record = started_record(build_id="greeter-pipeline:1234")
    assert R.holder(record) == R.Holder("arn:aws:sts::1:assumed-role/p/me", "host-a", 4242, "run1",
                                        "greeter-pipeline:1234")
    assert R.targets(record) == [TARGET] and R.previous_version(record, TARGET.label) == "3"
    assert R.action(record) == "promote" and R.artifact(record) == DIGEST and R.commit(record) == "c0ffee"
    lock = lock_state([record])
    assert lock.held and lock.lease_expires == NOW + dt.timedelta(minutes=10)


def test_rollback_started_has_no_promotion_fields_and_outcome_closes():
    holder = R.Holder("arn:me")
    fields = R.started(action="rollback", artifact=DIGEST, commit=None, actor="arn:me", holder=holder,
                       targets=[TARGET], lease_expires=NOW, previous={TARGET.label: (None, None)})
    assert "gates" not in fields and "approval" not in fields and fields["holder"] == {
        "actor": "arn:me", "host": None, "pid": None, "run": None}
    started = new_record("dev", None, fields, NOW)
    outcome = new_record("dev", started, R.outcome(
        action="rollback", started_seq=0, target=TARGET, artifact=DIGEST, commit=None, outcome=R.PASSED,
        reason="rolled back", version="2", previous_version=None, actor="arn:me", closes=True,
        smoke=[{"name": "health", "passed": True}], timings={}), NOW)
    assert R.outcome_of(outcome) == "PASSED" and R.version(outcome) == "2" and R.target_of(outcome) == TARGET
    assert R.smoke_summary(outcome) == "1/1" and "build_id" not in outcome.data
    assert not lock_state([outcome, started]).held


def test_holder_of_a_record_without_one_is_unknown():
    record = new_record("dev", None, {"type": "started"}, NOW)
    assert R.holder(record).actor == "unknown" and R.holder(record).pid is None


def test_live_holder_is_not_dead():
    lock = lock_state([started_record()])
    assert dead_reason(lock, NOW, HolderFacts()) is None
    assert held_message("dev", lock, NOW) == ("dev is locked by arn:aws:sts::1:assumed-role/p/me "
                                              "(ledger/dev/00000000.json, held for 90s)")


def test_expired_lease_or_gone_process_is_dead():
    expired = lock_state([started_record(lease_minutes=-1)])
    assert "lease expired" in dead_reason(expired, NOW, HolderFacts())
    lock = lock_state([started_record()])
    assert dead_reason(lock, NOW, HolderFacts(process_gone=True)) == "its process 4242 on host-a is gone"


def test_codebuild_holder_is_dead_once_its_build_ended():
    lock = lock_state([started_record(build_id="greeter-pipeline:1234")])
    assert dead_reason(lock, NOW, HolderFacts(build_status="IN_PROGRESS")) is None
    assert dead_reason(lock, NOW, HolderFacts(build_status=None)) is None  # unknown build: not proof of death
    assert dead_reason(lock, NOW, HolderFacts(build_status="FAILED")) == (
        "its CodeBuild build greeter-pipeline:1234 has ended (FAILED)")
    assert "has ended" in dead_reason(lock, NOW, HolderFacts(build_status="IN_PROGRESS", build_complete=True))
    # a build status says nothing about a holder that did not run in CodeBuild
    plain = lock_state([started_record()])
    assert dead_reason(plain, NOW, HolderFacts(build_status="SUCCEEDED")) is None


def test_free_lock_is_never_dead():
    assert dead_reason(LockState(None, None), NOW, HolderFacts(process_gone=True)) is None
