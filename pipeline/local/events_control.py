"""The EventBridge scheduler's control endpoint on the emulator's endpoint (tests; AWS has no such call).

- `POST /_emulator/events/rules/<name>/fire[?account=<id>&region=<region>]`: run the rule now, as its
  schedule would, and answer once every target's invocation has ended: `{"rule": <arn>, "deliveries":
  [{"target", "arn", "status": "Invoked" | "FailedInvocation", "reason", "request_id", "function_error",
  "response", ...}]}`. 404 for no such rule, 400 when the name is in several accounts or regions and
  none is given, 409 for a DISABLED rule (EventBridge never runs one) or one without a schedule.
- `GET /_emulator/events[/rules/<name>]`: the deliveries kept (the last 1000; `trigger` is `schedule`,
  `control` or `event` for a service's event such as S3's, `execution_id` when a pipeline started) and, per
  rule ARN, the counts of EventBridge's metrics MatchedEvents, TriggeredRules, Invocations and
  FailedInvocations.
- `DELETE /_emulator/events`: forget them (a reset of the emulator does too).
`install()` also makes PutRule (API and CloudFormation) refuse a schedule EventBridge refuses, and a
stack update of an `AWS::Events::Rule` keep the rule's name (moto's model made a new name for every
update; on AWS only a changed `Name` replaces the rule).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, unquote

from pipeline.local import events_scheduler, schedule

PREFIX = "/_emulator/events"
_FIRE = re.compile(r"^/_emulator/events/rules/(?P<name>[^/]+)/fire/?$")
_RULE = re.compile(r"^/_emulator/events/rules/(?P<name>[^/]+)/?$")
_INSTALLED: dict[str, bool] = {}


def install() -> None:
    """PutRule validates the schedule expression as EventBridge does (idempotent)."""
    if _INSTALLED.get("put_rule"):
        return
    from moto.events.exceptions import ValidationException
    from moto.events.models import EventsBackend

    original = EventsBackend.put_rule

    def put_rule(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        expression = kwargs.get("scheduled_expression")
        if expression:
            try:
                schedule.parse(expression)
            except schedule.InvalidSchedule:
                raise ValidationException("Parameter ScheduleExpression is not valid.") from None
            except schedule.Unsupported:
                pass  # valid on AWS: stored, never fired here (the scheduler logs it)
        return original(self, name, *args, **kwargs)

    EventsBackend.put_rule = put_rule  # type: ignore[method-assign]
    _keep_name_on_update()
    _INSTALLED["put_rule"] = True


def _keep_name_on_update() -> None:
    from moto.events.models import Rule

    original = Rule.update_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def update(cls: Any, original_resource: Any, new_resource_name: str, cloudformation_json: Any,
               account_id: str, region_name: str) -> Any:
        named = (cloudformation_json.get("Properties") or {}).get("Name")
        if original_resource is not None and named in (None, original_resource.name):
            new_resource_name = original_resource.name  # updated in place: same name, same ARN
        return original(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)

    Rule.update_from_cloudformation_json = classmethod(update)  # type: ignore[method-assign,assignment]


def layer(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """WSGI middleware answering the control endpoint; everything else goes to `app`."""

    def handle(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):
            return app(environ, start_response)
        status, answer = _answer(path, environ.get("REQUEST_METHOD", "GET"), environ.get("QUERY_STRING", ""))
        data = json.dumps(answer).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    return handle


def _answer(path: str, method: str, query: str) -> tuple[str, dict[str, Any]]:
    params = {k: v[0] for k, v in parse_qs(query).items()}
    fire = _FIRE.match(path)
    if fire is not None:
        if method != "POST":
            return "405 Method Not Allowed", {"error": f"{method} not allowed"}
        return _fire(unquote(fire["name"]), params.get("account"), params.get("region"))
    rule = _RULE.match(path)
    if method == "GET" and (rule is not None or path.rstrip("/") == PREFIX):
        name = unquote(rule["name"]) if rule else None
        found = events_scheduler.deliveries(name)
        counts = events_scheduler.metrics()
        if name is not None:
            counts = {arn: c for arn, c in counts.items() if arn.rsplit("/", 1)[-1] == name}
        return "200 OK", {"metrics": counts, "deliveries": found}
    if method == "DELETE" and path.rstrip("/") == PREFIX:
        events_scheduler.reset()
        return "200 OK", {"metrics": {}, "deliveries": []}
    return "404 Not Found", {"error": f"no emulator control at {method} {path}"}


def _fire(name: str, account: str | None, region: str | None) -> tuple[str, dict[str, Any]]:
    try:
        rule = events_scheduler.find(name, account, region)
    except LookupError as exc:
        return ("400 Bad Request" if "several" in str(exc) else "404 Not Found"), {"error": str(exc)}
    if rule.state != "ENABLED":
        return "409 Conflict", {"error": f"rule {rule.arn} is {rule.state}: EventBridge does not run it"}
    if not rule.scheduled_expression:
        return "409 Conflict", {"error": f"rule {rule.arn} has no ScheduleExpression"}
    return "200 OK", {"rule": rule.arn, "deliveries": events_scheduler.fire(rule, trigger="control", wait=True)}
