"""The emulator's CloudFormation creates, updates and deletes CloudWatch alarms (moto alone drops them)."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from pipeline.cli import main

from .helpers import REGION

pytestmark = pytest.mark.emulator
PROD = "333333333333"
ALARM = "greeter-prod-errors"


def client(service: str, account: str) -> Any:
    creds = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="observer")["Credentials"]
    return boto3.client(service, region_name=REGION, aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def gate(capsys: pytest.CaptureFixture[str], args: tuple[str, ...], name: str) -> tuple[int, dict[str, Any], str]:
    """The named gate from the refusal's JSON document (a refusal's text names only the failing gates)."""
    code, out, err = cli(capsys, "--output", "json", *args)
    return code, next(g for g in json.loads(out)["gates"] if g["name"] == name), err


def test_bootstrap_creates_the_gated_alarm_and_the_gate_reads_it(aws: object, envdir: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "bootstrap", "--tooling")[0] == 0
    code, _, err = cli(capsys, "bootstrap", "--env", "prod")
    assert code == 0, err
    cw = client("cloudwatch", PROD)
    (alarm,) = cw.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"]
    assert alarm["AlarmArn"] == f"arn:aws:cloudwatch:{REGION}:{PROD}:alarm:{ALARM}"
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("AWS/Lambda", "Errors", "Sum")
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": "greeter-prod"}]
    assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["Threshold"]) == (60, 1, 1.0)
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"
    # only in the prod account
    assert client("cloudwatch", "444444444444").describe_alarms()["MetricAlarms"] == []

    stack = client("cloudformation", PROD).describe_stacks(StackName="greeter-prod-function")["Stacks"][0]
    assert {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["ErrorsAlarmName"] == ALARM

    digest = "ab" * 32
    promote = ("promote", "--to", "prod", "--artifact", digest, "--approve", "--dry-run")
    code, alarms, err = gate(capsys, promote, "alarms")
    assert code == 3  # other gates (predecessor, integrity, maybe freeze) refuse: the alarm does not
    assert alarms["passed"] and ALARM in alarms["reason"]
    assert "alarms:" not in err

    code, _, err = cli(capsys, "bootstrap", "--env", "prod")
    assert code == 0, err
    assert [a["AlarmName"] for a in cw.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"]] == [ALARM]

    cw.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="test: errors")
    code, alarms, err = gate(capsys, promote, "alarms")
    assert code == 3
    assert not alarms["passed"]
    assert f"alarms: in ALARM: {ALARM}" in err


TEMPLATE = {
    "Parameters": {"Fn": {"Type": "String", "Default": "fn"}},
    "Resources": {"Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmName": "fn-errors", "Namespace": "AWS/Lambda", "MetricName": "Errors",
        "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": "Fn"}}], "Statistic": "Sum", "Period": 60,
        "EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold"}}},
    "Outputs": {"Name": {"Value": {"Ref": "Alarm"}}, "Arn": {"Value": {"Fn::GetAtt": ["Alarm", "Arn"]}}},
}


def _with(**props: object) -> str:
    template = copy.deepcopy(TEMPLATE)
    template["Resources"]["Alarm"]["Properties"].update(props)
    return json.dumps(template)


def settle(cfn: Any, name: str) -> dict[str, Any]:
    """The stack once no operation runs (the emulator models CloudFormation's *_IN_PROGRESS)."""
    deadline = time.monotonic() + 30
    while True:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        if not stack["StackStatus"].endswith("_IN_PROGRESS") or time.monotonic() > deadline:
            return stack  # type: ignore[no-any-return]
        time.sleep(0.02)


def test_alarm_lifecycle_follows_the_stack(aws: object) -> None:
    cfn, cw = client("cloudformation", PROD), client("cloudwatch", PROD)
    cfn.create_stack(StackName="alarms", TemplateBody=_with())
    stack = settle(cfn, "alarms")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs == {"Name": "fn-errors", "Arn": f"arn:aws:cloudwatch:{REGION}:{PROD}:alarm:fn-errors"}
    (resource,) = cfn.list_stack_resources(StackName="alarms")["StackResourceSummaries"]
    assert (resource["ResourceType"], resource["PhysicalResourceId"]) == ("AWS::CloudWatch::Alarm", "fn-errors")

    # an in-place update changes the configuration and keeps the state
    cw.set_alarm_state(AlarmName="fn-errors", StateValue="ALARM", StateReason="test")
    cfn.update_stack(StackName="alarms", TemplateBody=_with(Threshold=5))
    assert settle(cfn, "alarms")["StackStatus"] == "UPDATE_COMPLETE"
    (alarm,) = cw.describe_alarms(AlarmNames=["fn-errors"])["MetricAlarms"]
    assert (alarm["Threshold"], alarm["StateValue"]) == (5.0, "ALARM")

    # a new name replaces the alarm
    cfn.update_stack(StackName="alarms", TemplateBody=_with(AlarmName="fn-errors-2"))
    assert settle(cfn, "alarms")["StackStatus"] == "UPDATE_COMPLETE"
    assert [a["AlarmName"] for a in cw.describe_alarms()["MetricAlarms"]] == ["fn-errors-2"]

    cfn.delete_stack(StackName="alarms")
    assert cw.describe_alarms()["MetricAlarms"] == []
