"""The poll schedule while Lambda applies an update (core/waits.py): growing without history, timed around the
last update's duration with it, and the ledger's word on that duration."""

from __future__ import annotations

import itertools
import json

import pytest

from pipeline.core import waits
from pipeline.core.ledger import Record


def schedule(expected: float | None, until: float, call: float = 0.05) -> list[float]:
    """The moments (seconds after the update's answer) at which the adapter looks, each look taking `call`."""
    at, delay, looks = 0.0, 0.0, [0.0]
    while at < until:
        delay = waits.next_delay(at + call, delay, expected)
        at += call + delay
        looks.append(round(at, 3))
    return looks


def test_without_history_the_interval_grows_to_its_cap():
    delays, previous = [], 0.0
    for _ in range(8):
        previous = waits.next_delay(1.0, previous, None)
        delays.append(round(previous, 4))
    assert delays[:4] == [0.05, 0.075, 0.1125, 0.1688]
    assert delays[-1] == waits.CAP and max(delays) == waits.CAP


def test_with_history_it_looks_seldom_before_the_expected_end_and_closely_around_it():
    expected = 2.0
    looks = schedule(expected, 2.6)
    before = [t for t in looks if t < expected - waits.LEAD]
    around = [t for t in looks if expected - waits.LEAD <= t <= expected + 0.3]
    assert len(before) <= 3, looks  # 0, then at most LONGEST apart
    assert all(b - a <= waits.LONGEST + 0.1 for a, b in itertools.pairwise(before)), looks
    assert all(b - a <= waits.CLOSE + 0.05 + 1e-9 for a, b in itertools.pairwise(around)), looks
    # an update that ends at the expected moment is seen within one close interval (plus the call)
    seen = min(t for t in looks if t >= expected)
    assert seen - expected <= waits.CLOSE + 0.05 + 1e-9, looks
    # and fewer looks than the growing schedule needs to see the same end
    assert len([t for t in looks if t <= seen]) < len([t for t in schedule(None, 2.6) if t <= expected + 0.25])


def test_an_update_slower_than_the_last_one_goes_back_to_the_growing_schedule():
    expected = 1.0
    late = expected + 2 * waits.LEAD + 0.01
    assert waits.next_delay(late, waits.CLOSE, expected) == pytest.approx(waits.CLOSE * waits.FACTOR)
    assert waits.next_delay(late + 5, waits.CAP, expected) == waits.CAP


def test_a_long_expected_update_is_still_looked_at_every_second():
    assert waits.next_delay(0.05, 0.0, 60.0) == waits.LONGEST


def _record(seq: int, **fields) -> Record:
    data = {"type": "outcome", "seq": seq, **fields}
    return Record.parse(f"ledger/dev/{seq:08d}.json", json.dumps(data).encode())


def test_the_expected_update_is_the_newest_recorded_code_update_of_that_target():
    here = {"account": "111111111111", "region": "us-east-1"}
    newest_first = [
        _record(5, target=here, outcome="ROLLED_BACK", timings={"alias": 0.05}),  # a rollback: no code update
        _record(4, target={"account": "555555555555", "region": "us-east-1"}, timings={"deploy_code": 9.0}),
        Record.parse("ledger/dev/00000003.json", json.dumps({"type": "started", "seq": 3}).encode()),
        _record(2, target=here, outcome="FAILED", timings={"deploy_code": 2.2, "smoke": 0.3}),
        _record(1, target=here, outcome="PASSED", timings={"deploy_code": 1.4}),
    ]
    assert waits.expected_update(newest_first, "111111111111", "us-east-1") == 2.2
    assert waits.expected_update(newest_first, "111111111111", "eu-west-1") is None
    assert waits.expected_update([], "111111111111", "us-east-1") is None


def test_a_services_function_is_timed_from_its_own_key():
    """A service's outcome times each function as `<key>.deploy_code`; the one-function key stays unread there."""
    data = {"type": "outcome", "target": {"account": "1", "region": "r"},
            "timings": {"api.deploy_code": 2.2, "worker.deploy_code": 1.4}}
    records = [Record("k", json.dumps(data).encode(), data)]
    assert waits.expected_update(records, "1", "r", "api") == 2.2
    assert waits.expected_update(records, "1", "r", "worker") == 1.4
    assert waits.expected_update(records, "1", "r") is None
