"""`pipeline bootstrap --env dev` of a multi-function service (tests/config/service_example.py) on the emulator,
through the real CLI: every function in one function stack with its own role, a `live` alias on the stub's
version for each, then the front door (HTTP API on those aliases, the worker's schedule); run again, nothing."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import World
from helpers import client

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "config"))
from service_example import multi

pytestmark = pytest.mark.emulator
DEV = "111111111111"


@pytest.fixture
def service(aws, envdir, capsys) -> World:
    """The example service in a copy of environments/, the tooling account bootstrapped."""
    multi(envdir)
    w = World(envdir, capsys)
    w.ok("bootstrap", "--tooling")
    return w


def actions(doc: dict) -> dict[str, str]:
    return {s["stack"]: s["action"] for s in doc["stacks"]}


def get(emulator, url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, context=emulator.ssl_context(), timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def front_door(account: str = DEV) -> dict[str, str]:
    stack = client("cloudformation", account).describe_stacks(StackName="greeter-dev-frontdoor")["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_bootstrap_deploys_every_function_the_aliases_then_the_front_door_and_again_nothing(service, aws):
    code, doc = service.json("bootstrap", "--env", "dev")
    assert code == 0, doc
    assert actions(doc) == {"greeter-dev-target": "created", "greeter-dev-function": "created",
                            "greeter-dev-api:live": "created", "greeter-dev-worker:live": "created",
                            "greeter-dev-frontdoor": "created"}
    assert [s["step"] for s in doc["plan"]] == ["stage-stub", "deploy-stack", "function-after-target", "live-aliases",
                                                "deploy-stack"]
    lam, iam = client("lambda", DEV), client("iam", DEV)
    roles = set()
    for key, handler_env in (("api", "debug"), ("worker", "debug")):
        fn = lam.get_function_configuration(FunctionName=f"greeter-dev-{key}")
        assert fn["Runtime"] == "python3.12" and fn["Handler"] == "index.handler"  # the stub, until a promotion
        assert fn["Environment"]["Variables"] == {"ENVIRONMENT": "dev", "LOG_LEVEL": handler_env}
        assert fn["Role"].endswith(f":role/greeter-dev-{key}-fn-us-east-1")
        roles.add(fn["Role"])
        role = iam.get_role(RoleName=f"greeter-dev-{key}-fn-us-east-1")["Role"]
        assert role["PermissionsBoundary"]["PermissionsBoundaryArn"].endswith(":policy/greeter-dev-fn-boundary")
        alias = lam.get_alias(FunctionName=f"greeter-dev-{key}", Name="live")
        assert alias["FunctionVersion"] == "1"
    assert len(roles) == 2
    assert lam.get_function_configuration(FunctionName="greeter-dev-api")["MemorySize"] == 512
    assert lam.get_function_concurrency(FunctionName="greeter-dev-api").get("ReservedConcurrentExecutions") == 5
    policies = iam.list_role_policies(RoleName="greeter-dev-api-fn-us-east-1")["PolicyNames"]
    assert sorted(policies) == ["extra", "logs"]
    assert iam.list_role_policies(RoleName="greeter-dev-worker-fn-us-east-1")["PolicyNames"] == ["logs"]

    out = front_door()
    apigw = client("apigatewayv2", DEV)
    api = apigw.get_api(ApiId=out["ApiId"])
    assert api["ProtocolType"] == "HTTP" and api["ApiEndpoint"] == out["ApiEndpoint"]
    routes = apigw.get_routes(ApiId=out["ApiId"])["Items"]
    assert sorted(r["RouteKey"] for r in routes) == ["GET /health", "GET /hello/{name}", "GET /version"]
    integrations = apigw.get_integrations(ApiId=out["ApiId"])["Items"]
    assert [i["IntegrationUri"] for i in integrations] == [
        f"arn:aws:lambda:us-east-1:{DEV}:function:greeter-dev-api:live"]
    status, body = get(aws, f"{out['ApiEndpoint']}/nowhere")
    assert (status, json.loads(body)) == (404, {"message": "Not Found"})
    status, body = get(aws, f"{out['ApiEndpoint']}/hello/bob")
    assert (status, json.loads(body)) == (503, {"status": "not deployed"})  # the stub answers through the alias

    code, again = service.json("bootstrap", "--env", "dev")
    assert code == 0, again
    assert not again["changed"] and set(actions(again).values()) == {"unchanged"}, actions(again)
    assert "live-aliases" not in [s["step"] for s in again["plan"]]


def test_the_worker_schedule_targets_its_live_alias(service):
    service.ok("bootstrap", "--env", "dev")
    events = client("events", DEV)
    rule = events.describe_rule(Name="greeter-dev-worker-schedule")
    assert rule["ScheduleExpression"] == "rate(1 minute)" and rule["State"] == "ENABLED"
    targets = events.list_targets_by_rule(Rule="greeter-dev-worker-schedule")["Targets"]
    assert [t["Arn"] for t in targets] == [f"arn:aws:lambda:us-east-1:{DEV}:function:greeter-dev-worker:live"]


def test_dry_run_shows_the_aliases_and_the_front_door_and_changes_nothing(service):
    code, doc = service.json("bootstrap", "--env", "dev", "--dry-run")
    assert code == 0, doc
    assert actions(doc) == {"greeter-dev-target": "would create", "greeter-dev-function": "would create",
                            "greeter-dev-api:live": "would create", "greeter-dev-worker:live": "would create",
                            "greeter-dev-frontdoor": "would create"}
    stacks = client("cloudformation", DEV).list_stacks()["StackSummaries"]
    assert [s for s in stacks if s["StackStatus"] != "DELETE_COMPLETE"] == []


def test_adding_a_function_adds_it_and_its_alias_removing_one_removes_it(service):
    service.ok("bootstrap", "--env", "dev")
    pipeline = service.envdir / "pipeline.yml"
    base = pipeline.read_text()
    pipeline.write_text(base + "  cron:\n    handler: worker\n    schedule: rate(5 minutes)\n")
    code, doc = service.json("bootstrap", "--env", "dev")
    assert code == 0, doc
    assert actions(doc) == {"greeter-dev-target": "updated", "greeter-dev-function": "updated",
                            "greeter-dev-cron:live": "created", "greeter-dev-frontdoor": "updated"}
    lam = client("lambda", DEV)
    assert lam.get_alias(FunctionName="greeter-dev-cron", Name="live")["FunctionVersion"] == "1"
    assert client("events", DEV).describe_rule(Name="greeter-dev-cron-schedule")["ScheduleExpression"] == \
        "rate(5 minutes)"

    pipeline.write_text(base)  # cron removed again: its function, alias, rule and permission go with it
    code, doc = service.json("bootstrap", "--env", "dev")
    assert code == 0, doc
    assert actions(doc) == {"greeter-dev-target": "updated", "greeter-dev-function": "updated",
                            "greeter-dev-frontdoor": "updated"}
    names = {f["FunctionName"] for f in lam.list_functions()["Functions"]}
    assert names == {"greeter-dev-api", "greeter-dev-worker"}
    assert [r["Name"] for r in client("events", DEV).list_rules()["Rules"]] == ["greeter-dev-worker-schedule"]


def test_dry_run_of_an_added_function_previews_it_and_its_alias(service):
    """The deploy role does not name the new function until the target stack is updated: the dry run reads it
    as not there yet instead of failing on the refused read."""
    service.ok("bootstrap", "--env", "dev")
    pipeline = service.envdir / "pipeline.yml"
    pipeline.write_text(pipeline.read_text() + "  cron:\n    handler: worker\n    schedule: rate(5 minutes)\n")
    code, doc = service.json("bootstrap", "--env", "dev", "--dry-run")
    assert code == 0, doc
    assert actions(doc) == {"greeter-dev-target": "would update", "greeter-dev-function": "would update",
                            "greeter-dev-cron:live": "would create", "greeter-dev-frontdoor": "would update"}
