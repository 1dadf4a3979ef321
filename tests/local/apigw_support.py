"""Shared by the HTTP API tests: a stack template, functions behind a `live` alias, HTTP over the emulator's TLS."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

from .helpers import make_zip, wait_ready

# The stack the product's function stack will carry (issue 15): an HTTP API, routes on the alias, the permission.
TEMPLATE = {
    "Parameters": {"AliasArn": {"Type": "String"}, "Routes": {"Type": "String", "Default": "GET /health"},
                   "WithPermission": {"Type": "String", "Default": "yes"}},
    "Conditions": {"Permitted": {"Fn::Equals": [{"Ref": "WithPermission"}, "yes"]}},
    "Resources": {
        "Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"Name": "greeter", "ProtocolType": "HTTP"}},
        "Integration": {"Type": "AWS::ApiGatewayV2::Integration", "Properties": {
            "ApiId": {"Ref": "Api"}, "IntegrationType": "AWS_PROXY", "IntegrationUri": {"Ref": "AliasArn"},
            "PayloadFormatVersion": "2.0"}},
        "Stage": {"Type": "AWS::ApiGatewayV2::Stage", "Properties": {
            "ApiId": {"Ref": "Api"}, "StageName": "$default", "AutoDeploy": True}},
        "Permission": {"Type": "AWS::Lambda::Permission", "Condition": "Permitted", "Properties": {
            "Action": "lambda:InvokeFunction", "FunctionName": {"Ref": "AliasArn"},
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": {"Fn::Sub": "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*"}}},
    },
    "Outputs": {"ApiEndpoint": {"Value": {"Fn::GetAtt": ["Api", "ApiEndpoint"]}},
                "ApiId": {"Value": {"Ref": "Api"}}},
}

ECHO = '''
import base64, json

def handler(event, context):
    path = event.get("rawPath")
    if path == "/boom":
        raise ValueError("boom")
    if path == "/plain":
        return {"plain": True}
    if path == "/binary":
        return {"statusCode": 200, "headers": {"content-type": "image/png"}, "isBase64Encoded": True,
                "body": base64.b64encode(b"\\x89PNG").decode()}
    if path == "/notjson":
        return "not an object"
    return {"statusCode": 201, "headers": {"content-type": "application/json", "x-echo": "yes"},
            "cookies": ["a=1", "b=2"], "body": json.dumps(event)}
'''


def template(routes: list[str], *, permission: bool = True, target: str | None = None) -> str:
    """TEMPLATE with one route resource per route key (all on the integration unless `target` is given)."""
    body = json.loads(json.dumps(TEMPLATE))
    for index, key in enumerate(routes):
        body["Resources"][f"Route{index}"] = {"Type": "AWS::ApiGatewayV2::Route", "Properties": {
            "ApiId": {"Ref": "Api"}, "RouteKey": key,
            "Target": target or {"Fn::Sub": "integrations/${Integration}"}}}
    if not permission:
        del body["Resources"]["Permission"]
    return json.dumps(body)


def live_alias(lam: Any, role: str, code: bytes, runtime: str, handler: str, timeout: int = 5) -> str:
    """A function with version 1 behind a `live` alias; returns the alias ARN."""
    name = f"api-{uuid.uuid4().hex[:8]}"
    lam.create_function(FunctionName=name, Runtime=runtime, Role=role, Handler=handler, Code={"ZipFile": code},
                        Timeout=timeout)
    wait_ready(lam, name)
    version = lam.publish_version(FunctionName=name)["Version"]
    return str(lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)["AliasArn"])


def echo_alias(lam: Any, role: str) -> str:
    return live_alias(lam, role, make_zip({"index.py": ECHO}, executable=()), "python3.12", "index.handler")


def settle(cfn: Any, name: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        if not stack["StackStatus"].endswith("_IN_PROGRESS") or time.monotonic() > deadline:
            return stack
        time.sleep(0.02)


def deploy(cfn: Any, body: str, alias_arn: str) -> tuple[str, dict[str, Any]]:
    name = f"api-{uuid.uuid4().hex[:8]}"
    cfn.create_stack(StackName=name, TemplateBody=body, Parameters=[{"ParameterKey": "AliasArn",
                                                                     "ParameterValue": alias_arn}])
    return name, settle(cfn, name)


def outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def request(emulator: Any, url: str, method: str = "GET", body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes, list[tuple[str, str]]]:
    """(status, headers lower-cased, body, raw header list) as a client of the real endpoint sees them."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, context=emulator.ssl_context(), timeout=30) as resp:
            raw = list(resp.getheaders())
            return resp.status, {k.lower(): v for k, v in raw}, resp.read(), raw
    except urllib.error.HTTPError as err:
        raw = list(err.headers.items())
        return err.code, {k.lower(): v for k, v in raw}, err.read(), raw
