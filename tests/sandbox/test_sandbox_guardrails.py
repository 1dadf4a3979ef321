"""Sandbox guardrails on the emulator through the CLI: the cost budget (real Budgets API, read back),
the service allow-list boundary (validation, the require_boundary refusal, a bounded developer), and owner
tags reported when missing. One `up`/`deploy` at a time (the S3 lock): test_sandbox_lock.py."""

from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest
import yaml

from pipeline.core import sandbox_guard as G

pytestmark = pytest.mark.emulator

ACCOUNT = "123456789012"  # the emulator's base credentials
BUDGET = "greeter-sbx-alice"


def budgets():
    return boto3.client("budgets", region_name="us-east-1")


def write_sandbox(envdir, **settings) -> None:
    path = envdir / "sandbox.yml"
    data = yaml.safe_load(path.read_text()) or {}
    data.update(settings)
    path.write_text(yaml.safe_dump(data))


def notifications(name: str = BUDGET) -> set[tuple[str, float]]:
    found = budgets().describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName=name)["Notifications"]
    return {(n["NotificationType"], float(n["Threshold"])) for n in found}


def test_up_creates_the_budget_with_alerts_and_down_removes_it(sh, envdir, calls):
    write_sandbox(envdir, budget_usd=35, budget_emails=["alice@example.com"],
                  budget_sns_topic=f"arn:aws:sns:us-east-1:{ACCOUNT}:sandbox-alerts")
    out = sh.ok("sandbox", "up")
    assert f"budget {BUDGET} created (35.00 USD, 4 alert(s))" in out
    budget = budgets().describe_budget(AccountId=ACCOUNT, BudgetName=BUDGET)["Budget"]
    assert float(budget["BudgetLimit"]["Amount"]) == 35 and budget["BudgetLimit"]["Unit"] == "USD"
    assert budget["BudgetType"] == "COST" and budget["TimeUnit"] == "MONTHLY"
    assert budget["CostFilters"] == {"TagKeyValue": [f"user:owner$arn:aws:sts::{ACCOUNT}:user/moto"]}
    assert notifications() == {("ACTUAL", 50.0), ("ACTUAL", 80.0), ("ACTUAL", 100.0), ("FORECASTED", 100.0)}

    status = json.loads(sh.ok("--output", "json", "sandbox", "status"))
    assert status["budget"]["name"] == BUDGET and status["budget"]["limit_usd"] == "35.00"
    assert status["budget"]["alerts"] == 4 and status["budget"]["actual_usd"] is not None
    text = sh.ok("sandbox", "status")
    assert f"{BUDGET}: 35.00 USD/month" in text and "4 alert(s)" in text

    # Idempotent: a second up reads the budget and writes nothing to Budgets.
    calls.clear()
    assert f"budget {BUDGET} unchanged" in sh.ok("sandbox", "up")
    assert [c for c in calls.writes if c[0] == "budgets"] == []

    # A new limit replaces the budget (same name, new amount, alerts kept).
    write_sandbox(envdir, budget_usd=50)
    assert "set to 50.00 USD" in sh.ok("sandbox", "up")
    assert float(budgets().describe_budget(AccountId=ACCOUNT, BudgetName=BUDGET)["Budget"]["BudgetLimit"]
                 ["Amount"]) == 50
    assert len(notifications()) == 4

    out = sh.ok("sandbox", "down")
    assert f"deleted budget {BUDGET}" in out
    names = [b["BudgetName"] for b in budgets().describe_budgets(AccountId=ACCOUNT).get("Budgets", [])]
    assert BUDGET not in names
    assert "no sandbox alice" in sh.ok("sandbox", "status")


def test_default_budget_is_20_usd_without_alerts_when_nobody_is_named(sh):
    out = sh.ok("sandbox", "up")
    assert "(20.00 USD, 0 alert(s))" in out
    assert float(budgets().describe_budget(AccountId=ACCOUNT, BudgetName=BUDGET)["Budget"]["BudgetLimit"]
                 ["Amount"]) == 20


