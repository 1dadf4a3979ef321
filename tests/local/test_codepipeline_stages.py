"""CodePipeline's stages in the emulator beyond the happy path: a manual approval nobody answers fails when
its timeout (V2 `timeoutInMinutes`, else 7 days) passes on the emulator's clock; actions of one runOrder run
in parallel, the stage waits for all of them, and one failure fails the stage."""

from __future__ import annotations

import json
import time
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from pipeline.local import codepipeline_actions, timing

from .events_support import execution_role, wait_for
from .helpers import make_zip

pytestmark = pytest.mark.emulator
BUCKET = f"stages-{uuid.uuid4().hex[:8]}"
SOURCE = {"name": "Source", "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
          "configuration": {"S3Bucket": BUCKET, "S3ObjectKey": "source/src.zip", "PollForSourceChanges": "false"},
          "outputArtifacts": [{"name": "Source"}]}


def _trust(service: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})


def _approval(name: str, run_order: int = 1, minutes: int | None = None) -> dict:
    action = {"name": name, "runOrder": run_order, "actionTypeId": {"category": "Approval", "owner": "AWS",
                                                                     "provider": "Manual", "version": "1"}}
    if minutes is not None:
        action["timeoutInMinutes"] = minutes
    return action


@pytest.fixture(scope="module")
def world(clients) -> dict:
    kw = clients["kw"]
    s3 = boto3.client("s3", **kw)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="source/src.zip", Body=make_zip({"buildspec.yml": "version: 0.2\n"}))
    _, role = execution_role(clients["iam"], [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
         "Resource": f"arn:aws:s3:::{BUCKET}/*"},
        {"Effect": "Allow", "Action": ["codebuild:StartBuild", "codebuild:BatchGetBuilds", "codebuild:StopBuild"],
         "Resource": "*"}], trust=_trust("codepipeline.amazonaws.com"))
    return {"cp": boto3.client("codepipeline", **kw), "cb": boto3.client("codebuild", **kw), "role": role,
            "iam": clients["iam"]}


def _pipeline(world, *stages: dict) -> str:
    name = f"pl-{uuid.uuid4().hex[:6]}"
    world["cp"].create_pipeline(pipeline={
        "name": name, "roleArn": world["role"], "artifactStore": {"type": "S3", "location": BUCKET},
        "pipelineType": "V2", "executionMode": "QUEUED",
        "stages": [{"name": "Source", "actions": [SOURCE]}, *stages]})
    return name


def _ended(world, name: str, execution: str) -> dict:
    def done():
        found = world["cp"].get_pipeline_execution(pipelineName=name, pipelineExecutionId=execution)
        return found["pipelineExecution"] if found["pipelineExecution"]["status"] != "InProgress" else None
    found = wait_for(done, timeout=60)
    assert found, "the execution did not end"
    return found


def _actions(world, name: str, execution: str) -> dict[str, dict]:
    details = world["cp"].list_action_executions(pipelineName=name, filter={"pipelineExecutionId": execution})
    return {d["actionName"]: d for d in details["actionExecutionDetails"]}


def test_an_unanswered_approval_fails_when_its_timeout_passes(world):
    name = _pipeline(world, {"name": "Hold", "actions": [_approval("Approve", minutes=5)]},
                     {"name": "After", "actions": [_approval("Never")]})
    with timing.using(events_minute=0.1):  # the emulator's minute: 0.1 s, so 5 minutes pass in 0.5 s
        begun = time.monotonic()
        execution = world["cp"].start_pipeline_execution(name=name)["pipelineExecutionId"]
        token = wait_for(lambda: _token(world, name), timeout=30)
        ended = _ended(world, name, execution)
    assert ended["status"] == "Failed" and "Approval timed out" in ended["statusSummary"]
    assert time.monotonic() - begun >= 0.5  # not before its 5 minutes
    approve = _actions(world, name, execution)["Approve"]
    assert approve["status"] == "Failed"
    assert approve["output"]["executionResult"]["externalExecutionSummary"] == \
        "Approval timed out: no response within 5 minutes"
    assert "Never" not in _actions(world, name, execution)  # the next stage never started
    with pytest.raises(ClientError) as caught:
        world["cp"].put_approval_result(pipelineName=name, stageName="Hold", actionName="Approve",
                                        result={"summary": "late", "status": "Approved"}, token=token)
    assert caught.value.response["Error"]["Code"] == "InvalidApprovalTokenException"


