"""Route selection, the 2.0 event and the answer mapping of an HTTP API, as pure functions (no emulator)."""

from __future__ import annotations

import base64
import json

import pytest

from pipeline.local.apigw_routes import (
    BadResponse,
    Context,
    Request,
    RouteKeyError,
    event,
    parse_route_key,
    response,
    select_route,
)

ROUTES = ["GET /pets/dog/1", "GET /pets/dog/{id}", "GET /pets/{proxy+}", "ANY /{proxy+}", "$default",
          "ANY /pets/cat/{id}", "POST /pets/cat/{id}", "GET /pets/{kind}/food", "GET /", "ANY /pets/{kind}/food"]


def pick(method: str, path: str, routes: list[str] = ROUTES) -> tuple[str, dict[str, str]] | None:
    chosen = select_route([(parse_route_key(r), r) for r in routes], method, path)
    return None if chosen is None else (chosen[1], chosen[2])


@pytest.mark.parametrize(("method", "path", "route", "params"), [
    # AWS's own example (http-api-develop-routes.html, "Routing API requests")
    ("GET", "/pets/dog/1", "GET /pets/dog/1", {}),
    ("GET", "/pets/dog/2", "GET /pets/dog/{id}", {"id": "2"}),
    ("GET", "/pets/cat/1", "ANY /pets/cat/{id}", {"id": "1"}),
    ("GET", "/pets/bird/1", "GET /pets/{proxy+}", {"proxy": "bird/1"}),
    ("POST", "/pets/bird/1", "ANY /{proxy+}", {"proxy": "pets/bird/1"}),
    # the route's own method before ANY on the same path
    ("POST", "/pets/cat/7", "POST /pets/cat/{id}", {"id": "7"}),
    ("DELETE", "/pets/cat/7", "ANY /pets/cat/{id}", {"id": "7"}),
    # a literal segment before a variable, a variable before greedy
    ("GET", "/pets/bird/food", "GET /pets/{kind}/food", {"kind": "bird"}),
    ("PUT", "/pets/bird/food", "ANY /pets/{kind}/food", {"kind": "bird"}),
    # segment by segment from the left (AWS documents no such tie: the emulator's rule, said in apigw_routes)
    ("GET", "/pets/dog/food", "GET /pets/dog/{id}", {"id": "food"}),
    ("GET", "/pets/dog/1/x", "GET /pets/{proxy+}", {"proxy": "dog/1/x"}),
    # percent-encoded values are decoded in parameters
    ("GET", "/pets/dog/a%2Fb", "GET /pets/dog/{id}", {"id": "a/b"}),
    ("GET", "/", "GET /", {}),
    ("POST", "/", "$default", {}),
    ("GET", "/pets", "ANY /{proxy+}", {"proxy": "pets"}),
])
def test_the_most_specific_route_wins(method, path, route, params):
    assert pick(method, path) == (route, params)


@pytest.mark.parametrize(("method", "path", "routes"), [
    ("GET", "/hello", ["GET /hello/{name}"]),          # a variable needs a segment
    ("GET", "/hello/", ["GET /hello/{name}"]),         # ... a non-empty one
    ("GET", "/files", ["GET /files/{proxy+}"]),        # greedy needs at least one segment
    ("POST", "/hello", ["GET /hello"]),                # the method must match, or the route be ANY
    ("GET", "/Hello", ["GET /hello"]),                 # paths are case-sensitive
    ("GET", "/hello/a/b", ["GET /hello/{name}"]),      # a variable is one segment only
    ("GET", "/anything", []),
])
def test_no_route_matches(method, path, routes):
    assert pick(method, path, routes) is None


def test_default_catches_what_nothing_else_does():
    assert pick("PATCH", "/x/y/z", ["GET /x/{a}/z", "$default"]) == ("$default", {})


@pytest.mark.parametrize("key", ["GET hello", "FETCH /x", "GET /a/{proxy+}/b", "GET /a{b}", "", "GET  /x", "get /x"])
def test_route_keys_api_gateway_refuses(key):
    with pytest.raises(RouteKeyError):
        parse_route_key(key)


CTX = Context("123456789012", "abcdefgh", "127.0.0.1:4566", "req-1", 1_700_000_000_123)


def make(headers=(), body=b"", query="") -> dict:
    request = Request("get", "/hello/x", query, list(headers), body, "10.0.0.1")
    return event(request, parse_route_key("GET /hello/{name}"), {"name": "x"}, CTX)


def test_event_headers_lower_cased_duplicates_comma_joined_cookies_apart():
    got = make([("X-A", "1"), ("x-a", "2"), ("Cookie", "a=1; b=2"), ("User-Agent", "ua")])
    assert got["headers"] == {"x-a": "1,2", "user-agent": "ua"}
    assert got["cookies"] == ["a=1", "b=2"]
    assert got["requestContext"]["http"] == {"method": "GET", "path": "/hello/x", "protocol": "HTTP/1.1",
                                             "sourceIp": "10.0.0.1", "userAgent": "ua"}
    assert got["requestContext"]["time"] == "14/Nov/2023:22:13:20 +0000"
    assert got["requestContext"]["timeEpoch"] == 1_700_000_000_123


def test_event_query_strings_and_optional_fields():
    got = make(query="a=1&a=2&b=%20x&c")
    assert got["rawQueryString"] == "a=1&a=2&b=%20x&c"
    assert got["queryStringParameters"] == {"a": "1,2", "b": " x", "c": ""}
    bare = make()
    assert "queryStringParameters" not in bare and "cookies" not in bare and "body" not in bare
    assert bare["isBase64Encoded"] is False and bare["pathParameters"] == {"name": "x"}


@pytest.mark.parametrize(("content_type", "encoded"), [
    ("application/json", False), ("text/plain; charset=utf-8", False), ("application/vnd.api+json", False),
    ("application/xml", False), ("application/octet-stream", True), ("image/png", True),
    ("application/x-www-form-urlencoded", True), ("", True),
])
def test_event_body_is_base64_for_non_text_content_types(content_type, encoded):
    headers = [("Content-Type", content_type)] if content_type else []
    got = make(headers, body=b"a=1&b=2")
    assert got["isBase64Encoded"] is encoded
    assert (base64.b64decode(got["body"]) if encoded else got["body"].encode()) == b"a=1&b=2"


def test_response_with_status_code_headers_multi_value_headers_and_cookies():
    status, headers, body = response(json.dumps({
        "statusCode": 418, "headers": {"x-one": "1"}, "multiValueHeaders": {"x-many": ["a", "b"]},
        "cookies": ["s=1", "t=2"], "body": "short and stout"}).encode())
    assert status == 418 and body == b"short and stout"
    assert headers == [("x-one", "1"), ("x-many", "a,b"), ("set-cookie", "s=1"), ("set-cookie", "t=2")]


def test_response_base64_body_and_json_without_status_code():
    png = base64.b64encode(b"\x89PNG").decode()
    assert response(json.dumps({"statusCode": 200, "isBase64Encoded": True, "body": png}).encode())[2] == b"\x89PNG"
    assert response(b'{"hello": "world"}') == (200, [("content-type", "application/json")], b'{"hello": "world"}')
    assert response(b'"text"') == (200, [("content-type", "application/json")], b'"text"')


@pytest.mark.parametrize("payload", [b"not json", b'{"statusCode": "200"}', b'{"statusCode": 99}',
                                     b'{"statusCode": 200, "isBase64Encoded": true, "body": "***"}'])
def test_answers_api_gateway_cannot_send_are_500s(payload):
    with pytest.raises(BadResponse):
        response(payload)
