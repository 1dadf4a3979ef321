"""Smoke checks: one case's expectations against one invocation's answer. Pure."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from pipeline.config.values import SmokeCase
from pipeline.core.http import BadResponse, http_event, parse_response


def case_event(case: SmokeCase) -> dict:
    if case.event is not None:
        return case.event
    assert case.path is not None
    return http_event(case.path)


@dataclass(frozen=True)
class Invocation:
    """What the adapter observed: Lambda's answer and the wall time of the call."""

    payload: bytes
    duration_ms: float
    function_error: str | None = None
    executed_version: str | None = None


@dataclass(frozen=True)
class SmokeResult:
    name: str
    qualifier: str
    passed: bool
    reason: str
    status: int | None
    duration_ms: float
    response: Any  # the answer as JSON (see `answer`), or an excerpt of its text when it is no JSON

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


MAX_ANSWER_BYTES = 4096  # kept whole as JSON up to this size (it goes into the ledger); longer: an excerpt


def answer(payload: bytes) -> Any:
    """What the function answered, for the ledger and `--output json`: JSON values, not strings of JSON.

    A JSON payload up to MAX_ANSWER_BYTES is kept parsed, with an HTTP answer's text `body` parsed too
    when it is JSON itself; anything else is the first 500 bytes as text.
    """
    excerpt = payload[:500].decode("utf-8", "replace")
    if len(payload) > MAX_ANSWER_BYTES:
        return excerpt
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):
        return excerpt
    body = data.get("body") if isinstance(data, dict) and not data.get("isBase64Encoded") else None
    if isinstance(body, str):
        try:
            parsed = json.loads(body)
        except (ValueError, RecursionError):
            parsed = None
        if isinstance(parsed, (dict, list)):  # a text body ("42", "ok") stays the text it is
            data = {**data, "body": parsed}
    return data


def evaluate(case: SmokeCase, qualifier: str, inv: Invocation) -> SmokeResult:
    excerpt = answer(inv.payload)

    def result(passed: bool, reason: str, status: int | None = None) -> SmokeResult:
        # one line, bounded: the reason goes into the ledger, tables and the command's error line
        flat = " ".join(reason.split())
        flat = flat if len(flat) <= 300 else flat[:297] + "..."
        return SmokeResult(case.name, qualifier, passed, flat, status, round(inv.duration_ms, 1), excerpt)

    if inv.function_error:
        return result(False, f"function error ({inv.function_error}): {error_message(inv.payload)}")
    try:
        response = parse_response(inv.payload)
    except BadResponse as exc:
        return result(False, str(exc))
    failures = expectation_failures(case, response, inv.duration_ms)
    if failures:
        return result(False, "; ".join(failures), response.status)
    return result(True, "ok", response.status)


def expectation_failures(case: SmokeCase, response: Any, duration_ms: float) -> list[str]:
    expect = case.expect
    problems: list[str] = []
    if expect.statusCode is not None and response.status != expect.statusCode:
        problems.append(f"statusCode {response.status}, expected {expect.statusCode}")
    if expect.body_json is not None:
        try:
            body = response.json()
        except (ValueError, RecursionError):
            problems.append("body is not JSON (or nested too deeply)")
        else:
            missing = subset_mismatch(expect.body_json, body)
            if missing:
                problems.append(f"body_json: {missing}")
    if expect.body_regex is not None and not re.search(expect.body_regex, response.body):
        problems.append(f"body does not match /{expect.body_regex}/")
    for name, value in expect.headers.items():
        got = response.headers.get(name.lower())
        if got != value:
            problems.append(f"header {name}: {got!r}, expected {value!r}")
    if expect.max_duration_ms is not None and duration_ms > expect.max_duration_ms:
        problems.append(f"took {duration_ms:.0f} ms, limit {expect.max_duration_ms} ms")
    return problems


def subset_mismatch(expected: Any, actual: Any, path: str = "") -> str | None:
    """None when `expected` is a subset of `actual` (maps: every key; lists and scalars: equal)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{path or 'body'} is {type(actual).__name__}, expected an object"
        for key, value in expected.items():
            if key not in actual:
                return f"{path}{key} missing"
            deeper = subset_mismatch(value, actual[key], f"{path}{key}.")
            if deeper:
                return deeper
        return None
    if expected != actual:
        return f"{path.rstrip('.') or 'body'} = {json.dumps(actual)[:80]}, expected {json.dumps(expected)[:80]}"
    return None


def error_message(payload: bytes) -> str:
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):
        return payload[:200].decode("utf-8", "replace")
    if isinstance(data, dict):
        return str(data.get("errorMessage") or data)[:200]
    return str(data)[:200]
