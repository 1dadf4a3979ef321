"""Route keys of an API Gateway HTTP API (`functions.<key>.http`) and the route a request reaches.

A route key is `METHOD /path` (methods GET POST PUT PATCH DELETE HEAD OPTIONS ANY; the path starts with
`/`, its segments are literals or `{param}`, the last one may be the greedy `{proxy+}`) or the catch-all
`$default`. A request reaches the most specific matching route, as API Gateway picks it: literal segments
before `{param}`, any full match before a greedy one (the longer fixed part first), a named method before
ANY, `$default` last. Pure: no pydantic, no AWS.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.config.values import DEFAULT_ROUTE, Route

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")
REQUEST_METHODS = METHODS[:-1]
_LITERAL = re.compile(r"[A-Za-z0-9._~:@!$&'()*+,;=%-]+")
_PARAM = re.compile(r"\{([A-Za-z0-9._-]+)(\+?)\}")


class RouteProblem(ValueError):
    """A route key that does not parse; the message says why in one sentence."""


def parse_route(text: str) -> Route:
    """The Route of a route key, or RouteProblem."""
    if text == DEFAULT_ROUTE:
        return Route("", DEFAULT_ROUTE)
    method, space, path = text.partition(" ")
    if not space or " " in path:
        raise RouteProblem(f"{text!r} is not a route key like \"GET /hello/{{name}}\" (METHOD, one space, /path) "
                           "or $default")
    if method not in METHODS:
        raise RouteProblem(f"{text!r} has method {method!r}: use one of {' '.join(METHODS)} (upper case)")
    _check_path(text, path)
    return Route(method, path)


def _check_path(text: str, path: str) -> None:
    if not path.startswith("/"):
        raise RouteProblem(f"{text!r} has path {path!r}: a route path starts with /")
    if path == "/":
        return
    segments = path[1:].split("/")
    names: list[str] = []
    for i, segment in enumerate(segments):
        param = _PARAM.fullmatch(segment)
        if param:
            name, greedy = param.groups()
            if greedy and i != len(segments) - 1:
                raise RouteProblem(f"{text!r}: the greedy {segment} must be the last segment")
            if name in names:
                raise RouteProblem(f"{text!r} names the path parameter {{{name}}} twice")
            names.append(name)
        elif not segment:
            raise RouteProblem(f"{text!r} has an empty segment (// or a trailing /)")
        elif not _LITERAL.fullmatch(segment):
            raise RouteProblem(f"{text!r} has segment {segment!r}: use letters, digits and ._~-, "
                               "{param} or a final {proxy+}")


def shape(route: Route) -> str:
    """The route with its parameters unnamed: two routes of one shape are the same route to API Gateway."""
    return re.sub(r"\{[^}+]+(\+?)\}", r"{\1}", route.key)


def _segments(route: Route) -> list[str]:
    return [] if route.path == "/" else route.path[1:].split("/")


def _matches(route: Route, method: str, path: str) -> bool:
    if route.path == DEFAULT_ROUTE:
        return True
    if route.method not in ("ANY", method):
        return False
    wanted = [] if path == "/" else path[1:].split("/")
    segments = _segments(route)
    greedy = bool(segments) and segments[-1].endswith("+}")
    if greedy:
        fixed = segments[:-1]
        if len(wanted) <= len(fixed) or not all(wanted[len(fixed):]):
            return False
        wanted, segments = wanted[:len(fixed)], fixed
    if len(wanted) != len(segments):
        return False
    return all((s.startswith("{") and bool(w)) or s == w for s, w in zip(segments, wanted, strict=True))


def _priority(route: Route) -> tuple[int, int, tuple[int, ...], int]:
    if route.path == DEFAULT_ROUTE:
        return (2, 0, (), 0)
    segments = _segments(route)
    greedy = bool(segments) and segments[-1].endswith("+}")
    fixed = segments[:-1] if greedy else segments
    kinds = tuple(1 if s.startswith("{") else 0 for s in fixed)
    return (1 if greedy else 0, -len(fixed) if greedy else 0, kinds, 1 if route.method == "ANY" else 0)


def select(routes: Iterable[Route], method: str, path: str) -> Route | None:
    """The route a `method path` request reaches (its query string ignored), or None (API Gateway: 404)."""
    path = path.split("?", 1)[0]
    candidates = [r for r in routes if _matches(r, method, path)]
    return min(candidates, key=_priority) if candidates else None
