"""What an HTTP API does with one request, without any I/O: pick the route, build the event, map the answer.

Kept pure so that route selection, the payload format 2.0 event and the response mapping can be tested
table-driven without an emulator; `apigw_layer` feeds it requests and the integration's answer.

Route selection, as API Gateway documents it (docs.aws.amazon.com/apigateway/latest/developerguide/
http-api-develop-routes.html, "Routing API requests"): the most specific match wins: a path without a
greedy variable before one with `{proxy+}`; segment by segment from the left a literal before a `{param}`
(AWS documents no tie-break between `/a/{x}` and `/{y}/b`: the left one wins here); a longer
literal prefix before a shorter one for greedy paths; at equal paths the route's own method before `ANY`;
`$default` only when nothing else matches. Path variables match one non-empty segment, a greedy one at
least one. The event and the mapping of the function's answer follow the "payload format version 2.0"
sections of http-api-develop-integrations-lambda.html.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote

T = TypeVar("T")
METHODS = frozenset({"ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
_VARIABLE = re.compile(r"^\{(?P<name>[A-Za-z0-9._-]+)(?P<greedy>\+)?\}$")
# Content types API Gateway hands to the function as text; every other body is base64-encoded.
_TEXT = re.compile(r"^(text/.*|application/(json|xml|javascript|ecmascript)|application/[^;]*\+(json|xml))(;.*)?$",
                   re.IGNORECASE)


class RouteKeyError(ValueError):
    """A route key API Gateway would refuse (the message says why)."""


@dataclass(frozen=True)
class RouteKey:
    text: str
    method: str  # "ANY", "GET", ... ("" for $default)
    segments: tuple[str, ...]  # the path split on "/", without the leading empty part

    @property
    def is_default(self) -> bool:
        return self.text == "$default"


def parse_route_key(text: str) -> RouteKey:
    if text == "$default":
        return RouteKey(text, "", ())
    method, _, path = text.partition(" ")
    if method not in METHODS or not path.startswith("/"):
        raise RouteKeyError(f"Invalid route key: '{text}'. A route key is '$default' or '<METHOD> /<path>' with METHOD "
                            f"one of {', '.join(sorted(METHODS))}")
    segments = tuple(path[1:].split("/")) if path != "/" else ()
    for index, segment in enumerate(segments):
        variable = _VARIABLE.match(segment)
        if "{" in segment and variable is None:
            raise RouteKeyError(f"Invalid route key: '{text}': a path variable must be a whole segment")
        if variable is not None and variable["greedy"] and index != len(segments) - 1:
            raise RouteKeyError(f"Invalid route key: '{text}': a greedy path variable must be at the end of the path")
    return RouteKey(text, method, segments)


def _path_match(route: RouteKey, parts: Sequence[str]) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """(rank, path parameters) when `route`'s path matches; a lower rank is more specific."""
    params: dict[str, str] = {}
    ranks: list[int] = []
    for index, segment in enumerate(route.segments):
        variable = _VARIABLE.match(segment)
        if variable is not None and variable["greedy"]:
            rest = parts[index:]
            if not rest or not "/".join(rest):
                return None
            params[variable["name"]] = unquote("/".join(rest))
            # greedy after every non-greedy path; longer literal prefixes first
            return (1, -index, *ranks), params
        if index >= len(parts):
            return None
        if variable is not None:
            if not parts[index]:
                return None
            params[variable["name"]] = unquote(parts[index])
            ranks.append(1)
        elif segment != parts[index]:
            return None
        else:
            ranks.append(0)
    if len(parts) != len(route.segments):
        return None
    return (0, 0, *ranks), params


