"""EventBridge's default event bus: events AWS services send (S3's Object Created) matched against rules.

`put(account, region, event)` queues an event for that account's default bus in that region and returns at
once; one thread (started on the first event) takes the events in the order they came, matches each against
every ENABLED rule of the bus that has an EventPattern (moto's `EventPattern`: the same matching moto's
PutEvents uses), counts MatchedEvents, and delivers to every target of a matching rule as a scheduled run
does (`events_scheduler.fire`: the target's kind decides, the delivery is recorded with trigger `event` and
counted in TriggeredRules / Invocations / FailedInvocations). Events are taken one after the other, each
once its deliveries ended, so two uploads start two pipeline executions in the order of the uploads.
Not modelled: custom buses for service events (AWS sends them to the default bus only), archives, replays,
retries of a failed delivery (EventBridge retries for 24 hours), DeadLetterConfig.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

LOG = logging.getLogger("pipeline.local.events")
_QUEUE: queue.Queue[tuple[str, str, dict[str, Any]]] = queue.Queue()
_THREAD: dict[str, threading.Thread] = {}
_LOCK = threading.Lock()
_GENERATION = [0]  # bumped by reset(): events queued before it are dropped


def put(account: str, region: str, event: dict[str, Any]) -> None:
    """Queue `event` for the default bus of `account` in `region` (never blocks, never raises)."""
    with _LOCK:
        if "dispatcher" not in _THREAD:
            thread = threading.Thread(target=_loop, name="events-bus", daemon=True)
            _THREAD["dispatcher"] = thread
            thread.start()
        event = {**event, "_generation": _GENERATION[0]}
    _QUEUE.put((account, region, event))


def _loop() -> None:
    while True:
        account, region, event = _QUEUE.get()
        try:
            if event.pop("_generation", None) == _GENERATION[0]:
                dispatch(account, region, event)
        except Exception:  # a fault here must not end the bus: the next event is still delivered
            LOG.warning("EventBridge: event %s not delivered", event.get("id"), exc_info=True)
        finally:
            _QUEUE.task_done()


def matching(account: str, region: str, event: dict[str, Any]) -> list[Any]:
    """The ENABLED rules of the default bus whose EventPattern matches `event` (scheduled rules never do)."""
    from moto.events.models import events_backends

    backend = events_backends[account][region]
    bus = backend.event_buses.get("default")
    if bus is None:
        return []
    return [rule for rule in list(bus.rules.values())
            if rule.state == "ENABLED" and rule.event_pattern.get_pattern()
            and rule.event_pattern.matches_event(event)]


def dispatch(account: str, region: str, event: dict[str, Any]) -> list[dict[str, Any]]:
    """Deliver `event` to every matching rule's targets now (in this thread); the delivery records."""
    from pipeline.local import events_scheduler

    records: list[dict[str, Any]] = []
    for rule in matching(account, region, event):
        events_scheduler.count(rule.arn, "MatchedEvents")
        records += events_scheduler.fire(rule, trigger="event", wait=True, payload=event)
    return records


def drain(timeout: float = 30.0) -> bool:
    """Wait until every queued event has been delivered (tests); False when `timeout` passed first."""
    import time

    deadline = time.monotonic() + timeout
    while _QUEUE.unfinished_tasks:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def reset() -> None:
    """An emulator reset: events not yet delivered are dropped."""
    with _LOCK:
        _GENERATION[0] += 1
