"""Injected CloudFormation resource failures: `POST /_emulator/cfn/fail` on the emulator's endpoint.

The body names a stack and a logical id: `{"stack": "greeter-dev-function", "logical_id": "Function",
"operation": "update", "reason": "...", "count": 1}`. The next time that resource is created,
updated or deleted (`operation`: create, update, delete, or rollback: during a rollback; left out:
create or update) the resource fails with the reason, so the stack rolls back as on AWS. A
failure during an update's rollback leaves the stack UPDATE_ROLLBACK_FAILED. `count` (default 1;
0 = every time) says how often it fires. `GET` lists the armed faults, `DELETE` clears them;
a reset of the emulator clears them too.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

PATH = "/_emulator/cfn/fail"
OPERATIONS = ("create", "update", "delete", "rollback")
_LOCK = threading.Lock()


@dataclass
class Fault:
    stack: str
    logical_id: str
    operation: str | None = None
    reason: str = ""
    count: int = 1

    def matches(self, stack: str, logical_id: str, verb: str, rollback: bool) -> bool:
        if (self.stack, self.logical_id) != (stack, logical_id):
            return False
        if self.operation == "rollback":
            return rollback
        if rollback:
            return False
        if self.operation is None:
            return verb in ("CREATE", "UPDATE")
        return self.operation == verb.lower()


_FAULTS: list[Fault] = []


def arm(fault: Fault) -> None:
    with _LOCK:
        _FAULTS.append(fault)


def clear() -> None:
    with _LOCK:
        _FAULTS.clear()


def take(stack: str, logical_id: str, verb: str, rollback: bool) -> str | None:
    """The reason of the first armed fault for this resource call (used up once), or None."""
    with _LOCK:
        for fault in _FAULTS:
            if fault.matches(stack, logical_id, verb, rollback):
                if fault.count == 1:
                    _FAULTS.remove(fault)
                elif fault.count > 1:
                    fault.count -= 1
                return fault.reason or (f"Resource handler returned message: \"Injected failure of {logical_id} "
                                        f"in stack {stack} (emulator fault)\" (HandlerErrorCode: InternalFailure)")
    return None


def parse(body: bytes) -> Fault:
    """The request body as a Fault; ValueError naming the field that is wrong."""
    try:
        raw = json.loads(body or b"{}")
    except ValueError as exc:
        raise ValueError(f"body: not JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise ValueError("body: expected a JSON object")
    for key in ("stack", "logical_id"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise ValueError(f"{key}: required (a non-empty string)")
    operation = raw.get("operation")
    if operation is not None and operation not in OPERATIONS:
        raise ValueError(f"operation: one of {', '.join(OPERATIONS)}, got {operation!r}")
    count = raw.get("count", 1)
    if not isinstance(count, int) or count < 0:
        raise ValueError("count: a whole number >= 0 (0: every time)")
    unknown = set(raw) - {"stack", "logical_id", "operation", "reason", "count"}
    if unknown:
        raise ValueError(f"{sorted(unknown)[0]}: unknown field")
    return Fault(raw["stack"], raw["logical_id"], operation, str(raw.get("reason") or ""), count)


def layer(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """WSGI middleware answering the control endpoint; everything else goes to `app`."""

    def handle(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH:
            return app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        status, answer = "200 OK", {}
        if method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            try:
                fault = parse(environ["wsgi.input"].read(length))
            except ValueError as exc:
                status, answer = "400 Bad Request", {"error": str(exc)}
            else:
                arm(fault)
                answer = {"armed": asdict(fault)}
        elif method == "DELETE":
            clear()
        elif method != "GET":
            status, answer = "405 Method Not Allowed", {"error": f"{method} not allowed"}
        with _LOCK:
            answer.setdefault("faults", [asdict(f) for f in _FAULTS])  # type: ignore[arg-type]
        data = json.dumps(answer).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    return handle
