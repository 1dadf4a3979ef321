"""HTTP API route keys: parsing, one shape per route, and the route a request reaches (API Gateway's order)."""

from __future__ import annotations

import pytest

from pipeline.config.routes import RouteProblem, parse_route, select, shape
from pipeline.config.values import Route

VALID = [
    ("GET /health", Route("GET", "/health")),
    ("GET /", Route("GET", "/")),
    ("GET /hello/{name}", Route("GET", "/hello/{name}")),
    ("ANY /files/{proxy+}", Route("ANY", "/files/{proxy+}")),
    ("ANY /{proxy+}", Route("ANY", "/{proxy+}")),
    ("POST /orders/{id}/items/{item_id}", Route("POST", "/orders/{id}/items/{item_id}")),
    ("OPTIONS /a.b/c-d/e_f~g", Route("OPTIONS", "/a.b/c-d/e_f~g")),
    ("$default", Route("", "$default")),
] + [(f"{m} /x", Route(m, "/x")) for m in ("POST", "PUT", "PATCH", "DELETE", "HEAD")]

INVALID = [
    ("/health", "is not a route key like"),
    ("GET  /health", "is not a route key like"),
    ("GET /a b", "is not a route key like"),
    ("get /health", "has method 'get': use one of GET POST PUT PATCH DELETE HEAD OPTIONS ANY"),
    ("FETCH /health", "has method 'FETCH'"),
    ("GET health", "has path 'health': a route path starts with /"),
    ("GET /a//b", "has an empty segment"),
    ("GET /a/", "has an empty segment"),
    ("GET /{proxy+}/x", "the greedy {proxy+} must be the last segment"),
    ("GET /{a}/{a}", "names the path parameter {a} twice"),
    ("GET /a/{b", "has segment '{b'"),
    ("GET /a/b{c}", "has segment 'b{c}'"),
    ("GET /a?x=1", "has segment 'a?x=1'"),
    ("$DEFAULT", "is not a route key like"),
]


@pytest.mark.parametrize(("text", "route"), VALID, ids=[t for t, _ in VALID])
def test_route_keys_that_parse(text: str, route: Route):
    assert parse_route(text) == route
    assert parse_route(text).key == text


@pytest.mark.parametrize(("text", "said"), INVALID, ids=[t for t, _ in INVALID])
def test_route_keys_that_do_not_parse(text: str, said: str):
    with pytest.raises(RouteProblem) as caught:
        parse_route(text)
    assert said in str(caught.value)


def test_parameters_named_differently_are_one_route():
    assert shape(parse_route("GET /a/{x}")) == shape(parse_route("GET /a/{y}"))
    assert shape(parse_route("GET /a/{x}")) != shape(parse_route("POST /a/{x}"))
    assert shape(parse_route("ANY /a/{p+}")) == shape(parse_route("ANY /a/{proxy+}"))
    assert shape(parse_route("GET /a/{x}")) != shape(parse_route("GET /a/{x+}"))


# API Gateway's own example (HTTP APIs, "Routing API requests") plus $default and ANY
ROUTES = [parse_route(k) for k in ("GET /pets/dog/1", "GET /pets/dog/{id}", "GET /pets/{proxy+}", "ANY /{proxy+}",
                                   "GET /", "POST /pets/dog/{id}", "$default")]
REACHES = [
    ("GET", "/pets/dog/1", "GET /pets/dog/1"),
    ("GET", "/pets/dog/2", "GET /pets/dog/{id}"),
    ("GET", "/pets/cat/1", "GET /pets/{proxy+}"),
    ("GET", "/pets/dog/1?x=y", "GET /pets/dog/1"),
    ("POST", "/pets/dog/1", "POST /pets/dog/{id}"),
    ("DELETE", "/pets/dog/1", "ANY /{proxy+}"),
    ("GET", "/", "GET /"),
    ("POST", "/", "$default"),
    ("GET", "/pets", "ANY /{proxy+}"),
]


@pytest.mark.parametrize(("method", "path", "route"), REACHES, ids=[f"{m} {p}" for m, p, _ in REACHES])
def test_the_most_specific_route_wins(method: str, path: str, route: str):
    reached = select(ROUTES, method, path)
    assert reached is not None and reached.key == route


def test_no_route_is_none():
    routes = [parse_route("GET /health"), parse_route("GET /hello/{name}")]
    assert select(routes, "GET", "/hello") is None
    assert select(routes, "GET", "/hello/a/b") is None
    assert select(routes, "POST", "/health") is None
    assert select(routes, "GET", "/hello/") is None  # an empty {name}
    assert select([parse_route("ANY /files/{proxy+}")], "GET", "/files") is None  # greedy needs a segment
    assert select([parse_route("ANY /files/{proxy+}")], "GET", "/files/a/b").key == "ANY /files/{proxy+}"
