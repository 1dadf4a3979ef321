"""EventBridge's scheduler: every ENABLED rule with a ScheduleExpression, in moto's events backends, fires.

A thread (started and stopped with the emulator) looks at the rules of every account and region moto
has an events backend for. A rule's schedule (`schedule.py`) is followed on the emulator's clock: the
wall-clock gap between two runs times `timing`'s `events.minute` / 60 (aws: 1, instant: 1/120); a rate
first fires one period after the scheduler first sees the rule, as on EventBridge "within the period".
A DISABLED rule, a deleted one (a stack delete removes it), a changed one start over. A run sends each
target EventBridge's scheduled event (`event`), or the target's `Input`; a Lambda function or alias
target is invoked through the emulator's own path (`resolve`, Lambda's 409 states, the pool) only
when the function's resource policy allows `events.amazonaws.com` `lambda:InvokeFunction` with
`aws:SourceArn` = the rule's ARN; a CodePipeline target is started as its role (`events_pipeline`). Else
nothing runs and the delivery counts as a FailedInvocation, as in EventBridge's metric. Every delivery is
kept (`deliveries`, the control endpoint `events_control.py`); `events_bus` delivers service events (S3's)
to rules with an EventPattern through `fire` too. Not modelled: EventBridge's 24-hour retries, InputPath /
InputTransformer (a FailedInvocation, said why), targets other than Lambda and CodePipeline,
DeadLetterConfig, Lambda's own async retries of a function error.
"""

from __future__ import annotations

import collections
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

from pipeline.local import schedule

LOG = logging.getLogger("pipeline.local.events")
POLL_S = 0.05
_LOCK = threading.Lock()
_DELIVERIES: collections.deque[dict[str, Any]] = collections.deque(maxlen=1000)
METRICS: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
_PLANS: dict[tuple[str, str, str], dict[str, Any]] = {}  # rule ARN's parts -> its next run
_THREAD: dict[str, Any] = {}


def rules() -> Iterator[Any]:
    """Every rule moto holds, in every account and region that has an events backend (none is created)."""
    from moto.events.models import events_backends

    for account in list(dict.values(events_backends)):
        for backend in list(dict.values(account)):
            for bus in list(backend.event_buses.values()):
                yield from list(bus.rules.values())


def find(name: str, account: str | None = None, region: str | None = None) -> Any:
    """The rule `name` (LookupError: none, or several and no account/region to choose)."""
    found = [r for r in rules() if r.name == name and account in (None, r.account_id)
             and region in (None, r.region_name)]
    if len(found) != 1:
        raise LookupError(f"rule {name}: {'no such rule' if not found else 'in several accounts or regions'}")
    return found[0]


