"""CodePipeline's stages in the emulator beyond the happy path: a manual approval nobody answers fails when
its timeout (V2 `timeoutInMinutes`, else 7 days) passes on the emulator's clock; actions of one runOrder run
in parallel, the stage waits for all of them, and one failure fails the stage; a build action's output artifact
is its buildspec's files; StartPipelineExecution's sourceRevisions pins the S3 source's version."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile

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
            "iam": clients["iam"], "kw": kw}


def _pipeline(world, *stages: dict, key: str = "source/src.zip") -> str:
    name = f"pl-{uuid.uuid4().hex[:6]}"
    source = {**SOURCE, "configuration": {**SOURCE["configuration"], "S3ObjectKey": key}}
    world["cp"].create_pipeline(pipeline={
        "name": name, "roleArn": world["role"], "artifactStore": {"type": "S3", "location": BUCKET},
        "pipelineType": "V2", "executionMode": "QUEUED",
        "stages": [{"name": "Source", "actions": [source]}, *stages]})
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


MAKE = """version: 0.2
phases:
  build:
    commands:
      - mkdir -p out/sub
      - echo made-by-make > out/sub/result.txt
      - cp next.yml out/buildspec.yml
artifacts:
  files: ["**/*"]
  base-directory: out
"""
NEXT = """version: 0.2
env:
  exported-variables: [RESULT]
phases:
  build:
    commands:
      - export RESULT=$(cat sub/result.txt)
"""


def _project(world, may_write: bool) -> str:
    statements = [{"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                   "Resource": "*"},
                  {"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                   "Resource": f"arn:aws:s3:::{BUCKET}/*"}]
    if may_write:
        statements.append({"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"})
    _, role = execution_role(world["iam"], statements, trust=_trust("codebuild.amazonaws.com"))
    name = f"proj-{uuid.uuid4().hex[:6]}"
    world["cb"].create_project(name=name, source={"type": "CODEPIPELINE", "location": "unused"},
                               artifacts={"type": "CODEPIPELINE", "location": "unused"}, serviceRole=role,
                               environment={"type": "LINUX_CONTAINER", "image": "x",
                                            "computeType": "BUILD_GENERAL1_SMALL"})
    return name


def _build_action(name: str, project: str, inputs: str, outputs: str | None = None, namespace: str | None = None,
                  run_order: int = 1) -> dict:
    action = {"name": name, "runOrder": run_order, "configuration": {"ProjectName": project},
              "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"},
              "inputArtifacts": [{"name": inputs}]}
    if outputs:
        action["outputArtifacts"] = [{"name": outputs}]
    if namespace:
        action["namespace"] = namespace
    return action


def test_a_build_actions_output_artifact_is_its_buildspecs_files_and_the_next_action_builds_from_it(world):
    s3 = boto3.client("s3", **world["kw"])
    s3.put_object(Bucket=BUCKET, Key="source/make.zip", Body=make_zip({"buildspec.yml": MAKE, "next.yml": NEXT}))
    project = _project(world, may_write=True)
    name = _pipeline(world, {"name": "Build", "actions": [
        _build_action("Make", project, "Source", outputs="Made"),
        _build_action("Use", project, "Made", namespace="UseVars", run_order=2)]}, key="source/make.zip")
    execution = world["cp"].start_pipeline_execution(name=name)["pipelineExecutionId"]
    ended = _ended(world, name, execution)
    assert ended["status"] == "Succeeded", ended.get("statusSummary")
    actions = _actions(world, name, execution)
    assert actions["Use"]["output"]["outputVariables"] == {"RESULT": "made-by-make"}
    [made] = actions["Make"]["output"]["outputArtifacts"]
    assert made["name"] == "Made" and actions["Use"]["input"]["inputArtifacts"][0]["s3location"] == made["s3location"]
    body = s3.get_object(Bucket=made["s3location"]["bucket"], Key=made["s3location"]["key"])["Body"].read()
    assert sorted(zipfile.ZipFile(io.BytesIO(body)).namelist()) == ["buildspec.yml", "sub/result.txt"]


def test_a_build_role_that_may_not_write_the_artifact_store_fails_upload_artifacts(world):
    boto3.client("s3", **world["kw"]).put_object(Bucket=BUCKET, Key="source/make.zip",
                                                 Body=make_zip({"buildspec.yml": MAKE, "next.yml": NEXT}))
    project = _project(world, may_write=False)
    name = _pipeline(world, {"name": "Build", "actions": [_build_action("Make", project, "Source", outputs="Made")]},
                     key="source/make.zip")
    execution = world["cp"].start_pipeline_execution(name=name)["pipelineExecutionId"]
    ended = _ended(world, name, execution)
    assert ended["status"] == "Failed"
    assert "Phase: UPLOAD_ARTIFACTS, Code: CLIENT_ERROR" in ended["statusSummary"]
    assert "AccessDenied" in ended["statusSummary"] and "s3:PutObject" in ended["statusSummary"]


SLOW = """version: 0.2
phases:
  build:
    commands:
      - sleep 1
