"""`sandbox gc` reports the functions, buckets, log groups and roles of the account that have no `owner`
tag (through the CLI, on the emulator with IAM enforced): read-only, as a bounded developer too."""

from __future__ import annotations

import json

import boto3
import pytest

pytestmark = pytest.mark.emulator

ACCOUNT = "123456789012"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/greeter-sandbox-boundary"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                            "Principal": {"Service": "lambda.amazonaws.com"}}]})


def _reported(out: str) -> set[str]:
    rows = json.loads(out)["sandboxes"]
    return {r["action"] for r in rows if r["action"].startswith("reported:")}


def _hand_made_untagged() -> None:
    """What an admin (not bounded) makes by hand without tags: a log group, a role, a bucket."""
    boto3.client("logs", region_name="us-east-1").create_log_group(logGroupName="/byhand/untagged")
    boto3.client("iam", region_name="us-east-1").create_role(RoleName="byhand-untagged",
                                                             AssumeRolePolicyDocument=TRUST)
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="byhand-untagged")


def test_gc_reports_untagged_functions_buckets_log_groups_and_roles_and_deletes_nothing(sh, calls):
    sh.ok("sandbox", "up")
    lam = boto3.client("lambda", region_name="us-east-1")
    fn = lam.get_function(FunctionName="greeter-sbx-alice")["Configuration"]["FunctionArn"]
    lam.untag_resource(Resource=fn, TagKeys=["owner"])
    _hand_made_untagged()
    boto3.client("logs", region_name="us-east-1").create_log_group(logGroupName="/byhand/owned",
                                                                   tags={"owner": "someone"})
    calls.clear()
    reported = _reported(sh.ok("--output", "json", "sandbox", "gc"))
    for line in ("lambda function greeter-sbx-alice", "log group /byhand/untagged", "iam role byhand-untagged",
                 "s3 bucket byhand-untagged"):
        assert f"reported: {line} has no owner tag (not deleted)" in reported, reported
    # the sandbox's own bucket, log group and role carry the owner tag; so does the owned log group
    assert not [r for r in reported if "greeter-sbx-alice-" in r or "/aws/lambda/" in r or "/byhand/owned" in r]
    assert calls.writes == []  # nothing expired: gc read, and wrote nothing
    assert {("resourcegroupstaggingapi", "GetResources"), ("iam", "ListRoleTags")} <= set(calls.calls)
    assert lam.get_function(FunctionName="greeter-sbx-alice")
    assert boto3.client("iam", region_name="us-east-1").get_role(RoleName="byhand-untagged")
    text = sh.ok("sandbox", "gc", "--dry-run")
    assert "reported: log group /byhand/untagged has no owner tag (not deleted)" in text


def test_a_bounded_developer_may_list_what_gc_reports(sh, envdir):
    """The boundary lets gc's listing through (tag:GetResources is not one of allowed_services), so a bounded
    developer sees the bucket they made by hand without a tag (s3:CreateBucket cannot require one)."""
    from test_sandbox_guardrails import _role, write_sandbox

    write_sandbox(envdir, require_boundary=True)
    sh.ok("sandbox", "boundary", "--apply")
    _role("dev-bounded", BOUNDARY)
    sh.act_as(ACCOUNT, "dev-bounded")
    sh.ok("sandbox", "up")
    boto3.Session(region_name="us-east-1").client("s3").create_bucket(Bucket="dev-made-untagged")
    reported = _reported(sh.ok("--output", "json", "sandbox", "gc", "--dry-run"))
    assert "reported: s3 bucket dev-made-untagged has no owner tag (not deleted)" in reported
    assert "reported: iam role dev-bounded has no owner tag (not deleted)" in reported  # the admin made it so


def test_gc_without_the_tag_listing_grant_fails_naming_the_call(sh, envdir):
    """A role that may not call tag:GetResources: gc says which call was refused, exit 1 (not a silent 'all
    tagged')."""
    iam = boto3.client("iam", region_name="us-east-1")
    sh.act_as(ACCOUNT, "dev-notag")
    sh.as_base()
    iam.put_role_policy(RoleName="dev-notag", PolicyName="no-tag-listing", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "tag:GetResources", "Resource": "*"}]}))
    sh.act_as(ACCOUNT, "dev-notag")
    code, out, err = sh.run("sandbox", "gc", "--dry-run")
    assert code == 1, (out, err)
    assert "failed: tag:GetResources (listing resources without an owner tag): AccessDenied" in out, out
