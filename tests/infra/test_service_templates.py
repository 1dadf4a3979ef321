"""The service's templates (functions:), rendered offline: one function stack with every function and its own
role, the front door (routes, one integration per http function on its `live` alias, permissions, schedules),
the target roles naming every function; and the one-function renderings exactly as main rendered them."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from conftest import REPO

from pipeline.config.load import load_config
from pipeline.infra.cfnyaml import load_template
from pipeline.infra.render import render_all

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "config"))
from service_example import multi

# bootstrap versions (sha256 of the body) of the one-function renderings: a change to an existing stack is a
# deliberate one, named in its commit (last: the `# unused-ok:` reasons made true once the emulator ran the
# pipeline and versioned the bucket; the board: PublishBoard, and each Promote action's Board-<env> artifact)
MAIN_REPO = {"greeter-dev-function": "863281d8ae27279b", "greeter-dev-target": "dd1f47f61a53b241",
             "greeter-pipeline": "2fa7bda0f8e6a964", "greeter-prod-function": "f2dd9eaabdc5d549",
             "greeter-prod-target": "b38cbd25ef898fe8", "greeter-test-function": "e75b5a0472867b6c",
             "greeter-test-target": "191bf96c1a49aa07", "greeter-tooling": "f2a7ad0d89fe71f4"}
MAIN_VARIANT = {
    "shop-artifacts-eu-central-1@eu-central-1": "9c7ec2b598dbdd27",
    "shop-artifacts-us-east-1@us-east-1": "be2ad6dc089c8ce6",
    "shop-dev-function@eu-west-1": "be449b8bb742f3e8", "shop-dev-target@eu-west-1": "2b2d26ef58dd5441",
    "shop-pipeline@eu-west-1": "10e21105c1b524cf", "shop-prod-function@eu-central-1": "9d3e5ff780b6be39",
    "shop-prod-function@eu-west-1": "fc81a7eb4cd9e69c", "shop-prod-function@us-east-1": "f69f97c850688c8a",
    "shop-prod-target@eu-central-1": "22040e8933915579", "shop-prod-target@eu-west-1": "31e5af359c010bf1",
    "shop-prod-target@us-east-1": "39d8fd2a0343322e", "shop-tooling@eu-west-1": "fcd6fe0c38c39513"}
P = "${AWS::Partition}"


def test_the_one_function_templates_render_as_on_main(repo_config, variant_config):
    assert {r.stack_name: r.version for r in render_all(repo_config)} == MAIN_REPO
    assert {f"{r.stack_name}@{r.region}": r.version for r in render_all(variant_config)} == MAIN_VARIANT


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    envdir = tmp_path_factory.mktemp("service") / "environments"
    shutil.copytree(REPO / "environments", envdir)
    multi(envdir)
    stacks = {r.stack_name: r for r in render_all(load_config(envdir))}
    return {name: (r, load_template(r.body)) for name, r in stacks.items()}


def _statements(role: dict) -> dict[str, dict]:
    return {s["Sid"]: s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]}


def test_a_service_renders_target_function_and_front_door_per_env(service):
    assert sorted(service) == sorted(["greeter-tooling", "greeter-pipeline"] + [
        f"greeter-{env}-{kind}" for env in ("dev", "test", "prod") for kind in ("target", "function", "frontdoor")])
    assert service["greeter-dev-frontdoor"][0].kind == "frontdoor"


def test_every_function_has_its_own_role_log_group_alarm_and_code_parameters(service):
    body = service["greeter-dev-function"][1]
    res = body["Resources"]
    assert sorted(k for k, v in res.items() if v["Type"] == "AWS::Lambda::Function") == ["ApiFunction",
                                                                                         "WorkerFunction"]
    api, worker = res["ApiFunction"]["Properties"], res["WorkerFunction"]["Properties"]
    assert (api["FunctionName"], worker["FunctionName"]) == ("greeter-dev-api", "greeter-dev-worker")
    assert api["Role"] == {"Fn::GetAtt": ["ApiExecutionRole", "Arn"]}
    assert worker["Role"] == {"Fn::GetAtt": ["WorkerExecutionRole", "Arn"]}
    assert api["Handler"] == {"Ref": "ApiHandler"} and api["Runtime"] == {"Ref": "ApiRuntime"}
    assert api["ReservedConcurrentExecutions"] == 5 and "ReservedConcurrentExecutions" not in worker
    assert api["MemorySize"] == 512 and worker["MemorySize"] == 128
    assert api["Environment"]["Variables"] == {"ENVIRONMENT": "dev", "LOG_LEVEL": "debug"}
    assert res["ApiLogGroup"]["Properties"]["LogGroupName"] == "/aws/lambda/greeter-dev-api"
    assert res["WorkerErrorsAlarm"]["Properties"]["AlarmName"] == "greeter-dev-worker-errors"
    api_role = res["ApiExecutionRole"]["Properties"]
    assert api_role["RoleName"] == "greeter-dev-api-fn-us-east-1"
    assert _statements(res["ApiExecutionRole"])["Extra1"]["Action"] == ["dynamodb:GetItem"]
    assert list(_statements(res["WorkerExecutionRole"])) == ["OwnLogs"]  # only its own grants
    assert {f"{f}{p}" for f in ("Api", "Worker") for p in ("CodeS3Bucket", "CodeS3Key", "Runtime", "Handler",
                                                          "ArtifactSha256")} <= set(body["Parameters"])


def test_the_front_door_routes_integrations_and_permissions_name_the_live_aliases(service):
    res = service["greeter-dev-frontdoor"][1]["Resources"]
    alias = f"arn:{P}:lambda:us-east-1:${{AWS::AccountId}}:function:greeter-dev-api:live"
    assert res["Api"]["Properties"] == {"Name": "greeter-dev", "ProtocolType": "HTTP",
                                        "Description": "pipeline greeter / dev: HTTP API"}
    assert res["DefaultStage"]["Properties"]["StageName"] == "$default" and res["DefaultStage"]["Properties"][
        "AutoDeploy"] is True
    integrations = {k: v["Properties"] for k, v in res.items() if v["Type"] == "AWS::ApiGatewayV2::Integration"}
    assert integrations == {"ApiIntegration": {"ApiId": {"Ref": "Api"}, "IntegrationType": "AWS_PROXY",
                                               "IntegrationUri": {"Fn::Sub": alias}, "PayloadFormatVersion": "2.0"}}
    routes = [v["Properties"] for v in res.values() if v["Type"] == "AWS::ApiGatewayV2::Route"]
    assert sorted(r["RouteKey"] for r in routes) == ["GET /health", "GET /hello/{name}", "GET /version"]
    assert {r["Target"]["Fn::Sub"] for r in routes} == {"integrations/${ApiIntegration}"}
    http = res["ApiHttpPermission"]["Properties"]
    assert http == {"Action": "lambda:InvokeFunction", "FunctionName": {"Fn::Sub": alias},
                    "Principal": "apigateway.amazonaws.com",
                    "SourceArn": {"Fn::Sub": f"arn:{P}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{Api}}/*"}}
    rule = res["WorkerSchedule"]["Properties"]
    assert rule["ScheduleExpression"] == "rate(1 minute)" and rule["Name"] == "greeter-dev-worker-schedule"
    assert rule["Targets"] == [{"Id": "live", "Arn": {"Fn::Sub": alias.replace("-api:", "-worker:")}}]
    events = res["WorkerSchedulePermission"]["Properties"]
    assert events["Principal"] == "events.amazonaws.com"
    assert events["SourceArn"] == {"Fn::GetAtt": ["WorkerSchedule", "Arn"]}
    assert set(service["greeter-dev-frontdoor"][1]["Outputs"]) == {"ApiId", "ApiEndpoint", "WorkerScheduleRuleArn"}


def test_the_target_roles_list_every_function_and_no_function_wildcard(service):
    res = service["greeter-dev-target"][1]["Resources"]
    deploy = _statements(res["DeployRole"])
    fns = [f"arn:{P}:lambda:us-east-1:${{AWS::AccountId}}:function:greeter-dev-{k}" for k in ("api", "worker")]
    assert [r["Fn::Sub"] for r in deploy["Function"]["Resource"]] == [fns[0], fns[0] + ":*", fns[1], fns[1] + ":*"]
    assert [r["Fn::Sub"] for r in deploy["PublishStubVersion"]["Resource"]] == fns
    stacks = [r["Fn::Sub"] for r in deploy["FunctionStack"]["Resource"]]
    assert f"arn:{P}:cloudformation:us-east-1:${{AWS::AccountId}}:stack/greeter-dev-frontdoor/*" in stacks
    cfn = _statements(res["CloudFormationRole"])
    assert [r["Fn::Sub"] for r in cfn["LiveAliasPermissions"]["Resource"]] == [f + ":live" for f in fns]
    assert [r["Fn::Sub"] for r in cfn["Schedules"]["Resource"]] == [
        f"arn:{P}:events:us-east-1:${{AWS::AccountId}}:rule/greeter-dev-worker-schedule"]
    assert cfn["CreateHttpApi"]["Condition"] == {"StringEquals": {"apigateway:Request/ApiName": "greeter-dev"}}
    assert [r["Fn::Sub"] for r in cfn["FunctionConcurrency"]["Resource"]] == [fns[0]]
    roles = [r["Fn::Sub"].rsplit("/", 1)[1] for r in cfn["PassExecutionRole"]["Resource"]]
    assert roles == ["greeter-dev-api-fn-us-east-1", "greeter-dev-worker-fn-us-east-1"]
    body = service["greeter-dev-target"][0].body
    assert "function:greeter-dev-*" not in body and "function:greeter-dev\"" not in body
