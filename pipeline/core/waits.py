"""How often to look while Lambda applies an update: a short, growing interval, and, when the ledger says how
long this function's last code update took, fewer looks before that moment and close ones around it.

An update takes 1-3 s on AWS, about the same from one release of a function to the next. Polling only on the
growing schedule (50 ms, x1.5, at most 0.25 s apart) sees a 2 s update ~0.17 s after it ended, in ~10
GetFunctionConfiguration calls, which count against Lambda's control-plane quota (15 requests/s per account
and region, shared by a wave's targets). With the expected duration known: never more than LONGEST apart
(AWS's own `function_updated` waiter looks every 1 s) until LEAD before the expected end, every CLOSE from
there until 2 x LEAD after it, then the growing schedule again for an update slower than the last one.
Pure: the adapter (aws/functions.py) sleeps and looks; this only says how long to sleep.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.core.ledger import Record

FIRST, FACTOR, CAP = 0.05, 1.5, 0.25
LEAD = 0.25      # start looking closely this long before the expected end
CLOSE = 0.05     # the interval while looking closely
LONGEST = 1.0    # the longest sleep before the expected end: as often as AWS's own waiter looks
DEPLOY_TIMING = "deploy_code"  # outcome records' timing of the code update, call and wait (set by engine/executor.py)


def next_delay(elapsed: float, previous: float, expected: float | None) -> float:
    """Seconds to sleep before the next look, `elapsed` seconds after the update was answered, `previous`
    the last sleep (0 before the first), `expected` how long the last update took (None: not known)."""
    grown = FIRST if previous <= 0 else min(previous * FACTOR, CAP)
    if expected is None or expected <= 0:
        return grown
    close_from = expected - LEAD
    if elapsed < close_from:
        return max(CLOSE, min(close_from - elapsed, LONGEST))
    if elapsed < expected + 2 * LEAD:
        return CLOSE
    return grown


def expected_update(records: Iterable[Record], account: str, region: str, function: str = "") -> float | None:
    """How long the newest recorded code update of this target took (its outcome's `timings`), or None.
    `records` newest first; a record that updated no code (a rollback, a no-op) has no such timing. A service's
    outcome times each function under `<key>.deploy_code`: `function` names the key ("" for one function)."""
    name = f"{function}.{DEPLOY_TIMING}" if function else DEPLOY_TIMING
    for record in records:
        target = record.get("target") or {}
        if record.type != "outcome" or target.get("account") != account or target.get("region") != region:
            continue
        seconds = (record.get("timings") or {}).get(name)
        if isinstance(seconds, (int, float)) and seconds > 0:
            return float(seconds)
    return None