def test_gc_removes_the_budget_of_an_expired_sandbox(sh, monkeypatch):
    import pipeline.engine.sandbox as engine

    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=8)
    monkeypatch.setattr(engine, "utcnow", lambda: past)
    sh.ok("sandbox", "up")
    monkeypatch.setattr(engine, "utcnow", lambda: dt.datetime.now(dt.timezone.utc))
    sh.as_base()
    assert "deleted" in sh.ok("sandbox", "gc")
    names = [b["BudgetName"] for b in budgets().describe_budgets(AccountId=ACCOUNT).get("Budgets", [])]
    assert BUDGET not in names


@pytest.mark.parametrize(("settings", "message"), [
    ({"budget_usd": 0}, "budget_usd"),
    ({"budget_usd": -5}, "budget_usd"),
    ({"budget_usd": "20"}, "budget_usd"),
    ({"budget_emails": ["not-an-email"]}, "budget_emails"),
    ({"budget_sns_topic": "my-topic"}, "budget_sns_topic"),
    ({"allowed_services": ["lambda", "nosuchservice"]}, "allowed_services[1]: 'nosuchservice' is not an IAM"),
    ({"allowed_services": ["lambda", "logs"]}, "would block the tool's own calls"),
    ({"require_boundary": "yes"}, "require_boundary"),
])
def test_bad_guardrail_settings_are_exit_2_with_no_aws_call(sh, envdir, calls, settings, message):
    write_sandbox(envdir, **settings)
    code, _, err = sh.run("sandbox", "up")
    assert code == 2 and message in err, err
    assert calls.calls == []


def test_boundary_document_allows_only_the_listed_services():
    doc = G.boundary_document("greeter", ("lambda", "s3", "dynamodb"))
    allow = next(s for s in doc["Statement"] if s["Effect"] == "Allow")
    assert allow["Action"] == ["dynamodb:*", "lambda:*", "s3:*"]
    denied = {a for s in doc["Statement"] if s["Effect"] == "Deny" for a in s["Action"]}
    assert {"iam:CreateUser", "iam:CreateAccessKey", "iam:DeleteRolePermissionsBoundary",
            "iam:CreatePolicyVersion"} <= denied
    owned = next(s for s in doc["Statement"] if s["Sid"] == "OwnedResources")
    # StringNotEquals is true when the tag is missing too: no owner tag, or someone else's, is refused.
    assert owned["Condition"] == {"StringNotEquals": {"aws:RequestTag/owner": "${aws:PrincipalArn}"}}
    assert "ec2:*" not in allow["Action"]


def test_every_alert_goes_to_every_subscriber():
    spec = G.BudgetSpec("b", 20, "me", ("a@example.com",), "arn:aws:sns:us-east-1:123456789012:t")
    assert spec.subscribers() == [{"SubscriptionType": "EMAIL", "Address": "a@example.com"},
                                  {"SubscriptionType": "SNS", "Address": "arn:aws:sns:us-east-1:123456789012:t"}]
    assert [(n["NotificationType"], n["Threshold"]) for n in spec.notifications()] == [
        ("ACTUAL", 50.0), ("ACTUAL", 80.0), ("ACTUAL", 100.0), ("FORECASTED", 100.0)]
    assert G.BudgetSpec("b", 20, "me", (), None).notifications() == []


