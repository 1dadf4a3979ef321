"""An HTTP API made by CloudFormation in the emulator answers over real HTTPS through the `live` alias:
the real Go function, the payload format 2.0 event a Python stub receives, AWS's faults (no route,
no permission, function errors), GetApi/GetRoutes from the stack, and its removal with the stack."""

from __future__ import annotations

import base64
import json

import boto3
import pytest

from .apigw_support import deploy, echo_alias, live_alias, outputs, request, template
from .helpers import REGION

pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def cfn(clients):
    return boto3.client("cloudformation", **clients["kw"])


@pytest.fixture(scope="module")
def apigw(clients):
    return boto3.client("apigatewayv2", **clients["kw"])


@pytest.fixture(scope="module")
def echo(lam, role) -> str:
    return echo_alias(lam, role)


@pytest.fixture(scope="module")
def echo_api(cfn, echo) -> tuple[str, dict[str, str]]:
    routes = ["GET /hello/{name}", "ANY /files/{proxy+}", "POST /echo", "GET /boom", "GET /plain", "GET /binary",
              "GET /notjson"]
    name, stack = deploy(cfn, template(routes), echo)
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    return name, outputs(stack)


def test_the_real_go_function_answers_behind_the_live_alias(emulator, cfn, apigw, lam, role, built):
    zip_path, _ = built
    alias = live_alias(lam, role, zip_path.read_bytes(), "provided.al2023", "bootstrap")
    name, stack = deploy(cfn, template(["GET /health", "GET /hello"]), alias)
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    out = outputs(stack)
    assert out["ApiEndpoint"] == f"{emulator.endpoint_url}/_execute-api/{out['ApiId']}"
    assert apigw.get_api(ApiId=out["ApiId"])["ApiEndpoint"] == out["ApiEndpoint"]

    status, headers, body, _ = request(emulator, f"{out['ApiEndpoint']}/health")
    assert status == 200, body
    assert headers["apigw-requestid"]
    status, _, body, _ = request(emulator, f"{out['ApiEndpoint']}/hello?name=Ada")
    assert status == 200 and b"Ada" in body
    assert request(emulator, f"{out['ApiEndpoint']}/version")[0] == 404  # no route: API Gateway, not the function
    cfn.delete_stack(StackName=name)


