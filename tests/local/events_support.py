"""Shared by the EventBridge tests: a scheduled rule's stack on a `live` alias, roles, the control endpoint."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

from .apigw_support import settle
from .helpers import LAMBDA_TRUST, make_zip, wait_ready


def rule_template(alias_arn: str, *, schedule: str = "rate(1 minute)", state: str = "ENABLED",
                  permission: bool = True, input_text: str | None = None) -> str:
    """A rule firing the alias on `schedule`, and (unless `permission` is False) the alias's permission for it."""
    target: dict[str, Any] = {"Arn": alias_arn, "Id": "worker"}
    if input_text is not None:
        target["Input"] = input_text
    resources: dict[str, Any] = {"Schedule": {"Type": "AWS::Events::Rule", "Properties": {
        "ScheduleExpression": schedule, "State": state, "Targets": [target]}}}
    if permission:
        resources["SchedulePermission"] = {"Type": "AWS::Lambda::Permission", "Properties": {
            "Action": "lambda:InvokeFunction", "FunctionName": alias_arn, "Principal": "events.amazonaws.com",
            "SourceArn": {"Fn::GetAtt": ["Schedule", "Arn"]}}}
    return json.dumps({"Resources": resources, "Outputs": {
        "RuleName": {"Value": {"Ref": "Schedule"}}, "RuleArn": {"Value": {"Fn::GetAtt": ["Schedule", "Arn"]}}}})


def deploy_rule(cfn: Any, body: str) -> tuple[str, dict[str, str]]:
    """(stack name, outputs) of a created rule stack."""
    name = f"sched-{uuid.uuid4().hex[:8]}"
    cfn.create_stack(StackName=name, TemplateBody=body)
    stack = settle(cfn, name)
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    return name, {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def execution_role(iam: Any, statements: list[dict[str, Any]], trust: str = LAMBDA_TRUST) -> tuple[str, str]:
    """(name, ARN) of a new role with `statements` as its one inline policy."""
    name = f"exec-{uuid.uuid4().hex[:8]}"
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    if statements:
        iam.put_role_policy(RoleName=name, PolicyName="fn", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": statements}))
    return name, arn


def alias_of(lam: Any, role_arn: str, bootstrap: bytes, handler: str, env: dict[str, str] | None = None) -> str:
    """A provided.al2023 function (version 1 behind `live`) running `bootstrap`; returns the alias ARN."""
    name = f"fn-{uuid.uuid4().hex[:8]}"
    lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=role_arn, Handler=handler,
                        Code={"ZipFile": make_zip({"bootstrap": bootstrap})}, Timeout=10,
                        Environment={"Variables": env or {}})
    wait_ready(lam, name)
    version = lam.publish_version(FunctionName=name)["Version"]
    return str(lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)["AliasArn"])


def control(emulator: Any, path: str, method: str = "GET") -> tuple[int, dict[str, Any]]:
    """(status, JSON answer) of the emulator's /_emulator/events control endpoint."""
    req = urllib.request.Request(f"{emulator.endpoint_url}/_emulator/events{path}", method=method,
                                 data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, context=emulator.ssl_context(), timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def fire(emulator: Any, rule_name: str) -> list[dict[str, Any]]:
    status, answer = control(emulator, f"/rules/{rule_name}/fire", "POST")
    assert status == 200, answer
    return list(answer["deliveries"])


def scheduled(emulator: Any, rule_name: str) -> list[dict[str, Any]]:
    """The deliveries the scheduler itself made for the rule so far."""
    _, answer = control(emulator, f"/rules/{rule_name}")
    return [d for d in answer["deliveries"] if d["trigger"] == "schedule"]


def wait_for(predicate: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def periods_pass(cfn: Any, emulator: Any, alias_arn: str, rule_name: str) -> tuple[int, int]:
    """Let two more periods of rate(1 minute) pass, timed by a clock rule of that rate (made here, on
    `alias_arn`): `rule_name`'s deliveries after the clock's first firing (a run of it started before has
    ended by then) and after its third; equal when `rule_name` no longer fires. No fixed sleep: the scheduler
    evaluated every rule at least twice between the two counts."""
    _, clock = deploy_rule(cfn, rule_template(alias_arn))
    assert wait_for(lambda: len(scheduled(emulator, clock["RuleName"])) >= 1, timeout=15)
    settled = len(scheduled(emulator, rule_name))
    assert wait_for(lambda: len(scheduled(emulator, clock["RuleName"])) >= 3, timeout=15)
    return settled, len(scheduled(emulator, rule_name))