def _role(name: str, boundary: str | None) -> str:
    iam = boto3.client("iam", region_name="us-east-1")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]}
    kw = {"PermissionsBoundary": boundary} if boundary else {}
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), **kw)
    iam.put_role_policy(RoleName=name, PolicyName="admin", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    return name


def test_require_boundary_refuses_a_role_without_it_and_writes_nothing(sh, envdir, calls):
    write_sandbox(envdir, require_boundary=True)
    _role("dev-unbounded", None)
    sh.act_as(ACCOUNT, "dev-unbounded")
    calls.clear()
    code, _, err = sh.run("sandbox", "up")
    assert code == 3 and "require_boundary: true" in err and "role dev-unbounded has no permissions boundary" in err
    assert f"arn:aws:iam::{ACCOUNT}:policy/greeter-sandbox-boundary" in err
    assert calls.writes == []
    assert ("iam", "GetRole") in calls.calls


def test_require_boundary_refuses_plain_users_and_accepts_a_bounded_role(sh, envdir):
    write_sandbox(envdir, require_boundary=True)
    code, _, err = sh.run("sandbox", "up")  # the base credentials are a user, not a role
    assert code == 3 and "not as a role" in err
    iam = boto3.client("iam", region_name="us-east-1")
    arn = iam.create_policy(PolicyName="greeter-sandbox-boundary",
                            PolicyDocument=G.boundary_json("greeter", G.TOOL_SERVICES))["Policy"]["Arn"]
    _role("dev-bounded", arn)
    sh.act_as(ACCOUNT, "dev-bounded")
    sh.ok("sandbox", "up")
    # The function's execution role carries the boundary too (the boundary denies roles without it).
    cfn = boto3.client("cloudformation", region_name="us-east-1")
    role = next(r["PhysicalResourceId"] for r in cfn.list_stack_resources(
        StackName="greeter-sbx-alice-function")["StackResourceSummaries"] if r["ResourceType"] == "AWS::IAM::Role")
    assert iam.get_role(RoleName=role)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == arn


def test_status_reports_a_sandbox_stack_or_function_without_the_owner_tag(sh):
    sh.ok("sandbox", "up")
    lam = boto3.client("lambda", region_name="us-east-1")
    arn = lam.get_function(FunctionName="greeter-sbx-alice")["Configuration"]["FunctionArn"]
    lam.untag_resource(Resource=arn, TagKeys=["owner"])
    status = json.loads(sh.ok("--output", "json", "sandbox", "status"))
    assert status["untagged"] == ["function greeter-sbx-alice"]
    assert "function greeter-sbx-alice (no owner tag)" in sh.ok("sandbox", "status")


def test_gc_reports_a_sandbox_stack_without_the_owner_tag(sh):
    cfn = boto3.client("cloudformation", region_name="us-east-1")
    cfn.create_stack(StackName="greeter-sbx-byhand-function", TemplateBody=json.dumps({
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}), Tags=[{"Key": "pipeline:sandbox", "Value": "byhand"}])
    out = sh.ok("sandbox", "gc", "--dry-run")
    assert "reported: stack greeter-sbx-byhand-function has no owner tag (not deleted)" in out
    assert cfn.describe_stacks(StackName="greeter-sbx-byhand-function")["Stacks"]


def test_boundary_prints_offline_and_apply_creates_then_updates_the_policy(sh, envdir, calls):
    doc = json.loads(sh.ok("sandbox", "boundary"))
    assert calls.calls == [] and doc == G.boundary_document("greeter", G.TOOL_SERVICES)
    arn = f"arn:aws:iam::{ACCOUNT}:policy/greeter-sandbox-boundary"
    assert f"created {arn}" in sh.ok("sandbox", "boundary", "--apply")
    assert f"{arn} unchanged" in sh.ok("sandbox", "boundary", "--apply")
    write_sandbox(envdir, allowed_services=[*G.TOOL_SERVICES, "dynamodb"], require_boundary=True)
    assert f"updated {arn}" in sh.ok("sandbox", "boundary", "--apply")
    iam = boto3.client("iam", region_name="us-east-1")
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    stored = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    assert "dynamodb:*" in json.dumps(stored)


def test_boundary_apply_refuses_a_pipeline_account(sh, calls):
    from helpers import ACCOUNTS

    sh.act_as(ACCOUNTS["prod"])
    calls.clear()
    code, _, err = sh.run("sandbox", "boundary", "--apply")
    assert code == 3 and "used by the pipeline" in err and calls.writes == []


# The emulator enforces IAM, permission boundaries and the request's tags included (pipeline/local/authz).
def test_a_bounded_developer_can_run_the_sandbox_and_nothing_outside_it(sh, envdir, prebuilt):
    from botocore.exceptions import ClientError

    write_sandbox(envdir, require_boundary=True)
    sh.ok("sandbox", "boundary", "--apply")  # the organization admin, once
    _role("dev-bounded", f"arn:aws:iam::{ACCOUNT}:policy/greeter-sandbox-boundary")
    sh.act_as(ACCOUNT, "dev-bounded")
    sh.ok("sandbox", "up")
    code, _, err = sh.deploy()
    assert code == 0, err
    sh.ok("sandbox", "invoke", "--path", "/health")
    sh.ok("sandbox", "logs")
    sh.ok("sandbox", "status")
    session = boto3.Session(region_name="us-east-1")  # the developer's credentials, from the environment
    for call in (lambda: session.client("ec2").run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1),
                 lambda: session.client("iam").create_user(UserName="backdoor"),
                 lambda: session.client("iam").delete_role_permissions_boundary(RoleName="dev-bounded")):
        with pytest.raises(ClientError) as denied:
            call()
        assert denied.value.response["Error"]["Code"] in ("AccessDenied", "AccessDeniedException",
                                                          "UnauthorizedOperation")
    sh.ok("sandbox", "down")