"""


def test_two_builds_of_one_run_order_run_at_the_same_time(world):
    boto3.client("s3", **world["kw"]).put_object(Bucket=BUCKET, Key="source/slow.zip",
                                                 Body=make_zip({"buildspec.yml": SLOW}))
    project = _project(world, may_write=False)
    name = _pipeline(world, {"name": "Build", "actions": [_build_action("One", project, "Source"),
                                                          _build_action("Two", project, "Source")]},
                     key="source/slow.zip")
    execution = world["cp"].start_pipeline_execution(name=name)["pipelineExecutionId"]
    assert _ended(world, name, execution)["status"] == "Succeeded"
    actions = _actions(world, name, execution)
    builds = world["cb"].batch_get_builds(ids=[actions[a]["output"]["executionResult"]["externalExecutionId"]
                                               for a in ("One", "Two")])["builds"]
    one, two = sorted(builds, key=lambda b: b["startTime"])
    assert two["startTime"] < one["endTime"]  # each build sleeps a second: they overlapped


def test_start_pipeline_execution_runs_the_source_revision_it_names(world):
    s3 = boto3.client("s3", **world["kw"])
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=BUCKET, Key="source/pinned.zip", Body=make_zip({"a": "1"}))["VersionId"]
    s3.put_object(Bucket=BUCKET, Key="source/pinned.zip", Body=make_zip({"a": "2"}))
    name = _pipeline(world, {"name": "Hold", "actions": [_approval("Approve")]}, key="source/pinned.zip")
    execution = world["cp"].start_pipeline_execution(name=name, sourceRevisions=[
        {"actionName": "Source", "revisionType": "S3_OBJECT_VERSION_ID", "revisionValue": first}])
    execution = execution["pipelineExecutionId"]

    def revision():
        found = world["cp"].get_pipeline_execution(pipelineName=name, pipelineExecutionId=execution)
        return (found["pipelineExecution"].get("artifactRevisions") or [{}])[0].get("revisionId")

    assert wait_for(revision, timeout=30) == first  # not the newest version
    world["cp"].stop_pipeline_execution(pipelineName=name, pipelineExecutionId=execution, abandon=True)
    with pytest.raises(ClientError) as caught:
        world["cp"].start_pipeline_execution(name=name, sourceRevisions=[
            {"actionName": "Hold", "revisionType": "S3_OBJECT_VERSION_ID", "revisionValue": first}])
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "Hold is not a source action" in caught.value.response["Error"]["Message"]


@pytest.mark.parametrize(("action", "message"), [
    (_approval("Approve", minutes=86401), "Member must have value between 5 and 86400"),
    ({**SOURCE, "name": "Other", "timeoutInMinutes": 60, "outputArtifacts": [{"name": "Other"}]},
     "available only to the manual approval action type")])
def test_create_pipeline_refuses_a_timeout_codepipeline_does_not_allow(world, action, message):
    with pytest.raises(ClientError) as caught:
        _pipeline(world, {"name": "Hold", "actions": [action]})
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert message in caught.value.response["Error"]["Message"]
    assert "timeoutInMinutes" in caught.value.response["Error"]["Message"]
