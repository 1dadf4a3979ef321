"""S3 -> EventBridge -> StartPipelineExecution in the emulator: an object created in a bucket with EventBridge
notifications is an `aws.s3` `Object Created` event on the default bus; a matching rule's CodePipeline target is
started as the target's role (assumed as events.amazonaws.com, IAM enforced); the execution's trigger is
CloudWatchEvent (the rule) and its S3 source reads the version the event named. A denied role is a
FailedInvocation and no execution; a bucket without the notification sends nothing."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid

import boto3
import pytest

from pipeline.local import events_bus

from .events_support import control, execution_role, wait_for
from .helpers import make_zip

pytestmark = pytest.mark.emulator
ACCOUNT = "123456789012"
BUCKET = f"ev-{uuid.uuid4().hex[:8]}"
QUIET = f"ev-quiet-{uuid.uuid4().hex[:8]}"  # no EventBridge notification configuration


def _trust(service: str, source_account: str | None = None) -> str:
    statement: dict = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if source_account:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _pattern(bucket: str, key: str | None = None, **detail: list[str]) -> str:
    obj = {"key": [key]} if key else {"key": [{"prefix": ""}]}
    return json.dumps({"source": ["aws.s3"], "detail-type": ["Object Created"],
                       "detail": {"bucket": {"name": [bucket]}, "object": obj, **detail}})


@pytest.fixture(scope="module")
def world(clients) -> dict:
    kw = clients["kw"]
    s3, cp, events = (boto3.client(s, **kw) for s in ("s3", "codepipeline", "events"))
    for bucket in (BUCKET, QUIET):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={
        "EventBridgeConfiguration": {}})
    name = f"pl-{uuid.uuid4().hex[:6]}"
    pipeline_arn = f"arn:aws:codepipeline:us-east-1:{ACCOUNT}:{name}"
    _, pipeline_role = execution_role(clients["iam"], [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"],
         "Resource": f"arn:aws:s3:::{BUCKET}/source/*"},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/{name}/*"}],
        trust=_trust("codepipeline.amazonaws.com"))
    # as the product's SourceEventsRole: only EventBridge acting for this account, only this pipeline
    _, events_role = execution_role(clients["iam"], [
        {"Effect": "Allow", "Action": "codepipeline:StartPipelineExecution", "Resource": pipeline_arn}],
        trust=_trust("events.amazonaws.com", ACCOUNT))
    _, denied_role = execution_role(clients["iam"], [
        {"Effect": "Allow", "Action": "codepipeline:StartPipelineExecution",
         "Resource": f"{pipeline_arn}-other"}], trust=_trust("events.amazonaws.com", ACCOUNT))
    cp.create_pipeline(pipeline={
        "name": name, "roleArn": pipeline_role, "artifactStore": {"type": "S3", "location": BUCKET},
        "pipelineType": "V2", "executionMode": "QUEUED",
        "stages": [
            {"name": "Source", "actions": [{"name": "Source", "namespace": "SourceVariables",
                                            "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3",
                                                             "version": "1"},
                                            "configuration": {"S3Bucket": BUCKET, "S3ObjectKey": "source/src.zip",
                                                              "PollForSourceChanges": "false"},
                                            "outputArtifacts": [{"name": "Source"}]}]},
            {"name": "Hold", "actions": [{"name": "Approve", "actionTypeId": {
                "category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"}}]}]})
    rules = {}
    for rule, pattern, role in (("source", _pattern(BUCKET, "source/src.zip"), events_role),
                                ("copied", _pattern(BUCKET, "copied/src.zip", reason=["CopyObject"]), events_role),
                                ("multipart", _pattern(BUCKET, "multipart/src.zip", reason=["CompleteMultipartUpload"]),
                                 events_role),
                                ("denied", _pattern(BUCKET, "denied/src.zip"), denied_role),
                                ("quiet", _pattern(QUIET, "source/src.zip"), events_role)):
        rule_name = f"{rule}-{uuid.uuid4().hex[:6]}"
        rules[rule] = events.put_rule(Name=rule_name, EventPattern=pattern, State="ENABLED")["RuleArn"]
        events.put_targets(Rule=rule_name, Targets=[{"Id": "pipeline", "Arn": pipeline_arn, "RoleArn": role}])
    return {"name": name, "s3": s3, "cp": cp, "rules": rules}


def _executions(world) -> list[dict]:
    return world["cp"].list_pipeline_executions(pipelineName=world["name"])["pipelineExecutionSummaries"]


def _deliveries(emulator, rule_arn: str) -> list[dict]:
    _, answer = control(emulator, f"/rules/{rule_arn.rsplit('/', 1)[-1]}")
    return answer["deliveries"]


def _metrics(emulator, rule_arn: str) -> dict:
    _, answer = control(emulator, f"/rules/{rule_arn.rsplit('/', 1)[-1]}")
    return answer["metrics"].get(rule_arn, {})


def _stop_all(world) -> None:
    cp = world["cp"]
    for summary in _executions(world):
        if summary["status"] == "InProgress":
            cp.stop_pipeline_execution(pipelineName=world["name"], pipelineExecutionId=summary["pipelineExecutionId"],
                                       abandon=True)
    assert wait_for(lambda: all(e["status"] != "InProgress" for e in _executions(world)), timeout=30)


def _execution(world, execution_id: str) -> dict:
    return next(e for e in _executions(world) if e["pipelineExecutionId"] == execution_id)


def test_an_upload_starts_the_pipeline_on_the_uploaded_version(world, emulator):
    before = len(_executions(world))
    put = world["s3"].put_object(Bucket=BUCKET, Key="source/src.zip", Body=make_zip({"a.txt": "one"}))
    assert wait_for(lambda: len(_executions(world)) == before + 1, timeout=30)
    [delivery] = _deliveries(emulator, world["rules"]["source"])
    assert delivery["status"] == "Invoked" and delivery["trigger"] == "event", delivery
    execution_id = delivery["execution_id"]
    summary = _execution(world, execution_id)
    assert summary["trigger"] == {"triggerType": "CloudWatchEvent", "triggerDetail": world["rules"]["source"]}
    assert wait_for(lambda: _execution(world, execution_id)["sourceRevisions"], timeout=30)
    assert _execution(world, execution_id)["sourceRevisions"][0]["revisionId"] == put["VersionId"]
    assert _metrics(emulator, world["rules"]["source"]) == {"MatchedEvents": 1, "TriggeredRules": 1,
                                                           "Invocations": 1, "FailedInvocations": 0}
    assert _deliveries(emulator, world["rules"]["denied"]) == []  # another key: that rule did not match
    _stop_all(world)


def test_two_uploads_in_quick_succession_queue_two_executions_each_on_its_own_version(world, emulator):
    _stop_all(world)
    before = {e["pipelineExecutionId"] for e in _executions(world)}
    first = world["s3"].put_object(Bucket=BUCKET, Key="source/src.zip", Body=make_zip({"a.txt": "two"}))
    second = world["s3"].put_object(Bucket=BUCKET, Key="source/src.zip", Body=make_zip({"a.txt": "three"}))
    assert first["VersionId"] != second["VersionId"]
    assert wait_for(lambda: len({e["pipelineExecutionId"] for e in _executions(world)} - before) == 2, timeout=30)
    newer, older = [e for e in _executions(world) if e["pipelineExecutionId"] not in before]  # newest first
    assert older["status"] == newer["status"] == "InProgress"
    state = world["cp"].get_pipeline_state(name=world["name"])
    held = {s.get("latestExecution", {}).get("pipelineExecutionId") for s in state["stageStates"]}
    assert newer["pipelineExecutionId"] not in held  # QUEUED behind the older one
    assert wait_for(lambda: _execution(world, older["pipelineExecutionId"])["sourceRevisions"], timeout=30)
    assert _execution(world, older["pipelineExecutionId"])["sourceRevisions"][0]["revisionId"] == first["VersionId"]
    world["cp"].stop_pipeline_execution(pipelineName=world["name"], pipelineExecutionId=older["pipelineExecutionId"],
                                        abandon=True)
    # the queued one runs now, on the version its own event named (not simply the newest object)
    assert wait_for(lambda: _execution(world, newer["pipelineExecutionId"])["sourceRevisions"], timeout=30)
    assert _execution(world, newer["pipelineExecutionId"])["sourceRevisions"][0]["revisionId"] == second["VersionId"]
    _stop_all(world)


def test_a_copy_is_an_event_whose_reason_is_copyobject(world, emulator):
    _stop_all(world)
    before = len(_executions(world))
    world["s3"].copy_object(Bucket=BUCKET, Key="copied/src.zip", CopySource={"Bucket": BUCKET, "Key": "source/src.zip"})
    assert wait_for(lambda: _deliveries(emulator, world["rules"]["copied"]), timeout=30)
    [delivery] = _deliveries(emulator, world["rules"]["copied"])
    assert delivery["status"] == "Invoked"
    assert _execution(world, delivery["execution_id"])["trigger"]["triggerDetail"] == world["rules"]["copied"]
    assert len(_executions(world)) == before + 1  # the source rule matches source/src.zip only
    _stop_all(world)


def test_a_completed_multipart_upload_is_one_event_whose_reason_is_completemultipartupload(world, emulator):
    _stop_all(world)
    s3 = world["s3"]
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="multipart/src.zip")["UploadId"]
    part = s3.upload_part(Bucket=BUCKET, Key="multipart/src.zip", UploadId=upload, PartNumber=1, Body=b"x")
    assert events_bus.drain() and _deliveries(emulator, world["rules"]["multipart"]) == []  # not before it completes
    s3.complete_multipart_upload(Bucket=BUCKET, Key="multipart/src.zip", UploadId=upload,
                                 MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]})
    assert wait_for(lambda: _deliveries(emulator, world["rules"]["multipart"]), timeout=30)
    assert events_bus.drain()
    [delivery] = _deliveries(emulator, world["rules"]["multipart"])
    assert delivery["status"] == "Invoked", delivery
    _stop_all(world)


def test_a_role_without_start_pipeline_execution_is_a_failed_invocation_and_no_execution(world, emulator):
    _stop_all(world)
    before = len(_executions(world))
    world["s3"].put_object(Bucket=BUCKET, Key="denied/src.zip", Body=b"x")
    assert wait_for(lambda: _deliveries(emulator, world["rules"]["denied"]), timeout=30)
    [delivery] = _deliveries(emulator, world["rules"]["denied"])
    assert delivery["status"] == "FailedInvocation"
    assert delivery["reason"].startswith("AccessDeniedException: ") and \
        "codepipeline:StartPipelineExecution" in delivery["reason"], delivery["reason"]
    assert _metrics(emulator, world["rules"]["denied"])["FailedInvocations"] == 1
    assert events_bus.drain() and len(_executions(world)) == before


def test_a_bucket_without_eventbridge_notifications_sends_no_event(world, emulator):
    before = len(_executions(world))
    world["s3"].put_object(Bucket=QUIET, Key="source/src.zip", Body=b"x")
    assert events_bus.drain()
    assert _deliveries(emulator, world["rules"]["quiet"]) == [] and len(_executions(world)) == before
    assert _metrics(emulator, world["rules"]["quiet"]) == {}


def test_the_event_has_s3s_shape_and_its_delivery_never_delays_nor_fails_the_upload(world, emulator, monkeypatch):
    gate, seen = threading.Event(), []
    delivered = events_bus.dispatch

    def stuck(account: str, region: str, event: dict) -> None:
        seen.append((account, region, event))
        gate.wait(10)
        raise RuntimeError("the bus failed")

    monkeypatch.setattr(events_bus, "dispatch", stuck)
    begun = time.monotonic()
    put = world["s3"].put_object(Bucket=BUCKET, Key="denied/src.zip", Body=b"four")
    assert time.monotonic() - begun < 10  # answered while the bus is stuck on its event
    assert wait_for(lambda: seen, timeout=30)
    account, region, event = seen[0]
    assert (account, region) == (ACCOUNT, "us-east-1")
    assert {k: event[k] for k in ("version", "detail-type", "source", "account", "region", "resources")} == {
        "version": "0", "detail-type": "Object Created", "source": "aws.s3", "account": ACCOUNT,
        "region": "us-east-1", "resources": [f"arn:aws:s3:::{BUCKET}"]}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    detail = event["detail"]
    assert detail["bucket"] == {"name": BUCKET} and detail["reason"] == "PutObject"
    assert {k: detail["object"][k] for k in ("key", "size", "etag", "version-id")} == {
        "key": "denied/src.zip", "size": 4, "etag": put["ETag"].strip('"'), "version-id": put["VersionId"]}
    before = len(_deliveries(emulator, world["rules"]["denied"]))
    gate.set()
    assert events_bus.drain()
    monkeypatch.setattr(events_bus, "dispatch", delivered)
    world["s3"].put_object(Bucket=BUCKET, Key="denied/src.zip", Body=b"five")  # the bus still delivers
    assert wait_for(lambda: len(_deliveries(emulator, world["rules"]["denied"])) == before + 1, timeout=30)