def test_an_approval_waits_seven_days_unless_told_otherwise():
    with timing.using(timing.profile("aws")):
        assert codepipeline_actions.approval_timeout_s({}) == 7 * 24 * 3600
        assert codepipeline_actions.approval_timeout_s({"timeoutInMinutes": 60}) == 3600
    with timing.using(timing.profile("aws", 0.01)):  # a scaled clock scales the wait
        assert codepipeline_actions.approval_timeout_s({"timeoutInMinutes": 60}) == pytest.approx(36)


def _token(world, name: str) -> str | None:
    for stage in world["cp"].get_pipeline_state(name=name)["stageStates"]:
        for action in stage["actionStates"]:
            latest = action.get("latestExecution") or {}
            if latest.get("token") and latest.get("status") == "InProgress":
                return str(latest["token"])
    return None


def _states(world, name: str, stage: str) -> dict[str, dict]:
    for found in world["cp"].get_pipeline_state(name=name)["stageStates"]:
        if found["stageName"] == stage:
            return {a["actionName"]: a.get("latestExecution") or {} for a in found["actionStates"]}
    raise AssertionError(f"no stage {stage}")


def _decide(world, name: str, action: str, status: str = "Approved") -> None:
    token = _states(world, name, "Gate")[action]["token"]
    world["cp"].put_approval_result(pipelineName=name, stageName="Gate", actionName=action,
                                    result={"summary": f"{status} {action}", "status": status}, token=token)
    assert wait_for(lambda: _states(world, name, "Gate")[action].get("status") != "InProgress", timeout=30)


def _both_pending(world, name: str) -> bool:
    states = _states(world, name, "Gate")
    return all(states[a].get("status") == "InProgress" and states[a].get("token") for a in ("A", "B"))


def test_actions_of_one_run_order_run_in_parallel_and_the_next_waits_for_all(world):
    name = _pipeline(world, {"name": "Gate", "actions": [_approval("A"), _approval("B"), _approval("C", 2)]})
    execution = world["cp"].start_pipeline_execution(name=name)["pipelineExecutionId"]
    assert wait_for(lambda: _both_pending(world, name), timeout=30)  # both at once, not one after the other
    assert _states(world, name, "Gate")["C"] == {}
    _decide(world, name, "B")  # the second one first: the first is still waiting
    states = _states(world, name, "Gate")
    assert states["B"]["status"] == "Succeeded" and states["A"]["status"] == "InProgress" and states["C"] == {}
    _decide(world, name, "A")
    assert wait_for(lambda: _states(world, name, "Gate")["C"].get("token"), timeout=30)  # runOrder 2 starts now
    _decide(world, name, "C")
    assert _ended(world, name, execution)["status"] == "Succeeded"


def test_one_failed_action_fails_the_stage_once_its_parallel_actions_ended(world):
    name = _pipeline(world, {"name": "Gate", "actions": [_approval("A"), _approval("B"), _approval("C", 2)]})
    execution = world["cp"].start_pipeline_execution(name=name)["pipelineExecutionId"]
    assert wait_for(lambda: _both_pending(world, name), timeout=30)
    _decide(world, name, "A", "Rejected")
    status = world["cp"].get_pipeline_execution(pipelineName=name, pipelineExecutionId=execution)
    assert status["pipelineExecution"]["status"] == "InProgress"  # B still runs: the stage waits for it
    _decide(world, name, "B")
    ended = _ended(world, name, execution)
    assert ended["status"] == "Failed" and ended["statusSummary"].startswith("Gate/A: ")
    actions = _actions(world, name, execution)
    assert actions["A"]["status"] == "Failed" and actions["B"]["status"] == "Succeeded" and "C" not in actions
