"""HTTP API stacks that API Gateway or Lambda would refuse fail and roll back; updates move the routes; an
integration or function that does not answer in time, or a missing alias, is API Gateway's 500/503."""

from __future__ import annotations

import json

import boto3
import pytest

from .apigw_support import deploy, echo_alias, live_alias, outputs, request, settle, template
from .helpers import make_zip

pytestmark = pytest.mark.emulator

SLOW = '''
import time

def handler(event, context):
    time.sleep(float(event["queryStringParameters"]["s"]))
    return {"statusCode": 200, "body": "late"}
'''


@pytest.fixture(scope="module")
def cfn(clients):
    return boto3.client("cloudformation", **clients["kw"])


@pytest.fixture(scope="module")
def apigw(clients):
    return boto3.client("apigatewayv2", **clients["kw"])


@pytest.fixture(scope="module")
def echo(lam, role) -> str:
    return echo_alias(lam, role)


def reason(cfn, stack_id: str, logical_id: str) -> str:
    events = cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
    return next(e.get("ResourceStatusReason", "") for e in events
                if e["LogicalResourceId"] == logical_id and e["ResourceStatus"] == "CREATE_FAILED")


def test_a_route_naming_no_integration_fails_the_stack_and_rolls_back(cfn, apigw, echo):
    before = {a["ApiId"] for a in apigw.get_apis()["Items"]}
    _, stack = deploy(cfn, template(["GET /x"], target="integrations/nosuchid"), echo)
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "Invalid target specified: integrations/nosuchid" in reason(cfn, stack["StackId"], "Route0")
    assert {a["ApiId"] for a in apigw.get_apis()["Items"]} == before  # the rollback deleted the API


@pytest.mark.parametrize(("arn_suffix", "logical_id"), [("nosuchfn:live", "Integration"), (None, "Permission")])
def test_a_function_or_alias_that_does_not_exist_fails_the_stack(cfn, echo, arn_suffix, logical_id):
    account_part = echo.split(":function:")[0]
    missing = f"{account_part}:function:{arn_suffix}" if arn_suffix else echo.rsplit(":", 1)[0] + ":nosuchalias"
    body = json.loads(template(["GET /x"]))
    if logical_id == "Permission":  # the integration on the real alias, the permission on a missing one
        body["Resources"]["Permission"]["Properties"]["FunctionName"] = missing
        _, stack = deploy(cfn, json.dumps(body), echo)
    else:
        _, stack = deploy(cfn, json.dumps(body), missing)
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "not" in reason(cfn, stack["StackId"], logical_id).lower()  # "does not exist", "not found"


@pytest.mark.parametrize(("change", "text"), [
    ({"ProtocolType": "WEBSOCKET"}, "ProtocolType HTTP only"),
    ({"Target": "arn:aws:lambda:us-east-1:123456789012:function:f"}, "does not implement Target"),
])
def test_what_the_emulator_does_not_model_is_refused_not_dropped(cfn, echo, change, text):
    body = json.loads(template(["GET /x"]))
    body["Resources"]["Api"]["Properties"].update(change)
    _, stack = deploy(cfn, json.dumps(body), echo)
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert text in reason(cfn, stack["StackId"], "Api")