def event(rule: Any, now: float | None = None) -> dict[str, Any]:
    """The event EventBridge sends for one run of a scheduled rule."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now if now is not None else time.time()))
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": rule.account_id, "time": stamp, "region": rule.region_name, "resources": [rule.arn],
            "detail": {}}


def count(rule_arn: str, metric: str) -> None:
    with _LOCK:
        METRICS[rule_arn][metric] += 1


def fire(rule: Any, trigger: str = "control", wait: bool = True,
         payload: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """One run of `rule`: deliver `payload` (default: a scheduled run's event) to every target (waiting for
    each invocation to end when `wait`)."""
    count(rule.arn, "TriggeredRules")
    payload = payload if payload is not None else event(rule)
    records, threads = [], []
    for target in list(rule.targets):
        record = {"rule": rule.arn, "target": str(target.get("Id", "")), "arn": str(target.get("Arn", "")),
                  "trigger": trigger, "event_id": payload["id"], "time": payload["time"]}
        records.append(record)
        thread = threading.Thread(target=_deliver, args=(rule, target, payload, record), daemon=True,
                                  name=f"events-{record['target'][:20]}")
        threads.append(thread)
        thread.start()
    if wait:
        for thread in threads:
            thread.join(timeout=16 * 60)
    return records


def _deliver(rule: Any, target: dict[str, Any], payload: dict[str, Any], record: dict[str, Any]) -> None:
    try:
        reason = _invoke(rule, target, payload, record)
    except Exception as exc:  # a gap here must show in the record, never kill the scheduler
        reason = f"emulator error: {type(exc).__name__}: {exc}"
    record["status"] = "FailedInvocation" if reason else "Invoked"
    record["reason"] = reason or ""
    with _LOCK:
        METRICS[rule.arn]["Invocations"] += 1
        METRICS[rule.arn]["FailedInvocations"] += bool(reason)
        _DELIVERIES.append(record)
    if reason:
        LOG.info("EventBridge rule %s: target %s not invoked (FailedInvocations): %s", rule.arn,
                 record["target"], reason)
    else:
        LOG.debug("EventBridge rule %s invoked %s: %s", rule.arn, record["arn"], record.get("function_error"))


def _invoke(rule: Any, target: dict[str, Any], payload: dict[str, Any], record: dict[str, Any]) -> str | None:
    """Run the target; the reason EventBridge could not invoke it, None when Lambda took the event."""
    from pipeline.local.lambda_layer import refusal
    from pipeline.local.pool import POOL
    from pipeline.local.resolve import InvokeError, parse_function_ref, resolve

    if target.get("InputPath") or target.get("InputTransformer"):
        return "InputPath / InputTransformer: not modelled by the emulator"
    arn = record["arn"]
    if arn.startswith("arn:aws:codepipeline:"):
        from pipeline.local import events_pipeline

        return events_pipeline.start(rule, target, payload, record)
    if not arn.startswith("arn:aws:lambda:"):
        return f"{arn}: the emulator delivers to Lambda and CodePipeline targets only"
    try:
        owner, name, _ = parse_function_ref(arn, rule.account_id, rule.region_name)
        resolved = resolve(arn, None, owner, rule.region_name)
    except InvokeError as exc:
        return f"{exc.error_type}: {exc.message}"
    if owner != rule.account_id:
        return f"{arn}: a Lambda target in another account than the rule's is not invoked"
    if not allowed(resolved.invoked_arn, owner, rule.region_name, name, rule):
        return (f"Lambda's resource policy of {resolved.invoked_arn} does not allow events.amazonaws.com "
                f"lambda:InvokeFunction for {rule.arn}")
    conflict = refusal(name, "invoke", owner, rule.region_name)
    if conflict is not None:
        return f"{conflict.error_type}: {conflict.message}"
    body = str(target["Input"]).encode() if target.get("Input") is not None else json.dumps(payload).encode()
    try:
        request_id, result = POOL.invoke(resolved, body)
    except InvokeError as exc:  # Lambda took the event but could not run it (its role): Lambda's failure
        record.update(request_id="", function_error=exc.error_type, response=exc.message)
        return None
    record.update(request_id=request_id, function_error=result.outcome.error_type,
                  response=result.outcome.payload[:2000].decode("utf-8", "replace"))
    return None


def allowed(resource: str, owner: str, region: str, name: str, rule: Any) -> bool:
    """Whether the function's resource policy lets EventBridge invoke `resource` for `rule`."""
    from pipeline.local.authz import lookup
    from pipeline.local.iam.evaluate import Policies, Principal, Request, evaluate

    policy = lookup.function_policy(owner, region, name)
    if policy is None:
        return False
    service = Principal("events.amazonaws.com", rule.account_id, "service", "events.amazonaws.com")
    request = Request(service, "lambda:InvokeFunction", resource,
                      {"aws:SourceArn": [rule.arn], "aws:SourceAccount": [rule.account_id]}, resource_account=owner)
    return evaluate(request, Policies(resource=policy)).allowed


# -- the clock ------------------------------------------------------------------------------------
def _factor() -> float:
    from pipeline.local import timing

    return timing.active().window("events.minute") / 60.0


