"""Sandboxes on the emulator: up (tags, idempotence), deploy (no-op when unchanged), invoke/logs/status, down, gc."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time

import boto3
import pytest
from helpers import REPO, client

pytestmark = pytest.mark.emulator

ME = "arn:aws:sts::123456789012:user/moto"  # the emulator's base credentials: "the developer's own account"
TOOLING_BUCKET = "greeter-artifacts-444444444444-us-east-1"


def aws(service: str):
    return boto3.client(service, region_name="us-east-1")


def tags_of_everything(prefix: str = "greeter-sbx-alice") -> dict[str, dict[str, str]]:
    """Tags of both stacks and every resource in them that takes tags."""
    cfn, found = aws("cloudformation"), {}
    for name in (f"{prefix}-bucket", f"{prefix}-function"):
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        found[name] = {t["Key"]: t["Value"] for t in stack["Tags"]}
        for res in cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]:
            physical, kind = res["PhysicalResourceId"], res["ResourceType"]
            if kind == "AWS::S3::Bucket":
                tag_list = aws("s3").get_bucket_tagging(Bucket=physical)["TagSet"]
            elif kind == "AWS::IAM::Role":
                tag_list = aws("iam").list_role_tags(RoleName=physical)["Tags"]
            elif kind == "AWS::Logs::LogGroup":
                tag_list = [{"Key": k, "Value": v} for k, v in
                            aws("logs").list_tags_log_group(logGroupName=physical)["tags"].items()]
            elif kind == "AWS::Lambda::Function":
                tag_list = [{"Key": k, "Value": v} for k, v in
                            (aws("lambda").get_function(FunctionName=physical).get("Tags") or {}).items()]
            else:
                raise AssertionError(f"untested resource type {kind}")
            found[f"{name}/{res['LogicalResourceId']}"] = {t["Key"]: t["Value"] for t in tag_list}
    return found


# The deploy lock: `up` and `deploy` create it (a conditional PutObject) and delete it at the end.
LOCK_WRITES = [("s3", "PutObject"), ("s3", "DeleteObject")]


def ops(calls) -> list[str]:
    return [op for _, op in calls.calls]


def test_up_tags_every_stack_and_resource_and_is_idempotent(sh, calls):
    out = sh.ok("sandbox", "up")  # user from $USER (alice)
    assert "greeter-sbx-alice-function" in out and "created" in out
    everything = tags_of_everything()
    assert len(everything) == 2 + 4  # 2 stacks; bucket, log group, role, function
    first = everything["greeter-sbx-alice-bucket"]
    created = dt.datetime.strptime(first["created"], "%Y-%m-%dT%H:%M:%SZ")
    assert dt.datetime.strptime(first["expires"], "%Y-%m-%dT%H:%M:%SZ") - created == dt.timedelta(days=7)
    for where, tags in everything.items():
        assert tags["owner"] == ME and tags["created"] == first["created"], where
        assert tags["expires"] == first["expires"] and tags["pipeline:sandbox"] == "alice", where

    calls.clear()
    sh.ok("sandbox", "up")
    assert calls.writes == LOCK_WRITES, calls.writes  # nothing but the lock
    assert tags_of_everything()["greeter-sbx-alice-bucket"]["expires"] == first["expires"]

    sh.ok("sandbox", "up", "--branch", "Feature/Login")
    assert aws("lambda").get_function(FunctionName="greeter-sbx-alice-feature-login")


def test_deploy_lifecycle_with_real_builds(sh, calls, s3_buckets, tmp_path, capsys):
    sh.ok("sandbox", "up")
    code, out, err = sh.deploy()
    assert code == 0, err
    assert out.count("PASS") == 2 and "uploaded: yes, code updated: yes" in out

    # Unchanged tree: the build gives the same bytes; one HEAD, no upload, no code update, no new version.
    calls.clear()
    code, out, err = sh.deploy("--output", "json")
    doc = json.loads(out)
    assert code == 0 and doc["uploaded"] is False and doc["code_updated"] is False and doc["alias_moved"] is False
    assert ops(calls).count("HeadObject") == 1
    assert ops(calls).count("PutObject") == 1  # the lock's
    assert not {"UpdateFunctionCode", "UpdateFunctionConfiguration", "PublishVersion",
                "UpdateAlias", "CreateAlias", "TagResource"} & set(ops(calls))
    assert [op for _, op in calls.writes] == ["PutObject", "Invoke", "Invoke", "DeleteObject"]  # lock, 2 smoke tests
    with capsys.disabled():
        print(f"\nunchanged deploy: {len(calls.calls)} calls {ops(calls)}; timings {doc['timings']}")

    # A changed tree (a copy with one more comment): one upload, one code update, the alias moves.
    go_dir = tmp_path / "go-changed"
    shutil.copytree(REPO / "go-function", go_dir)
    (go_dir / "main.go").write_text((go_dir / "main.go").read_text() + "\n// changed\n")
    calls.clear()
    started = time.perf_counter()
    code, out, err = sh.run("sandbox", "deploy", "--go-dir", str(go_dir), "--dist", str(sh.dist), "--skip-tests",
                            "--output", "json")
    elapsed = time.perf_counter() - started
    doc = json.loads(out)
    assert code == 0 and doc["uploaded"] and doc["code_updated"] and doc["version"] == "2", err
    assert ops(calls).count("PutObject") == 2 and ops(calls).count("UpdateFunctionCode") == 1  # lock + artifact
    with capsys.disabled():
        print(f"changed deploy: {elapsed:.2f} s wall, {len(calls.calls)} calls {ops(calls)}; timings {doc['timings']}")

    live = aws("lambda").get_function_configuration(FunctionName="greeter-sbx-alice", Qualifier="live")
    assert live["Version"] == "2" and live["Runtime"] == "provided.al2023"
    status = json.loads(sh.ok("--output", "json", "sandbox", "status"))
    assert status["live_sha256"] == doc["sha256"] and status["last_deploy"]["smoke"] == "passed 2/2"
    assert status["owner"] == ME and status["expired"] is False

    # `up` after a deploy passes the live code back in: the stack update never reverts it.
    sh.ok("sandbox", "up")
    after = aws("lambda").get_function_configuration(FunctionName="greeter-sbx-alice")
    assert after["CodeSha256"] == live["CodeSha256"] and after["Runtime"] == "provided.al2023"
    calls.clear()
    sh.ok("sandbox", "up")
    assert calls.writes == LOCK_WRITES

    out = sh.ok("sandbox", "invoke", "--path", "/version", "--tail")
    assert '"environment":"sandbox"' in out and "START RequestId" in out and "REPORT RequestId" in out
    out = sh.ok("sandbox", "logs")
    assert "no CloudWatch Logs events in /aws/lambda/greeter-sbx-alice" in out
    assert "the last invoke's log tail from this machine" in out and "START RequestId" in out

    out = sh.ok("sandbox", "down")
    assert "deleted stack greeter-sbx-alice-function" in out and "deleted stack greeter-sbx-alice-bucket" in out
    assert aws("cloudformation").describe_stacks()["Stacks"] == []
    assert aws("s3").list_buckets()["Buckets"] == []
    assert aws("lambda").list_functions()["Functions"] == []
    assert aws("logs").describe_log_groups()["logGroups"] == []
    assert aws("iam").list_roles()["Roles"] == []
    assert "nothing to delete" in sh.ok("sandbox", "down")
    # Never the pipeline's artifact bucket or ledger: every S3 call named the sandbox's own bucket.
    assert s3_buckets and TOOLING_BUCKET not in s3_buckets
    assert {b for b in s3_buckets} == {json.loads(sh.ok("--output", "json", "sandbox", "status"))["bucket"]}


def test_smoke_failure_is_exit_1_and_recorded(sh, prebuilt, envdir):
    (envdir / "sandbox.yml").write_text("smoke:\n  - {name: created, path: /health, expect: {statusCode: 201}}\n")
    sh.ok("sandbox", "up")
    code, out, _ = sh.deploy()
    assert code == 1 and "FAIL: statusCode 200, expected 201" in out and "smoke FAILED" in out
    assert "smoke from environments/sandbox.yml" in out
    status = json.loads(sh.ok("--output", "json", "sandbox", "status"))
    assert status["last_deploy"]["smoke"] == "failed 0/1" and status["live_version"] == "1"


def test_down_refuses_someone_elses_sandbox(sh, calls, prebuilt):
    sh.ok("sandbox", "up")
    sh.act_as("123456789012", "bob")
    bob = "arn:aws:iam::123456789012:role/bob"  # the owner is the caller's aws:PrincipalArn: the role
    calls.clear()
    for action in (["down"], ["up"], ["deploy", "--skip-tests"]):
        code, _, err = sh.run("sandbox", *action, "--user", "alice")
        assert code == 3, (action, err)
        assert f"is owned by {ME}, not by you ({bob}): refusing" in err.splitlines()[0]
    assert calls.writes == []
    assert len(aws("cloudformation").describe_stacks()["Stacks"]) == 2
    sh.as_base()
    sh.ok("sandbox", "down")


def test_down_refuses_a_stack_it_did_not_tag(sh, calls):
    body = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
    aws("cloudformation").create_stack(StackName="greeter-sbx-alice-function", TemplateBody=body)
    calls.clear()
    code, _, err = sh.run("sandbox", "down")
    assert code == 3 and "stack greeter-sbx-alice-function was not made by `pipeline sandbox up`" in err
    assert calls.writes == []
    assert aws("cloudformation").describe_stacks(StackName="greeter-sbx-alice-function")["Stacks"]


def up_in_the_past(sh, monkeypatch, days: int, *args: str) -> None:
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)
    with monkeypatch.context() as clock:
        clock.setattr("pipeline.engine.sandbox.utcnow", lambda: past)
        sh.ok("sandbox", "up", *args)


def test_gc_deletes_expired_sandboxes_only(sh, calls, monkeypatch):
    up_in_the_past(sh, monkeypatch, 30, "--user", "old")
    sh.ok("sandbox", "up", "--user", "new")

    calls.clear()
    out = sh.ok("sandbox", "gc", "--dry-run")
    assert calls.writes == []
    lines = {line.split()[2]: line for line in out.splitlines() if line.startswith("123456789012")}
    assert "would delete" in lines["old"] and "kept (not expired)" in lines["new"]

    out = sh.ok("sandbox", "gc")
    assert "deleted" in out
    names = {s["StackName"] for s in aws("cloudformation").describe_stacks()["Stacks"]}
    assert names == {"greeter-sbx-new-bucket", "greeter-sbx-new-function"}
    assert [b["Name"].startswith("greeter-sbx-new-") for b in aws("s3").list_buckets()["Buckets"]] == [True]


def test_gc_other_accounts_through_a_role(sh, calls, monkeypatch):
    sh.act_as("555555555555", "carol")
    up_in_the_past(sh, monkeypatch, 8, "--user", "carol")
    sh.act_as("555555555555", "sandbox-gc")  # the gc role exists in each scanned account
    sh.as_base()
    out = sh.ok("sandbox", "gc", "--accounts", "555555555555", "--role", "sandbox-gc")
    assert "555555555555" in out and "carol" in out and "deleted" in out
    assert ("sts", "AssumeRole") in calls.calls
    assert client("cloudformation", "555555555555").describe_stacks()["Stacks"] == []

    calls.clear()
    code, _, err = sh.run("sandbox", "gc", "--accounts", "555555555555,222222222222", "--role", "x")
    assert code == 3 and "222222222222" in err and "env test" in err
    assert calls.writes == [] and ("sts", "AssumeRole") not in calls.calls