def test_updates_move_routes_and_integrations_and_a_failed_one_rolls_back(emulator, cfn, apigw, lam, role, echo):
    name, stack = deploy(cfn, template(["GET /one/{a}"]), echo)
    out = outputs(stack)
    assert request(emulator, f"{out['ApiEndpoint']}/one/x")[0] == 201
    other = echo_alias(lam, role)
    cfn.update_stack(StackName=name, TemplateBody=template(["GET /two/{a}", "POST /three"]),
                     Parameters=[{"ParameterKey": "AliasArn", "ParameterValue": other}])
    assert settle(cfn, name)["StackStatus"] == "UPDATE_COMPLETE"
    assert outputs(settle(cfn, name))["ApiId"] == out["ApiId"]  # updated in place, not replaced
    assert request(emulator, f"{out['ApiEndpoint']}/one/x")[0] == 404
    status, _, body, _ = request(emulator, f"{out['ApiEndpoint']}/two/x")
    assert status == 201 and json.loads(body)["routeKey"] == "GET /two/{a}"
    (integration,) = apigw.get_integrations(ApiId=out["ApiId"])["Items"]
    assert integration["IntegrationUri"] == other
    assert sorted(r["RouteKey"] for r in apigw.get_routes(ApiId=out["ApiId"])["Items"]) == ["GET /two/{a}",
                                                                                            "POST /three"]
    # the old alias's permission went with the replacement; the new one's came with it
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_policy(FunctionName=echo.rsplit(":", 1)[0], Qualifier="live")
    cfn.update_stack(StackName=name, TemplateBody=template(["GET /two/{a}", "GET bad"]),
                     Parameters=[{"ParameterKey": "AliasArn", "ParameterValue": other}])
    stack = settle(cfn, name)
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert request(emulator, f"{out['ApiEndpoint']}/two/x")[0] == 201
    cfn.delete_stack(StackName=name)


def test_integration_timeout_is_503_function_timeout_500_missing_alias_500(emulator, cfn, lam, role):
    alias = live_alias(lam, role, make_zip({"index.py": SLOW}, executable=()), "python3.12", "index.handler",
                       timeout=1)
    body = json.loads(template(["GET /slow"]))
    body["Resources"]["Integration"]["Properties"]["TimeoutInMillis"] = 500
    name, stack = deploy(cfn, json.dumps(body), alias)
    url = f"{outputs(stack)['ApiEndpoint']}/slow"
    assert request(emulator, f"{url}?s=0")[:3:2] == (200, b"late")
    status, _, answer, _ = request(emulator, f"{url}?s=0.8")
    assert (status, json.loads(answer)) == (503, {"message": "Service Unavailable"})
    body["Resources"]["Integration"]["Properties"]["TimeoutInMillis"] = 30000
    cfn.update_stack(StackName=name, TemplateBody=json.dumps(body),
                     Parameters=[{"ParameterKey": "AliasArn", "ParameterValue": alias}])
    assert settle(cfn, name)["StackStatus"] == "UPDATE_COMPLETE"
    status, _, answer, _ = request(emulator, f"{url}?s=2")  # the function's own 1 s timeout: a function error
    assert (status, json.loads(answer)) == (500, {"message": "Internal Server Error"})
    lam.delete_alias(FunctionName=alias.split(":")[6], Name="live")
    status, _, answer, _ = request(emulator, f"{url}?s=0")
    assert (status, json.loads(answer)) == (500, {"message": "Internal Server Error"})


@pytest.mark.parametrize("change", ["another API's SourceArn", "the unqualified function", "no auto-deploy"])
def test_a_permission_for_something_else_or_an_undeployed_stage_does_not_serve(emulator, cfn, echo, change):
    body = json.loads(template(["GET /hello/{name}"]))
    permission, stage = body["Resources"]["Permission"]["Properties"], body["Resources"]["Stage"]["Properties"]
    if change == "another API's SourceArn":
        permission["SourceArn"] = {"Fn::Sub": "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:otherapi/*"}
    elif change == "the unqualified function":  # a permission on the function does not cover its alias
        permission["FunctionName"] = echo.rsplit(":", 1)[0]
    else:
        stage["AutoDeploy"] = False
    name, stack = deploy(cfn, json.dumps(body), echo)
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    status, _, answer, _ = request(emulator, f"{outputs(stack)['ApiEndpoint']}/hello/x")
    expected = (404, {"message": "Not Found"}) if change == "no auto-deploy" else \
        (500, {"message": "Internal Server Error"})
    assert (status, json.loads(answer)) == expected
    cfn.delete_stack(StackName=name)
