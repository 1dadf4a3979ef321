"""The emulator's CloudFormation really creates, updates and deletes every resource type the product's
templates use (moto alone dropped bucket policies, aliases, CodeBuild projects, pipelines and a role's
managed policies while the stack said COMPLETE)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from pipeline.cli import main

from .helpers import REGION

pytestmark = pytest.mark.emulator
TOOLING = "444444444444"


def client(service: str, account: str = TOOLING) -> Any:
    creds = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="observer")["Credentials"]
    return boto3.client(service, region_name=REGION, aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])


def settle(cfn: Any, name: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        if not stack["StackStatus"].endswith("_IN_PROGRESS") or time.monotonic() > deadline:
            return stack
        time.sleep(0.02)


def test_bootstrap_tooling_creates_the_bucket_policy_the_project_and_the_pipeline(aws: object, envdir: Path) -> None:
    assert main(["bootstrap", "--tooling"]) == 0
    policy = json.loads(client("s3").get_bucket_policy(Bucket="greeter-artifacts-444444444444-us-east-1")["Policy"])
    assert "DenyInsecureTransport" in [s.get("Sid") for s in policy["Statement"]]

    codebuild = client("codebuild")
    assert codebuild.list_projects()["projects"] == ["greeter-pipeline"]
    (project,) = codebuild.batch_get_projects(names=["greeter-pipeline"])["projects"]
    assert project["source"]["buildspec"] == "buildspec.yml"
    assert project["environment"]["computeType"] == "BUILD_GENERAL1_SMALL"
    assert project["serviceRole"].endswith(":role/greeter-codebuild")

    codepipeline = client("codepipeline")
    assert [p["name"] for p in codepipeline.list_pipelines()["pipelines"]] == ["greeter-pipeline"]
    pipeline = codepipeline.get_pipeline(name="greeter-pipeline")["pipeline"]
    stages = [s["name"] for s in pipeline["stages"]]
    assert stages[:2] == ["Source", "Build"] and stages[-1] == "Deploy-prod"
    build = pipeline["stages"][1]["actions"][0]
    assert build["configuration"]["ProjectName"] == "greeter-pipeline"
    assert pipeline["pipelineType"] == "V2" and pipeline["executionMode"] == "QUEUED"

    # the same objects again: nothing changes, and the stack still reads as complete
    assert main(["bootstrap", "--tooling"]) == 0
    assert codepipeline.get_pipeline(name="greeter-pipeline")["metadata"]["pipelineArn"].endswith(":greeter-pipeline")


ALIAS_BODY = """
Resources:
  ManagedA:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      ManagedPolicyName: alias-test-a
      PolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: s3:GetObject, Resource: "*"}]}
  ManagedB:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      ManagedPolicyName: alias-test-b
      PolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: s3:PutObject, Resource: "*"}]}
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: alias-test-role
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
      ManagedPolicyArns: [!Ref {managed}]
      Policies:
        - PolicyName: {inline}
          PolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "logs:*", Resource: "*"}]}
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: alias-test
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code: {ZipFile: "def handler(e, c): return 1"}
  V1:
    Type: AWS::Lambda::Version
    Properties: {FunctionName: !Ref Fn}
  Live:
    Type: AWS::Lambda::Alias
    Properties: {FunctionName: !Ref Fn, FunctionVersion: "{version}", Name: live, Description: {description}}
Outputs:
  AliasArn: {Value: !Ref Live}
