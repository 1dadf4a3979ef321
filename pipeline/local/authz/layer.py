"""The WSGI layer that authorizes every AWS request before moto (or the emulator's other layers) sees it.

Mode, from PIPELINE_EMULATOR_IAM (read per request): `on` refuses what AWS would refuse, with the
service's own AccessDenied shape; `record` decides and logs but lets every call through; `off` does
nothing. PIPELINE_EMULATOR_IAM_LOG names a JSON-lines file that gets one line per decision (who,
action, resource, allowed, why, which statements allowed it), the input of `pipeline local iam-report`.
An operation with no known IAM action is refused in `on` mode, naming the missing mapping.
"""

from __future__ import annotations

import collections
import io
import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from pipeline.local.authz import deny, principals, tags
from pipeline.local.authz.checks import Check, Unmapped, checks_for
from pipeline.local.authz.wire import Call, read_call, scope
from pipeline.local.iam.evaluate import Decision, Policies, Principal, Request, evaluate
from pipeline.local.wsgibody import drain

MODE_VAR, LOG_VAR = "PIPELINE_EMULATOR_IAM", "PIPELINE_EMULATOR_IAM_LOG"
DEFAULT_MODE = "on"
_LOCK = threading.Lock()
STATS = {"calls": 0, "checks": 0, "denied": 0, "seconds": 0.0}
DURATIONS: collections.deque[float] = collections.deque(maxlen=100_000)  # seconds deciding, per call (bench/)
PRINCIPALS: collections.Counter[str] = collections.Counter()  # calls per principal ARN (the demo's "who acted")
DENIED: collections.Counter[str] = collections.Counter()  # of those, refused calls per principal ARN

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def mode() -> str:
    value = os.environ.get(MODE_VAR, DEFAULT_MODE).strip().lower()
    return value if value in ("on", "record", "off") else DEFAULT_MODE


def _read_body(environ: dict[str, Any]) -> bytes:
    length = environ.get("CONTENT_LENGTH") or ""
    if not length.isdigit() or int(length) == 0:
        return b""
    body = environ["wsgi.input"].read(int(length))
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _log(entry: dict[str, Any]) -> None:
    path = os.environ.get(LOG_VAR)
    if not path:
        return
    line = json.dumps(entry, sort_keys=True) + "\n"
    with _LOCK, open(path, "a", encoding="utf-8") as handle:
        handle.write(line)


def _entry(call: Call, who: Principal | None, check: Check | None, decision: Decision | None,
           current: str, reason: str = "") -> dict[str, Any]:
    return {
        "time": round(time.time(), 3), "mode": current, "service": call.service, "operation": call.operation,
        "principal": who.arn if who else call.access_key, "principal_arn": who.principal_arn if who else "",
        "account": who.account if who else "", "action": check.action if check else "",
        "resource": check.resource if check else "", "as": check.service_principal if check else "",
        "allowed": bool(decision and decision.allowed), "reason": reason or (decision.reason if decision else ""),
        "matched": [{"policy": m.policy, "statement": m.statement} for m in (decision.matched if decision else ())
                    if m.effect == "Allow"],
    }


def decide(call: Call) -> tuple[list[tuple[Check, Decision]], Principal | None, str]:
    """Every check of `call` with its decision; ("", ...) reason when it cannot be authorized at all."""
    identity = principals.resolve(call.access_key)
    if identity is None:
        return [], None, "invalid-key"
    try:
        checks = checks_for(call, identity.principal)
    except Unmapped as exc:
        return [], identity.principal, f"unmapped: {exc}"
    base = {"aws:SecureTransport": ["true" if call.tls else "false"], "aws:RequestedRegion": [call.region],
            "aws:CurrentTime": [time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())],
            **tags.condition_keys(tags.request_tags(call.params, call.headers))}
    out = []
    for check in checks:
        who = identity.principal
        policies = Policies(identity.policies, identity.boundary, check.resource_policy, check.required)
        if check.service_principal:
            who = Principal(check.service_principal, "", "service", check.service_principal)
            policies = Policies((), None, check.resource_policy, True)
        request = Request(who, check.action, check.resource, {**base, **check.context}, check.resource_account)
        out.append((check, evaluate(request, policies)))
    return out, identity.principal, ""


def _service_refusal(call: Call, check: Check) -> deny.Response:
    service = check.service_principal.split(".")[0]
    if service == "lambda":
        _status, headers, body = deny.denied("rest-json", "lambda", "The role defined for the function cannot be "
                                            "assumed by Lambda.", "InvalidParameterValueException")
        return "400 Bad Request", headers, body
    return deny.denied(call.protocol, call.service, f"Role {check.resource} is invalid or cannot be assumed",
                       "ValidationError")


class Authorizer:
    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        current = mode()
        if current == "off" or environ.get("PATH_INFO", "").startswith("/moto-api"):
            return self.app(environ, start_response)
        headers = {"Authorization": environ.get("HTTP_AUTHORIZATION", "")}
        found = scope(headers, environ.get("QUERY_STRING", ""))
        if found is None:
            return self.app(environ, start_response)
        body = b"" if found[2] == "s3" else _read_body(environ)
        started = time.perf_counter()
        call = read_call(environ, body)
        if call is None or not call.operation:
            return self.app(environ, start_response)
        try:
            results, who, problem = decide(call)
        except Exception as exc:  # a gap in the layer must be seen, never pass silently in `on` mode
            results, who, problem = [], None, f"error: {type(exc).__name__}: {exc}"
        refusal: deny.Response | None = None
        if problem == "invalid-key":
            refusal = deny.invalid_key(call.protocol, call.service)
            _log(_entry(call, None, None, None, current, "invalid access key"))
        elif problem:
            message = f"the emulator has no IAM mapping for {call.service}:{call.operation} ({problem})"
            refusal = deny.denied(call.protocol, call.service, message)
            _log(_entry(call, who, None, None, current, problem))
        for check, decision in results:
            _log(_entry(call, who, check, decision, current))
            if not decision.allowed and refusal is None and who is not None:
                if check.service_principal:
                    refusal = _service_refusal(call, check)
                else:
                    refusal = deny.denied(call.protocol, call.service, decision.message(
                        Request(who, check.action, check.resource)))
        spent = time.perf_counter() - started
        with _LOCK:
            STATS["calls"] += 1
            STATS["checks"] += len(results)
            STATS["seconds"] += spent
            DURATIONS.append(spent)
            STATS["denied"] += refusal is not None
            PRINCIPALS[who.arn if who else "(invalid key)"] += 1
            if refusal is not None:
                DENIED[who.arn if who else "(invalid key)"] += 1
        if refusal is None or current != "on":
            return self.app(environ, start_response)
        if call.service == "s3":
            drain(environ)
        status, response_headers, payload = refusal
        start_response(status, [*response_headers, ("Content-Length", str(len(payload)))])
        return [payload]


def layer(app: WsgiApp) -> WsgiApp:
    return Authorizer(app)