def select_route(routes: Iterable[tuple[RouteKey, T]], method: str, path: str) \
        -> tuple[RouteKey, T, dict[str, str]] | None:
    """The route a request `method path` (path as sent, percent-encoded) goes to, with its path parameters."""
    parts = path[1:].split("/") if path.startswith("/") else path.split("/")
    parts = [] if parts == [""] else parts
    best: tuple[tuple[int, ...], RouteKey, T, dict[str, str]] | None = None
    fallback: tuple[RouteKey, T] | None = None
    for route, value in routes:
        if route.is_default:
            fallback = (route, value)
            continue
        if route.method not in (method.upper(), "ANY"):
            continue
        found = _path_match(route, parts)
        if found is None:
            continue
        rank = (*found[0], 1 if route.method == "ANY" else 0)
        if best is None or rank < best[0]:
            best = (rank, route, value, found[1])
    if best is not None:
        return best[1], best[2], best[3]
    if fallback is not None:
        return fallback[0], fallback[1], {}
    return None


@dataclass(frozen=True)
class Request:
    """One request as the emulator received it (headers in their order, duplicates as separate entries)."""

    method: str
    raw_path: str  # percent-encoded, without the /_execute-api/<api-id> prefix
    raw_query: str
    headers: Sequence[tuple[str, str]]
    body: bytes
    source_ip: str
    protocol: str = "HTTP/1.1"


@dataclass(frozen=True)
class Context:
    account_id: str
    api_id: str
    domain_name: str
    request_id: str
    time_epoch_ms: int


def event(request: Request, route: RouteKey, params: Mapping[str, str], context: Context) -> dict[str, Any]:
    """The payload format 2.0 event API Gateway sends to a Lambda integration."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    query: dict[str, str] = {}
    for key, value in parse_qsl(request.raw_query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    import time

    when = time.gmtime(context.time_epoch_ms / 1000)
    out: dict[str, Any] = {"version": "2.0", "routeKey": route.text, "rawPath": request.raw_path,
                           "rawQueryString": request.raw_query}
    if cookies:
        out["cookies"] = cookies
    out["headers"] = headers
    if query:
        out["queryStringParameters"] = query
    out["requestContext"] = {
        "accountId": context.account_id, "apiId": context.api_id, "domainName": context.domain_name,
        "domainPrefix": context.api_id,
        "http": {"method": request.method.upper(), "path": request.raw_path, "protocol": request.protocol,
                 "sourceIp": request.source_ip, "userAgent": headers.get("user-agent", "")},
        "requestId": context.request_id, "routeKey": route.text, "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", when), "timeEpoch": context.time_epoch_ms,
    }
    if params:
        out["pathParameters"] = dict(params)
    if request.body:
        text = _TEXT.match(headers.get("content-type", "")) is not None
        try:
            out["body"] = request.body.decode() if text else base64.b64encode(request.body).decode()
        except UnicodeDecodeError:
            text, out["body"] = False, base64.b64encode(request.body).decode()
        out["isBase64Encoded"] = not text
    else:
        out["isBase64Encoded"] = False
    return out


class BadResponse(ValueError):
    """The function's answer is not a response API Gateway can send (it answers 500)."""


def response(payload: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) for the function's answer under payload format 2.0."""
    try:
        document = json.loads(payload)
    except ValueError:
        raise BadResponse("the function's response is not JSON") from None
    if not isinstance(document, dict) or "statusCode" not in document:
        # valid JSON without a statusCode: 200, application/json, the response itself as the body
        return 200, [("content-type", "application/json")], payload
    status = document["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise BadResponse(f"statusCode {status!r} is not an HTTP status")
    headers: list[tuple[str, str]] = []
    for name, value in (document.get("headers") or {}).items():
        headers.append((str(name), _header_text(value)))
    for name, values in (document.get("multiValueHeaders") or {}).items():
        if not any(n.lower() == str(name).lower() for n, _ in headers):
            headers.append((str(name), ",".join(_header_text(v) for v in values or [])))
    for cookie in document.get("cookies") or []:
        headers.append(("set-cookie", str(cookie)))
    body = document.get("body")
    if body is None:
        raw = b""
    elif not isinstance(body, str):
        raw = json.dumps(body).encode()
    elif document.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except ValueError:
            raise BadResponse("isBase64Encoded is true but the body is not base64") from None
    else:
        raw = body.encode()
    return status, headers, raw


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)
