"""The pruning decision (pure): what goes, what stays and why; the ledger's and the plan's part in it."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.core import records as R
from pipeline.core.function import GO_RUNTIME
from pipeline.core.ledger import new_record
from pipeline.core.observed import ObservedTarget
from pipeline.core.plan import promotion_plan
from pipeline.core.prune import DELETE, KEEP, alias_protection, decide, ledger_protection, numbered
from pipeline.core.steps import Prune

A, B, C = "aa" * 32, "bb" * 32, "cc" * 32
HERE = {"account": "111111111111", "region": "us-east-1"}
THERE = {"account": "222222222222", "region": "eu-west-1"}


def outcome(seq: int, artifact: str, version: str, result: str = R.PASSED, where: dict | None = None):
    ref = R.TargetRef(**(where or HERE))
    fields = R.outcome(action="promote", started_seq=0, target=ref, artifact=artifact, commit=None, outcome=result,
                       reason="", version=version, previous_version=None, actor="me", closes=True)
    record = new_record("dev", None, fields, dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))
    return type(record)(record.key, record.raw, {**record.data, "seq": seq})


def test_newest_keep_stay_older_go_and_latest_is_never_a_candidate():
    decision = decide(["$LATEST", "1", "2", "3", "4", "5", "10"], 3, {})
    assert decision.kept == ["10", "5", "4"]
    assert decision.delete == ["3", "2", "1"]  # numeric order: "10" is the newest, not the smallest
    assert {v.action for v in decision.verdicts} == {KEEP, DELETE}
    assert numbered(["$LATEST", "live", "7"]) == ["7"]


def test_protected_versions_stay_however_old_and_say_why():
    protected = {**alias_protection({"live": ("2", ("1",)), "beta": ("3", ())}), "4": "last good in the ledger"}
    decision = decide([str(n) for n in range(1, 13)], 3, protected)
    assert decision.delete == ["9", "8", "7", "6", "5"]
    why = {v.version: v.why for v in decision.verdicts}
    assert why["2"] == "alias live points at it" and why["1"] == "alias live routes a weight to it"
    assert why["3"] == "alias beta points at it" and why["4"] == "last good in the ledger"
    assert why["12"] == "one of the newest 3"


def test_nothing_to_delete_when_few_versions():
    assert decide(["$LATEST", "1", "2"], 10, {}).delete == []
    assert decide([], 1, {}).verdicts == ()


@pytest.mark.parametrize("keep", [0, -1])
def test_keep_must_be_positive(keep):
    with pytest.raises(ValueError, match="positive"):
        decide(["1"], keep, {})


def test_ledger_names_last_good_and_rollback_target_per_target():
    records = [  # newest first
        outcome(6, C, "9", R.ROLLED_BACK),       # failed: names nothing
        outcome(5, B, "8"),                       # live artifact's last pass: last good
        outcome(4, B, "3", where=THERE),          # another target
        outcome(3, A, "5"),                       # rollback target here (newest other artifact)
        outcome(2, A, "4"),
    ]
    assert ledger_protection(records, HERE, B) == {"8": "last good in the ledger (bbbbbbbbbbbb)",
                                                   "5": "rollback target in the ledger (aaaaaaaaaaaa)"}
    # the other target: its own last good; the env-wide rollback target never passed there
    assert ledger_protection(records, THERE, B) == {"3": "last good in the ledger (bbbbbbbbbbbb)"}
    # during a promotion of C the ledger's newest pass (B) is both last good and the rollback target
    assert ledger_protection(records, HERE, C) == {"8": "last good in the ledger (bbbbbbbbbbbb)"}
    assert ledger_protection([], HERE, A) == {}


def test_ledger_walk_stops_once_both_are_known():
    seen = []

    def lazily():
        for record in [outcome(3, B, "8"), outcome(2, A, "5"), outcome(1, A, "4"), outcome(0, A, "1")]:
            seen.append(record.seq)
            yield record

    assert ledger_protection(lazily(), HERE, B) == {"8": "last good in the ledger (bbbbbbbbbbbb)",
                                                    "5": "rollback target in the ledger (aaaaaaaaaaaa)"}
    assert seen == [3, 2]


def test_promotion_plan_prunes_last_keeping_the_ledger_and_the_undo_version():
    state = ObservedTarget("111111111111", "us-east-1", GO_RUNTIME, "7", C, False)
    plan = promotion_plan("dev", A, [state], canary_percent=None, bake_seconds=0, smoke_cases=2, wave_size=1,
                          prune_keep=3, protect={state.label: {"5": "last good in the ledger"}})
    steps = plan.targets[0].steps
    assert isinstance(steps[-1], Prune) and [s.kind for s in steps][-2:] == ["smoke", "prune"]
    assert steps[-1].keep == 3
    assert dict(steps[-1].protect) == {"7": "the alias's version before this promotion", "5": "last good in the ledger"}
    assert "newest 3" in steps[-1].detail and "v5 (last good in the ledger)" in steps[-1].detail
    unpruned = promotion_plan("dev", A, [state], canary_percent=10, bake_seconds=1, smoke_cases=2, wave_size=1)
    assert not any(isinstance(s, Prune) for s in unpruned.targets[0].steps)
    current = ObservedTarget("111111111111", "us-east-1", GO_RUNTIME, "7", A, True)
    assert promotion_plan("dev", A, [current], canary_percent=None, bake_seconds=0, smoke_cases=2, wave_size=1,
                          prune_keep=3).targets[0].steps == ()  # nothing promoted: nothing pruned