def test_get_api_routes_integrations_and_stages_answer_from_the_stack(apigw, lam, echo, echo_api):
    _, out = echo_api
    api = apigw.get_api(ApiId=out["ApiId"])
    assert (api["Name"], api["ProtocolType"]) == ("greeter", "HTTP")
    (integration,) = apigw.get_integrations(ApiId=out["ApiId"])["Items"]
    assert (integration["IntegrationType"], integration["IntegrationUri"], integration["PayloadFormatVersion"]) == \
        ("AWS_PROXY", echo, "2.0")
    routes = {r["RouteKey"]: r["Target"] for r in apigw.get_routes(ApiId=out["ApiId"])["Items"]}
    assert routes["GET /hello/{name}"] == f"integrations/{integration['IntegrationId']}"
    assert len(routes) == 7
    (stage,) = apigw.get_stages(ApiId=out["ApiId"])["Items"]
    assert (stage["StageName"], stage["AutoDeploy"]) == ("$default", True)
    policy = json.loads(lam.get_policy(FunctionName=echo.rsplit(":", 1)[0], Qualifier="live")["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Resource"] == echo and statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"].endswith(f":{out['ApiId']}/*")


def test_the_event_has_path_parameters_queries_headers_and_cookies(emulator, echo_api):
    _, out = echo_api
    status, headers, body, raw = request(emulator, f"{out['ApiEndpoint']}/hello/Ada%20L?x=1&x=2&y=&z=%C3%A9",
                                         headers={"X-Custom": "v", "Cookie": "c1=a; c2=b", "User-Agent": "t/1"})
    assert status == 201 and headers["x-echo"] == "yes"
    assert [v for k, v in raw if k.lower() == "set-cookie"] == ["a=1", "b=2"]
    event = json.loads(body)
    assert (event["version"], event["routeKey"], event["rawPath"]) == ("2.0", "GET /hello/{name}", "/hello/Ada%20L")
    assert event["rawQueryString"] == "x=1&x=2&y=&z=%C3%A9"
    assert event["queryStringParameters"] == {"x": "1,2", "y": "", "z": "é"}
    assert event["pathParameters"] == {"name": "Ada L"}
    assert event["cookies"] == ["c1=a", "c2=b"] and "cookie" not in event["headers"]
    assert event["headers"]["x-custom"] == "v" and event["headers"]["user-agent"] == "t/1"
    assert event["isBase64Encoded"] is False and "body" not in event
    ctx = event["requestContext"]
    assert (ctx["accountId"], ctx["apiId"], ctx["stage"], ctx["routeKey"]) == \
        ("123456789012", out["ApiId"], "$default", "GET /hello/{name}")
    assert ctx["http"] == {"method": "GET", "path": "/hello/Ada%20L", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                           "userAgent": "t/1"}
    assert ctx["requestId"] == headers["apigw-requestid"] and isinstance(ctx["timeEpoch"], int)


def test_bodies_text_as_is_binary_as_base64_and_greedy_paths(emulator, echo_api):
    _, out = echo_api
    _, _, body, _ = request(emulator, f"{out['ApiEndpoint']}/echo", "POST", b'{"a": 1}',
                            {"Content-Type": "application/json"})
    event = json.loads(body)
    assert (event["body"], event["isBase64Encoded"]) == ('{"a": 1}', False)
    _, _, body, _ = request(emulator, f"{out['ApiEndpoint']}/files/a/b.txt", "PUT", b"\x00\x01",
                            {"Content-Type": "application/octet-stream"})
    event = json.loads(body)
    assert (event["routeKey"], event["pathParameters"]) == ("ANY /files/{proxy+}", {"proxy": "a/b.txt"})
    assert (base64.b64decode(event["body"]), event["isBase64Encoded"]) == (b"\x00\x01", True)
    status, headers, body, _ = request(emulator, f"{out['ApiEndpoint']}/binary")
    assert (status, headers["content-type"], body) == (200, "image/png", b"\x89PNG")


def test_answers_without_status_code_errors_and_unusable_answers(emulator, echo_api):
    _, out = echo_api
    status, headers, body, _ = request(emulator, f"{out['ApiEndpoint']}/plain")
    assert (status, headers["content-type"], json.loads(body)) == (200, "application/json", {"plain": True})
    assert request(emulator, f"{out['ApiEndpoint']}/boom")[:3:2] == (500, b'{"message": "Internal Server Error"}')
    status, _, body, _ = request(emulator, f"{out['ApiEndpoint']}/notjson")
    assert status == 200 and json.loads(body) == "not an object"  # valid JSON: the body, as API Gateway assumes


def test_no_route_is_404_not_found(emulator, echo_api):
    _, out = echo_api
    for path, method in (("/nothing", "GET"), ("/echo", "GET"), ("/hello", "GET"), ("/files", "DELETE")):
        status, _, body, _ = request(emulator, f"{out['ApiEndpoint']}{path}", method)
        assert (status, json.loads(body)) == (404, {"message": "Not Found"}), path
    assert request(emulator, f"{emulator.endpoint_url}/_execute-api/nosuchid/hello/x")[0] == 404


def test_without_the_permission_api_gateway_answers_500(emulator, cfn, echo):
    name, stack = deploy(cfn, template(["GET /hello/{name}"], permission=False), echo)
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    status, _, body, _ = request(emulator, f"{outputs(stack)['ApiEndpoint']}/hello/x")
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})
    cfn.delete_stack(StackName=name)


def test_stack_delete_removes_the_api_and_the_permission(emulator, cfn, apigw, lam, role):
    alias = echo_alias(lam, role)
    name, stack = deploy(cfn, template(["GET /hello/{name}"]), alias)
    out = outputs(stack)
    assert request(emulator, f"{out['ApiEndpoint']}/hello/x")[0] == 201
    cfn.delete_stack(StackName=name)
    from .apigw_support import settle

    settle(cfn, stack["StackId"])
    assert out["ApiId"] not in [a["ApiId"] for a in apigw.get_apis()["Items"]]
    with pytest.raises(apigw.exceptions.NotFoundException):
        apigw.get_api(ApiId=out["ApiId"])
    assert request(emulator, f"{out['ApiEndpoint']}/hello/x")[0] == 404
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_policy(FunctionName=alias.rsplit(":", 1)[0], Qualifier="live")
    assert REGION in out["ApiEndpoint"] or out["ApiEndpoint"].startswith(emulator.endpoint_url)