def test_a_bounded_developer_must_tag_what_they_make_by_hand_with_themselves_as_owner(sh, envdir):
    from botocore.exceptions import ClientError

    write_sandbox(envdir, require_boundary=True)
    sh.ok("sandbox", "boundary", "--apply")
    _role("dev-bounded", f"arn:aws:iam::{ACCOUNT}:policy/greeter-sandbox-boundary")
    sh.act_as(ACCOUNT, "dev-bounded")
    me = f"arn:aws:iam::{ACCOUNT}:role/dev-bounded"  # aws:PrincipalArn of the developer's session
    session = boto3.Session(region_name="us-east-1")
    logs, cfn = session.client("logs"), session.client("cloudformation")
    template = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})
    for tags in ({}, {"owner": "arn:aws:iam::123456789012:role/someone-else"}, {"team": "x"}):
        with pytest.raises(ClientError) as denied:
            logs.create_log_group(logGroupName="/byhand/untagged", **({"tags": tags} if tags else {}))
        assert denied.value.response["Error"]["Code"] == "AccessDeniedException", denied.value.response
        assert "explicit deny in a permissions boundary" in str(denied.value)
        with pytest.raises(ClientError) as denied:
            cfn.create_stack(StackName="byhand", TemplateBody=template,
                             Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        assert denied.value.response["Error"]["Code"] == "AccessDenied"
    logs.create_log_group(logGroupName="/byhand/owned", tags={"owner": me})
    # A role made by hand must be owned and carry the boundary too (iam:PermissionsBoundary).
    iam, boundary = session.client("iam"), f"arn:aws:iam::{ACCOUNT}:policy/greeter-sandbox-boundary"
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                                "Principal": {"Service": "lambda.amazonaws.com"}}]})
    for extra in ({"Tags": [{"Key": "owner", "Value": me}]}, {"PermissionsBoundary": boundary}):
        with pytest.raises(ClientError):
            iam.create_role(RoleName="byhand", AssumeRolePolicyDocument=trust, **extra)
    iam.create_role(RoleName="byhand", AssumeRolePolicyDocument=trust, PermissionsBoundary=boundary,
                    Tags=[{"Key": "owner", "Value": me}])
    cfn.create_stack(StackName="byhand", TemplateBody=template, Tags=[{"Key": "owner", "Value": me}])
    # The tool's own resources carry the same owner, so `sandbox up` passes the same Deny.
    sh.ok("sandbox", "up")
    stack = cfn.describe_stacks(StackName="greeter-sbx-alice-function")["Stacks"][0]
    assert {t["Key"]: t["Value"] for t in stack["Tags"]}["owner"] == me


@pytest.mark.parametrize(("arn", "role"), [
    ("arn:aws:sts::123456789012:assumed-role/developer/alice", "developer"),
    ("arn:aws:iam::123456789012:role/team/dev-role", "dev-role"),
    ("arn:aws:iam::123456789012:user/moto", None),
    ("arn:aws:iam::123456789012:root", None),
])
def test_the_role_a_caller_arn_names(arn, role):
    from pipeline.engine.sandbox_guard import role_name

    assert role_name(arn) == role