"""


def body(version: str = "$LATEST", description: str = "first", inline: str = "one",
         managed: str = "ManagedA") -> str:
    return (ALIAS_BODY.replace("{version}", version).replace("{description}", description)
            .replace("{inline}", inline).replace("{managed}", managed))


def test_alias_and_role_are_created_updated_and_deleted(aws: object) -> None:
    cfn, lam, iam = client("cloudformation"), client("lambda"), client("iam")
    cfn.create_stack(StackName="alias-test", TemplateBody=body(), Capabilities=["CAPABILITY_NAMED_IAM"])
    stack = settle(cfn, "alias-test")
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    alias = lam.get_alias(FunctionName="alias-test", Name="live")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["AliasArn"] == alias["AliasArn"] == f"arn:aws:lambda:{REGION}:{TOOLING}:function:alias-test:live"
    assert alias["Description"] == "first"
    attached = iam.list_attached_role_policies(RoleName="alias-test-role")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [f"arn:aws:iam::{TOOLING}:policy/alias-test-a"]

    cfn.update_stack(StackName="alias-test", TemplateBody=body(description="second", inline="two",
                                                                 managed="ManagedB"),
                     Capabilities=["CAPABILITY_NAMED_IAM"])
    assert settle(cfn, "alias-test")["StackStatus"] == "UPDATE_COMPLETE"
    assert lam.get_alias(FunctionName="alias-test", Name="live")["Description"] == "second"
    assert iam.list_role_policies(RoleName="alias-test-role")["PolicyNames"] == ["two"]
    attached = iam.list_attached_role_policies(RoleName="alias-test-role")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [f"arn:aws:iam::{TOOLING}:policy/alias-test-b"]

    cfn.delete_stack(StackName="alias-test")
    deadline = time.monotonic() + 30
    while cfn.list_stacks(StackStatusFilter=["DELETE_IN_PROGRESS"])["StackSummaries"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _exists(lam)
    assert "alias-test-role" not in [r["RoleName"] for r in iam.list_roles()["Roles"]]


def _exists(lam: Any) -> bool:
    try:
        lam.get_function(FunctionName="alias-test")
    except lam.exceptions.ResourceNotFoundException:
        return False
    return True


def test_deleting_the_pipeline_stack_deletes_project_pipeline_and_policy(aws: object, envdir: Path) -> None:
    assert main(["bootstrap", "--tooling"]) == 0
    cfn = client("cloudformation")
    cfn.update_termination_protection(StackName="greeter-pipeline", EnableTerminationProtection=False)
    cfn.delete_stack(StackName="greeter-pipeline")
    deadline = time.monotonic() + 30
    while client("codepipeline").list_pipelines()["pipelines"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert client("codepipeline").list_pipelines()["pipelines"] == []
    assert client("codebuild").list_projects()["projects"] == []


PIPELINE_BODY = """
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties: {BucketName: providers-test-bucket}
{policy}
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: providers-test-role
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: {Service: codepipeline.amazonaws.com}, Action: sts:AssumeRole}
  Project:
    Type: AWS::CodeBuild::Project
    Properties:
      Name: providers-test
      Description: {description}
      ServiceRole: !GetAtt Role.Arn
      Source: {Type: CODEPIPELINE, BuildSpec: buildspec.yml}
      Artifacts: {Type: CODEPIPELINE}
      Environment: {Type: LINUX_CONTAINER, ComputeType: BUILD_GENERAL1_SMALL, Image: aws/codebuild/standard:7.0}
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      Name: providers-test
      RoleArn: !GetAtt Role.Arn
      ArtifactStore: {Type: S3, Location: !Ref Bucket}
      Stages:
        - Name: Source
          Actions:
            - Name: Source
              ActionTypeId: {Category: Source, Owner: AWS, Provider: S3, Version: "1"}
              Configuration: {S3Bucket: !Ref Bucket, S3ObjectKey: src.zip, PollForSourceChanges: false}
              OutputArtifacts: [{Name: Src}]
        - Name: {stage}
          Actions:
            - Name: Build
              ActionTypeId: {Category: Build, Owner: AWS, Provider: CodeBuild, Version: "1"}
              Configuration: {ProjectName: !Ref Project}
              InputArtifacts: [{Name: Src}]
"""
POLICY = """  Policy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument:
        Version: "2012-10-17"
        Statement: [{Sid: {sid}, Effect: Deny, Principal: "*", Action: s3:DeleteBucket, Resource: !GetAtt Bucket.Arn}]
"""


def pipeline_body(stage: str = "Build", description: str = "first", sid: str | None = "One") -> str:
    policy = POLICY.replace("{sid}", sid) if sid else ""
    return (PIPELINE_BODY.replace("{policy}", policy).replace("{stage}", stage)
            .replace("{description}", description))


def test_project_pipeline_and_bucket_policy_are_updated_in_place_and_deleted(aws: object) -> None:
    cfn, codebuild, codepipeline, s3 = client("cloudformation"), client("codebuild"), client("codepipeline"), \
        client("s3")
    cfn.create_stack(StackName="providers", TemplateBody=pipeline_body(), Capabilities=["CAPABILITY_NAMED_IAM"])
    assert settle(cfn, "providers")["StackStatus"] == "CREATE_COMPLETE"
    assert codepipeline.get_pipeline(name="providers-test")["pipeline"]["version"] == 1
    policy = json.loads(s3.get_bucket_policy(Bucket="providers-test-bucket")["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["One"]

    cfn.update_stack(StackName="providers", TemplateBody=pipeline_body("Test", "second", "Two"),
                     Capabilities=["CAPABILITY_NAMED_IAM"])
    assert settle(cfn, "providers")["StackStatus"] == "UPDATE_COMPLETE"
    pipeline = codepipeline.get_pipeline(name="providers-test")["pipeline"]
    assert pipeline["version"] == 2 and [s["name"] for s in pipeline["stages"]] == ["Source", "Test"]
    (project,) = codebuild.batch_get_projects(names=["providers-test"])["projects"]
    assert project["description"] == "second"
    policy = json.loads(s3.get_bucket_policy(Bucket="providers-test-bucket")["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["Two"]

    cfn.update_stack(StackName="providers", TemplateBody=pipeline_body("Test", "second", None),
                     Capabilities=["CAPABILITY_NAMED_IAM"])  # the policy resource is removed
    assert settle(cfn, "providers")["StackStatus"] == "UPDATE_COMPLETE"
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket="providers-test-bucket")

    cfn.delete_stack(StackName="providers")
    deadline = time.monotonic() + 30
    while cfn.list_stacks(StackStatusFilter=["DELETE_IN_PROGRESS"])["StackSummaries"]:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert codepipeline.list_pipelines()["pipelines"] == [] and codebuild.list_projects()["projects"] == []
