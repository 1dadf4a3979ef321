"""CodePipeline executions run for real in the emulator: Source (S3) -> a manual approval -> a CodeBuild
action, as the pipeline's role; variables resolved between actions; QUEUED executions; approvals by token
recording the approver; a rejection or a failed build stops the execution; the product's approval read
(`read_approval` + `approval_decision`) accepts this execution's approval and refuses another's."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from pipeline.aws.codepipeline import read_approval
from pipeline.core.approval import approval_decision
from pipeline.errors import RefusedError

from .events_support import execution_role
from .helpers import make_zip, until

pytestmark = pytest.mark.emulator
BUCKET = f"cp-{uuid.uuid4().hex[:8]}"


def _trust(service: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})



BUILDSPEC = """version: 0.2
env:
  exported-variables: [SEEN]
phases:
  build:
    commands:
      - echo "sha=$SHA execution=$EXECUTION"
      - test "$FAIL" != yes
      - export SEEN="$SHA-built"
"""


@pytest.fixture(scope="module")
def pipeline(clients) -> dict[str, object]:
    kw = clients["kw"]
    s3, cb, cp = (boto3.client(s, **kw) for s in ("s3", "codebuild", "codepipeline"))
    s3.create_bucket(Bucket=BUCKET)
    name = f"pl-{uuid.uuid4().hex[:6]}"
    _, build_role = execution_role(clients["iam"], [
        {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/{name}/*"}],
        trust=_trust("codebuild.amazonaws.com"))
    _, pipeline_role = execution_role(clients["iam"], [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"],
         "Resource": f"arn:aws:s3:::{BUCKET}/source/*"},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/{name}/*"},
        {"Effect": "Allow", "Action": ["codebuild:StartBuild", "codebuild:BatchGetBuilds", "codebuild:StopBuild"],
         "Resource": f"arn:aws:codebuild:us-east-1:123456789012:project/{name}"}],
        trust=_trust("codepipeline.amazonaws.com"))
    # moto's CreateProject wants a location even for CODEPIPELINE (AWS does not): give one, unused
    cb.create_project(name=name, source={"type": "CODEPIPELINE", "location": "unused"},
                      artifacts={"type": "CODEPIPELINE", "location": "unused"},
                      serviceRole=build_role, environment={"type": "LINUX_CONTAINER", "image": "x",
                                                           "computeType": "BUILD_GENERAL1_SMALL"})
    variables = json.dumps([{"name": "SHA", "value": "#{SourceVariables.ETag}", "type": "PLAINTEXT"},
                            {"name": "EXECUTION", "value": "#{codepipeline.PipelineExecutionId}", "type": "PLAINTEXT"}])
    cp.create_pipeline(pipeline={
        "name": name, "roleArn": pipeline_role, "artifactStore": {"type": "S3", "location": BUCKET},
        "pipelineType": "V2", "executionMode": "QUEUED",
        "stages": [
            {"name": "Source", "actions": [{"name": "Source", "namespace": "SourceVariables", "runOrder": 1,
                                            "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3",
                                                             "version": "1"},
                                            "configuration": {"S3Bucket": BUCKET, "S3ObjectKey": "source/src.zip",
                                                              "PollForSourceChanges": "false"},
                                            "outputArtifacts": [{"name": "Source"}]}]},
            {"name": "Deploy", "actions": [
                {"name": "Approve", "runOrder": 1, "actionTypeId": {"category": "Approval", "owner": "AWS",
                                                                    "provider": "Manual", "version": "1"},
                 "configuration": {"CustomData": "Promote #{SourceVariables.ETag}?"}},
                {"name": "Build", "namespace": "BuildVariables", "runOrder": 2,
                 "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"},
                 "configuration": {"ProjectName": name, "EnvironmentVariables": variables},
                 "inputArtifacts": [{"name": "Source"}]}]}]})
    return {"name": name, "s3": s3, "cp": cp, "cb": cb}


def _upload(pipeline, fail: bool = False) -> str:
    body = make_zip({"buildspec.yml": BUILDSPEC.replace('"$FAIL"', '"yes"') if fail else BUILDSPEC})
    return str(pipeline["s3"].put_object(Bucket=BUCKET, Key="source/src.zip", Body=body)["ETag"]).strip('"')


def _action(cp, name: str, stage: str, action: str) -> dict:
    state = cp.get_pipeline_state(name=name)
    stage_state = next(s for s in state["stageStates"] if s["stageName"] == stage)
    return next(a for a in stage_state["actionStates"] if a["actionName"] == action)




def _status(cp, name: str, execution: str) -> str:
    return cp.get_pipeline_execution(pipelineName=name, pipelineExecutionId=execution)["pipelineExecution"]["status"]


def _pending_token(cp, name: str, execution: str) -> str:
    def ready():
        latest = _action(cp, name, "Deploy", "Approve").get("latestExecution") or {}
        stage = next(s for s in cp.get_pipeline_state(name=name)["stageStates"] if s["stageName"] == "Deploy")
        held = (stage.get("latestExecution") or {}).get("pipelineExecutionId") == execution
        return latest.get("token") if held and latest.get("status") == "InProgress" else None
    return until(ready)


def test_an_execution_runs_source_approval_and_build_with_variables_resolved(pipeline, clients):
    cp, name = pipeline["cp"], pipeline["name"]
    etag = _upload(pipeline)
    execution = cp.start_pipeline_execution(name=name)["pipelineExecutionId"]
    token = _pending_token(cp, name, execution)
    # the product's read: pending is refused, then approved for this execution and this "artifact"
    with pytest.raises(RefusedError, match="not approved yet"):
        approval_decision(read_approval(cp, name, "Deploy", "Approve", execution), execution, etag)
    with pytest.raises(ClientError) as caught:
        cp.put_approval_result(pipelineName=name, stageName="Deploy", actionName="Approve",
                               result={"summary": "x", "status": "Approved"}, token=str(uuid.uuid4()))
    assert caught.value.response["Error"]["Code"] == "InvalidApprovalTokenException"
    cp.put_approval_result(pipelineName=name, stageName="Deploy", actionName="Approve",
                           result={"summary": "looks good", "status": "Approved"}, token=token)
    assert until(lambda: _status(cp, name, execution) != "InProgress") and \
        _status(cp, name, execution) == "Succeeded"
    approver, comment = approval_decision(read_approval(cp, name, "Deploy", "Approve", execution), execution, etag)
    assert approver == "arn:aws:iam::123456789012:user/admin" and comment == "looks good"
    with pytest.raises(RefusedError, match="belongs to pipeline execution"):
        approval_decision(read_approval(cp, name, "Deploy", "Approve", execution), "another-execution", etag)
    details = cp.list_action_executions(pipelineName=name, filter={"pipelineExecutionId": execution})
    build = next(d for d in details["actionExecutionDetails"] if d["actionName"] == "Build")
    assert build["status"] == "Succeeded"
    assert build["output"]["outputVariables"] == {"SEEN": f"{etag}-built"}
    assert json.loads(build["input"]["resolvedConfiguration"]["EnvironmentVariables"])[1]["value"] == execution
    build_id = build["output"]["executionResult"]["externalExecutionId"]
    assert pipeline["cb"].batch_get_builds(ids=[build_id])["builds"][0]["initiator"] == f"codepipeline/{name}"
    summary = cp.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"][0]
    assert summary["pipelineExecutionId"] == execution and summary["sourceRevisions"][0]["revisionId"] == etag


def test_a_rejection_stops_the_execution_and_a_second_execution_waits_its_turn(pipeline):
    cp, name = pipeline["cp"], pipeline["name"]
    _upload(pipeline)
    first = cp.start_pipeline_execution(name=name)["pipelineExecutionId"]
    token = _pending_token(cp, name, first)
    second = cp.start_pipeline_execution(name=name)["pipelineExecutionId"]
    assert _status(cp, name, second) == "InProgress"
    assert all(s.get("latestExecution", {}).get("pipelineExecutionId") != second
               for s in cp.get_pipeline_state(name=name)["stageStates"])  # QUEUED: not started
    cp.put_approval_result(pipelineName=name, stageName="Deploy", actionName="Approve",
                           result={"summary": "not today", "status": "Rejected"}, token=token)
    until(lambda: _status(cp, name, first) == "Failed")
    details = cp.list_action_executions(pipelineName=name, filter={"pipelineExecutionId": first})
    assert not any(d["actionName"] == "Build" for d in details["actionExecutionDetails"])  # never ran
    with pytest.raises(RefusedError, match="rejected by arn:aws:iam::123456789012:user/admin: not today"):
        approval_decision(read_approval(cp, name, "Deploy", "Approve", first), first, "x")
    token = _pending_token(cp, name, second)  # the queued one now runs
    with pytest.raises(ClientError) as caught:
        cp.put_approval_result(pipelineName=name, stageName="Deploy", actionName="Approve",
                               result={"summary": "", "status": "Approved"}, token=token + "x")
    assert caught.value.response["Error"]["Code"] == "InvalidApprovalTokenException"
    cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=second, abandon=True)
    until(lambda: _status(cp, name, second) == "Stopped")


def test_a_failing_build_fails_the_action_naming_the_phase(pipeline):
    cp, name = pipeline["cp"], pipeline["name"]
    _upload(pipeline, fail=True)
    execution = cp.start_pipeline_execution(name=name)["pipelineExecutionId"]
    token = _pending_token(cp, name, execution)
    cp.put_approval_result(pipelineName=name, stageName="Deploy", actionName="Approve",
                           result={"summary": "ok", "status": "Approved"}, token=token)
    until(lambda: _status(cp, name, execution) != "InProgress")
    assert _status(cp, name, execution) == "Failed"
    build = _action(cp, name, "Deploy", "Build")["latestExecution"]
    assert build["status"] == "Failed" and "Phase: BUILD, Code: COMMAND_EXECUTION_ERROR" in build["summary"]


def test_unknown_pipeline_is_pipeline_not_found(pipeline):
    with pytest.raises(ClientError) as caught:
        pipeline["cp"].start_pipeline_execution(name="no-such-pipeline")
    assert caught.value.response["Error"]["Code"] == "PipelineNotFoundException"