def _plan(rule: Any, now: float) -> dict[str, Any] | None:
    """When `rule` next runs (monotonic), from the scheduler's first sight of it."""
    key = (rule.account_id, rule.region_name, rule.arn)
    identity = (id(rule), rule.scheduled_expression, rule.state)
    plan = _PLANS.get(key)
    if plan is not None and plan["identity"] == identity:
        return plan
    _PLANS.pop(key, None)
    if rule.state != "ENABLED" or not rule.scheduled_expression:
        return None
    try:
        parsed = schedule.parse(rule.scheduled_expression)
    except ValueError as exc:
        LOG.warning("EventBridge rule %s never fires here: %s", rule.arn, exc)
        parsed = None
    plan = {"identity": identity, "schedule": parsed, "cursor": _utcnow(), "due": None}
    _advance(plan, now)
    _PLANS[key] = plan
    return plan


def _advance(plan: dict[str, Any], now: float) -> None:
    parsed = plan["schedule"]
    if isinstance(parsed, schedule.Rate):
        plan["due"] = (plan["due"] or now) + parsed.seconds * _factor()
        plan["due"] = max(plan["due"], now)  # a stalled clock does not fire a burst of runs
    elif isinstance(parsed, schedule.Cron):
        following = parsed.next_after(plan["cursor"])
        if following is None:
            plan["due"] = None
            return
        base = plan["due"] or now
        plan["due"] = max(base + (following - plan["cursor"]).total_seconds() * _factor(), now)
        plan["cursor"] = following


def _utcnow() -> Any:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).replace(tzinfo=None)


def tick(now: float | None = None) -> int:
    """Fire every rule that is due; returns how many fired."""
    now = time.monotonic() if now is None else now
    seen, fired = set(), 0
    for rule in rules():
        plan = _plan(rule, now)
        if plan is None:
            continue
        seen.add((rule.account_id, rule.region_name, rule.arn))
        if plan["due"] is not None and plan["due"] <= now:
            _advance(plan, now)
            fire(rule, trigger="schedule", wait=False)
            fired += 1
    for key in [k for k in _PLANS if k not in seen]:
        del _PLANS[key]  # deleted or disabled: its schedule starts over if it comes back
    return fired


def _loop(stop: threading.Event) -> None:
    while not stop.wait(POLL_S):
        try:
            tick()
        except Exception:  # moto's dicts change under us now and then: the next tick sees them settled
            LOG.debug("events scheduler tick failed", exc_info=True)


def start() -> None:
    """Start the scheduler thread, or count one more running emulator that needs it."""
    _THREAD["users"] = _THREAD.get("users", 0) + 1
    if _THREAD.get("thread") is not None:
        return
    stop = threading.Event()
    thread = threading.Thread(target=_loop, args=(stop,), name="events-scheduler", daemon=True)
    _THREAD.update(thread=thread, stop=stop)
    thread.start()


def stop() -> None:
    """One emulator stopped; the last one to stop ends the thread and forgets the deliveries."""
    _THREAD["users"] = max(0, _THREAD.get("users", 0) - 1)
    if _THREAD["users"]:
        return
    thread, flag = _THREAD.pop("thread", None), _THREAD.pop("stop", None)
    if flag is not None:
        flag.set()
    if thread is not None:
        thread.join(timeout=5)
    reset()


def reset() -> None:
    with _LOCK:
        _DELIVERIES.clear()
        METRICS.clear()
        _PLANS.clear()


def deliveries(rule_name: str | None = None) -> list[dict[str, Any]]:
    with _LOCK:
        return [dict(d) for d in _DELIVERIES if rule_name is None or d["rule"].rsplit("/", 1)[-1] == rule_name]


def metrics() -> dict[str, dict[str, int]]:
    with _LOCK:
        return {arn: {k: counts.get(k, 0) for k in ("MatchedEvents", "TriggeredRules", "Invocations",
                                                             "FailedInvocations")}
                for arn, counts in METRICS.items()}
