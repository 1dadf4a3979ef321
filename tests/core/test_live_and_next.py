"""Pure judgements behind status/verify/doctor (core/live.py) and status' next column (core/nextstep.py)."""

from __future__ import annotations

import datetime as dt

from pipeline.core import gates as G
from pipeline.core import live as L
from pipeline.core import nextstep as N
from pipeline.core.ledger import Record, encode

A, B = "a" * 64, "b" * 64


def facts(**kw) -> L.LiveFacts:
    base = {"env": "prod", "label": "333333333333/us-east-1", "live_version": "1", "live_sha256": A, "weights": {},
            "expected_sha256": A}
    return L.LiveFacts(**{**base, **kw})


def test_a_verified_release_is_ok():
    assert L.findings(facts()) == [] and L.label(facts()) == "ok"
    assert L.live_check("w", facts()).status == "pass"


def test_a_split_is_running_only_while_a_live_lock_is_held():
    running = facts(weights={"2": 0.1}, lock_held=True)
    assert L.findings(running) == [] and L.label(running) == "canary running"
    dead = facts(weights={"2": 0.1}, lock_held=True, lock_dead="its process 7 on vm is gone")
    [found] = L.findings(dead)
    assert found.kind == "leftover-canary" and found.fix == "pipeline unlock --env prod --force"
    assert "live: 90% v1, 10% v2" in found.message and L.label(dead) == "LEFTOVER CANARY"
    free = facts(weights={"2": 0.1})
    [found] = L.findings(free)
    assert found.fix == f"pipeline rollback --env prod --artifact {A}"
    assert "no promotion holds the lock" in found.message
    check = L.live_check("w", free)
    assert check.status == "fail" and check.hint == f"run pipeline rollback --env prod --artifact {A}"


def test_drift_and_its_fix():
    [found] = L.findings(facts(expected_sha256=B))
    assert found.kind == "drift" and found.fix == f"pipeline rollback --env prod --artifact {B}"
    [found] = L.findings(facts(expected_sha256=None))
    assert found.fix == "pipeline promote --to prod"
    assert L.findings(facts(expected_sha256=B, lock_held=True, lock_artifact=A)) == []  # deploying it now
    assert L.label(facts(expected_sha256=B, lock_held=True, lock_artifact=A)) == "promotion running"
    [found] = L.findings(facts(expected_sha256=B, lock_held=True, lock_dead="lease expired", lock_artifact=A))
    assert found.fix == "pipeline unlock --env prod --force"


def record(seq: int, **data) -> Record:
    data = {"seq": seq, "time": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc).isoformat(),
            "actor": "arn:aws:sts::1:assumed-role/r/pipeline-ada", **data}
    return Record(f"ledger/test/{seq:08d}.json", encode(data), data)


def test_rolled_back_recognises_a_rollback_and_a_failed_smoke_until_promoted_again():
    history = [record(0, type="started", action="promote", artifact=A),
               record(1, type="outcome", action="promote", artifact=A, outcome="PASSED"),
               record(2, type="started", action="promote", artifact=B),
               record(3, type="outcome", action="promote", artifact=B, outcome="PASSED"),
               record(4, type="started", action="rollback", artifact=A,
                      previous={"x": {"version": "2", "sha256": B}}),
               record(5, type="outcome", action="rollback", artifact=A, outcome="PASSED")]
    back = N.rolled_back(reversed(history), B)
    assert back is not None and back.how == "rollback"
    assert "rolled back in test by pipeline-ada" in back.sentence("test")
    assert N.rolled_back(reversed(history), A) is None
    again = [*history, record(6, type="outcome", action="promote", artifact=B, outcome="PASSED")]
    assert N.rolled_back(reversed(again), B) is None
    smoke = [*history[:2], record(2, type="outcome", action="promote", artifact=B, outcome="ROLLED_BACK",
                                  reason="smoke 'health' failed")]
    back = N.rolled_back(reversed(smoke), B)
    assert back is not None and "rolled itself back" in back.sentence("test") and "smoke 'health'" in back.sentence("t")


def gates(**failed: str) -> list[G.GateResult]:
    names = ("predecessor", "approval", "freeze", "alarms", "integrity", "lock")
    return [G.GateResult(n, n not in failed, failed.get(n, "ok")) for n in names]


def test_decide_says_what_the_gates_mean():
    assert N.decide("prod", A, current=True, back=None, gates=[]).kind == N.CURRENT
    assert N.decide("prod", A, current=False, back=None, gates=gates()).text == f"ready for prod: {A[:12]}"
    waiting = N.decide("prod", A, current=False, back=None, gates=gates(approval="needs an approval"))
    assert waiting.kind == N.WAITING and waiting.detail == "pipeline promote --to prod --approve"
    dirty = N.decide("prod", A, current=False, back=None, gates=gates(approval="built from a dirty work tree"))
    assert dirty.kind == N.BLOCKED and dirty.text == f"{A[:12]} blocked by approval"
    frozen = N.decide("prod", A, current=False, back=None, gates=gates(approval="needs one", freeze="frozen: x"))
    assert frozen.text == f"{A[:12]} blocked by freeze (then an approval)" and frozen.detail == "freeze: frozen: x"
    back = N.RolledBack(A, "rollback", record(4, type="started", action="rollback"))
    assert N.decide("test", A, current=False, back=back, gates=gates()).text == \
        f"rolled back {A[:12]}: promote a newer artifact"
