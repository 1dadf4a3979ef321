"""`bootstrap --tooling` deploys the pipeline stack too; on the emulator CodePipeline/CodeBuild are dropped."""

from __future__ import annotations

import json

import pytest
from helpers import client

from pipeline.cli import main

pytestmark = pytest.mark.emulator


def _bootstrap(capsys) -> dict:
    capsys.readouterr()
    assert main(["--output", "json", "bootstrap", "--tooling"]) == 0
    return json.loads(capsys.readouterr().out)


def test_tooling_bootstrap_deploys_the_pipeline_stack_once(aws, envdir, capsys):
    doc = _bootstrap(capsys)
    assert [(s["stack"], s["action"]) for s in doc["stacks"]] == [("greeter-tooling", "created"),
                                                                  ("greeter-pipeline", "created")]
    iam = client("iam", "444444444444")
    role = iam.get_role(RoleName="greeter-codebuild")["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "codebuild.amazonaws.com"}
    assert iam.get_role(RoleName="greeter-codepipeline")["Role"]["RoleName"] == "greeter-codepipeline"
    # moto drops the CodeBuild project and the pipeline silently: the stack still completes
    status = client("cloudformation", "444444444444").describe_stacks(StackName="greeter-pipeline")
    assert status["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    # and nothing lands in an env account
    roles = client("iam", "111111111111").list_roles()["Roles"]
    assert [r["RoleName"] for r in roles] == ["OrganizationAccountAccessRole"]  # the organization's, no stack's
    again = _bootstrap(capsys)
    assert [s["action"] for s in again["stacks"]] == ["unchanged", "unchanged"]
