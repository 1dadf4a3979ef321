"""Shared by the CodePipeline stage tests: a bucket and pipeline role, pipelines made by API, their actions."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3

from .events_support import execution_role, wait_for
from .helpers import make_zip


def trust(service: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})


def approval(name: str, run_order: int = 1, minutes: int | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {"name": name, "runOrder": run_order, "actionTypeId": {
        "category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"}}
    if minutes is not None:
        action["timeoutInMinutes"] = minutes
    return action


def source(bucket: str, key: str = "source/src.zip", name: str = "Source") -> dict[str, Any]:
    return {"name": name, "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
            "configuration": {"S3Bucket": bucket, "S3ObjectKey": key, "PollForSourceChanges": "false"},
            "outputArtifacts": [{"name": name}]}


def build_action(name: str, project: str, inputs: str, outputs: str | None = None, namespace: str | None = None,
                 run_order: int = 1) -> dict[str, Any]:
    action: dict[str, Any] = {"name": name, "runOrder": run_order, "configuration": {"ProjectName": project},
                              "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild",
                                               "version": "1"},
                              "inputArtifacts": [{"name": inputs}]}
    if outputs:
        action["outputArtifacts"] = [{"name": outputs}]
    if namespace:
        action["namespace"] = namespace
    return action


def make_world(clients: dict[str, Any], prefix: str) -> dict[str, Any]:
    """A new bucket (with a trivial source zip) and a pipeline role that may use it and CodeBuild."""
    kw = clients["kw"]
    bucket = f"{prefix}-{uuid.uuid4().hex[:8]}"
    s3 = boto3.client("s3", **kw)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="source/src.zip", Body=make_zip({"buildspec.yml": "version: 0.2\n"}))
    _, role = execution_role(clients["iam"], [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
         "Resource": f"arn:aws:s3:::{bucket}/*"},
        {"Effect": "Allow", "Action": ["codebuild:StartBuild", "codebuild:BatchGetBuilds", "codebuild:StopBuild"],
         "Resource": "*"}], trust=trust("codepipeline.amazonaws.com"))
    return {"cp": boto3.client("codepipeline", **kw), "cb": boto3.client("codebuild", **kw), "s3": s3,
            "role": role, "iam": clients["iam"], "kw": kw, "bucket": bucket}


def pipeline(world: dict[str, Any], *stages: dict[str, Any], key: str = "source/src.zip") -> str:
    """A V2 QUEUED pipeline: an S3 source on `key` of the world's bucket, then `stages`; its name."""
    name = f"pl-{uuid.uuid4().hex[:6]}"
    world["cp"].create_pipeline(pipeline={
        "name": name, "roleArn": world["role"], "artifactStore": {"type": "S3", "location": world["bucket"]},
        "pipelineType": "V2", "executionMode": "QUEUED",
        "stages": [{"name": "Source", "actions": [source(world["bucket"], key)]}, *stages]})
    return name


def ended(world: dict[str, Any], name: str, execution: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        found = world["cp"].get_pipeline_execution(pipelineName=name, pipelineExecutionId=execution)
        return found["pipelineExecution"] if found["pipelineExecution"]["status"] != "InProgress" else None

    found = wait_for(done, timeout=60)
    assert found, "the execution did not end"
    return found


def actions(world: dict[str, Any], name: str, execution: str) -> dict[str, dict[str, Any]]:
    details = world["cp"].list_action_executions(pipelineName=name, filter={"pipelineExecutionId": execution})
    return {d["actionName"]: d for d in details["actionExecutionDetails"]}


def project(world: dict[str, Any], may_write: bool) -> str:
    """A CODEPIPELINE project whose role may log and read the bucket, and write it when `may_write`."""
    statements = [{"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                   "Resource": "*"},
                  {"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                   "Resource": f"arn:aws:s3:::{world['bucket']}/*"}]
    if may_write:
        statements.append({"Effect": "Allow", "Action": "s3:PutObject",
                           "Resource": f"arn:aws:s3:::{world['bucket']}/*"})
    _, role = execution_role(world["iam"], statements, trust=trust("codebuild.amazonaws.com"))
    name = f"proj-{uuid.uuid4().hex[:6]}"
    world["cb"].create_project(name=name, source={"type": "CODEPIPELINE", "location": "unused"},
                               artifacts={"type": "CODEPIPELINE", "location": "unused"}, serviceRole=role,
                               environment={"type": "LINUX_CONTAINER", "image": "x",
                                            "computeType": "BUILD_GENERAL1_SMALL"})
    return name
