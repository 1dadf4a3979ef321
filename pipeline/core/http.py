"""Lambda Function URL / API Gateway HTTP API (payload v2) events and responses, as plain data."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit


def http_event(path: str, method: str = "GET", headers: dict[str, str] | None = None, body: str | None = None) -> dict:
    """A payload-v2 event for `path` (which may carry a query string)."""
    parts = urlsplit(path)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path or "/",
        "rawQueryString": parts.query,
        "headers": {"accept": "application/json", **(headers or {})},
        "requestContext": {"http": {"method": method, "path": parts.path or "/", "protocol": "HTTP/1.1",
                                    "sourceIp": "127.0.0.1", "userAgent": "pipeline-smoke"},
                           "routeKey": "$default", "stage": "$default"},
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = query
    if body is not None:
        event["body"] = body
    return event


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""

    def json(self) -> Any:
        return json.loads(self.body)


class BadResponse(ValueError):
    """The function answered something that is not a payload-v2 response."""


def parse_response(payload: bytes) -> HttpResponse:
    """Read a function's answer. Payload v2 also allows a bare JSON value (200, body = that JSON)."""
    try:
        data = json.loads(payload.decode("utf-8") or "null")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadResponse(f"response is not JSON: {exc}") from None
    except RecursionError:  # a function can answer [[[[...]]]] deeper than Python's stack
        raise BadResponse("response is JSON nested too deeply to read") from None
    if not (isinstance(data, dict) and "statusCode" in data):
        return HttpResponse(200, {"content-type": "application/json"}, json.dumps(data))
    status = data.get("statusCode")
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise BadResponse(f"statusCode must be an HTTP status, got {status!r}")
    headers = data.get("headers") or {}
    if not isinstance(headers, dict):
        raise BadResponse("headers must be an object")
    body = data.get("body") or ""
    if not isinstance(body, str):
        raise BadResponse("body must be a string")
    if data.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8", "replace")
        except ValueError:
            raise BadResponse("body is marked base64 but is not") from None
    return HttpResponse(status, {str(k).lower(): str(v) for k, v in headers.items()}, body)
