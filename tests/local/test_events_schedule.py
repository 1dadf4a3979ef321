"""EventBridge scheduled rules made by CloudFormation fire the real Go worker through its `live` alias:
the heartbeat it writes as its role (or the IAM layer's denial), the scheduled event's shape, no run
without the events permission, none for a DISABLED rule, none once the stack is deleted."""

from __future__ import annotations

import json
import re
import time
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from .events_support import (
    alias_of,
    control,
    deploy_rule,
    execution_role,
    fire,
    periods_pass,
    rule_template,
    scheduled,
    wait_for,
)
from .helpers import REGION

pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def cfn(clients):
    return boto3.client("cloudformation", **clients["kw"])


@pytest.fixture(scope="module")
def events(clients):
    return boto3.client("events", **clients["kw"])


@pytest.fixture(scope="module")
def s3(clients):
    return boto3.client("s3", **clients["kw"])


@pytest.fixture(scope="module")
def echo(lam, clients, go_bootstrap) -> str:
    """The Runtime API echo program (answers with the event it got) behind `live`."""
    return alias_of(lam, execution_role(clients["iam"], [])[1], go_bootstrap, "bootstrap")


def _worker(lam, clients, s3, service_bootstrap, may_put: bool) -> tuple[str, str]:
    """(bucket, alias ARN) of the service's worker whose role may or may not PutObject the heartbeat."""
    bucket = f"beats-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    key = "heartbeat/dev.json" if may_put else "heartbeat/other.json"
    statement = {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/{key}"}
    role_arn = execution_role(clients["iam"], [statement])[1]
    env = {"ENVIRONMENT": "dev", "HEARTBEAT_BUCKET": bucket}
    return bucket, alias_of(lam, role_arn, service_bootstrap, "worker", env)


def test_the_rule_fires_the_worker_which_writes_the_heartbeat_as_its_role(lam, clients, cfn, events, s3,
                                                                          service_bootstrap, emulator):
    bucket, alias = _worker(lam, clients, s3, service_bootstrap, may_put=True)
    _, out = deploy_rule(cfn, rule_template(alias, schedule="rate(5 minutes)"))
    rule = events.describe_rule(Name=out["RuleName"])
    assert (rule["Arn"], rule["State"], rule["ScheduleExpression"]) == (out["RuleArn"], "ENABLED", "rate(5 minutes)")
    assert [t["Arn"] for t in events.list_targets_by_rule(Rule=out["RuleName"])["Targets"]] == [alias]
    (delivery,) = fire(emulator, out["RuleName"])
    assert delivery["status"] == "Invoked" and delivery["function_error"] is None, delivery
    beat = json.loads(s3.get_object(Bucket=bucket, Key="heartbeat/dev.json")["Body"].read())
    assert (beat["function"], beat["environment"]) == ("worker", "dev")
    assert beat["time"] == delivery["time"]


def test_a_role_without_the_put_statement_is_denied_by_the_iam_layer(lam, clients, cfn, s3, service_bootstrap,
                                                                     emulator):
    bucket, alias = _worker(lam, clients, s3, service_bootstrap, may_put=False)
    _, out = deploy_rule(cfn, rule_template(alias, schedule="rate(5 minutes)"))
    (delivery,) = fire(emulator, out["RuleName"])
    assert delivery["status"] == "Invoked"  # EventBridge delivered; the function failed
    assert delivery["function_error"] and "AccessDenied" in delivery["response"], delivery
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_the_scheduled_event_has_eventbridges_shape(cfn, echo, emulator):
    _, out = deploy_rule(cfn, rule_template(echo, schedule="cron(0/5 * * * ? *)"))
    before = time.time()
    (delivery,) = fire(emulator, out["RuleName"])
    event = json.loads(delivery["response"])["event"]
    assert set(event) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources",
                          "detail"}
    assert (event["version"], event["detail-type"], event["source"]) == ("0", "Scheduled Event", "aws.events")
    assert (event["account"], event["region"], event["resources"], event["detail"]) == (
        "123456789012", REGION, [out["RuleArn"]], {})
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", event["id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    assert abs(time.mktime(time.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone - before) < 5


def test_a_targets_input_replaces_the_event(cfn, echo, emulator):
    _, out = deploy_rule(cfn, rule_template(echo, schedule="rate(5 minutes)", input_text='{"action": "echo", "n": 1}'))
    (delivery,) = fire(emulator, out["RuleName"])
    assert json.loads(delivery["response"])["event"] == {"action": "echo", "n": 1}


def test_without_the_events_permission_nothing_runs_and_it_counts_as_failed(lam, cfn, echo, emulator):
    _, out = deploy_rule(cfn, rule_template(echo, schedule="rate(1 minute)", permission=False))
    (delivery,) = fire(emulator, out["RuleName"])
    assert delivery["status"] == "FailedInvocation" and "resource policy" in delivery["reason"]
    assert "request_id" not in delivery
    assert wait_for(lambda: scheduled(emulator, out["RuleName"]), timeout=5)  # the scheduler tried on its own too
    assert all(d["status"] == "FailedInvocation" for d in scheduled(emulator, out["RuleName"]))
    _, answer = control(emulator, f"/rules/{out['RuleName']}")
    counts = answer["metrics"][out["RuleArn"]]
    assert counts["FailedInvocations"] == counts["Invocations"] >= 2


def test_a_disabled_rule_does_not_fire_an_enabled_one_does(cfn, events, echo, emulator):
    _, off = deploy_rule(cfn, rule_template(echo, state="DISABLED"))
    _, on = deploy_rule(cfn, rule_template(echo))
    assert events.describe_rule(Name=off["RuleName"])["State"] == "DISABLED"
    ran = wait_for(lambda: len(scheduled(emulator, on["RuleName"])) >= 2, timeout=10)
    runs = scheduled(emulator, on["RuleName"])
    assert ran and all(d["status"] == "Invoked" and d["function_error"] is None for d in runs)
    assert scheduled(emulator, off["RuleName"]) == []
    status, answer = control(emulator, f"/rules/{off['RuleName']}/fire", "POST")
    assert status == 409 and "DISABLED" in answer["error"]
    events.disable_rule(Name=on["RuleName"])  # the API's disable stops it as well
    settled, later = periods_pass(cfn, emulator, echo, on["RuleName"])
    assert later == settled


def test_deleting_the_stack_removes_the_rule_and_stops_the_firing(cfn, events, echo, emulator):
    name, out = deploy_rule(cfn, rule_template(echo))
    assert wait_for(lambda: scheduled(emulator, out["RuleName"]), timeout=10)
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 300})
    with pytest.raises(ClientError) as caught:
        events.describe_rule(Name=out["RuleName"])
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    settled, later = periods_pass(cfn, emulator, echo, out["RuleName"])  # a run started before the delete ends
    assert later == settled
    status, _ = control(emulator, f"/rules/{out['RuleName']}/fire", "POST")
    assert status == 404


def test_a_stack_update_to_disabled_keeps_the_rule_and_stops_it(cfn, events, echo, emulator):
    name, out = deploy_rule(cfn, rule_template(echo))
    assert wait_for(lambda: scheduled(emulator, out["RuleName"]), timeout=10)
    cfn.update_stack(StackName=name, TemplateBody=rule_template(echo, state="DISABLED"))
    cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 300})
    rule = events.describe_rule(Name=out["RuleName"])  # updated in place: the same name and ARN
    assert (rule["Arn"], rule["State"]) == (out["RuleArn"], "DISABLED")
    settled, later = periods_pass(cfn, emulator, echo, out["RuleName"])
    assert later == settled
