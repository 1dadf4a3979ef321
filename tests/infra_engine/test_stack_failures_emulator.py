"""Bootstrap through the CLI when CloudFormation fails for real on the emulator (injected resource faults):
the one-line error names stack, resource and reason; the next run recovers a ROLLBACK_COMPLETE stack by
deleting and recreating it, and an UPDATE_ROLLBACK_FAILED one by continuing the rollback."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest
from faults import FaultInjector

from pipeline.cli import main

pytestmark = pytest.mark.emulator
TOOLING = "444444444444"


def fail(aws: Any, **fault: Any) -> None:
    request = urllib.request.Request(f"{aws.endpoint_url}/_emulator/cfn/fail", data=json.dumps(fault).encode(),
                                     method="POST")
    with urllib.request.urlopen(request, timeout=5, context=aws.ssl_context()) as answer:
        answer.read()


def tooling(service: str) -> Any:
    creds = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{TOOLING}:role/OrganizationAccountAccessRole", RoleSessionName="observer")["Credentials"]
    return boto3.client(service, region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err  # progress lines, then the error line


def test_a_failed_create_is_reported_then_recreated(aws: Any, envdir: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    fail(aws, stack="greeter-pipeline", logical_id="Pipeline", reason="Pipeline role not assumable yet")
    code, err = run(capsys, "bootstrap", "--tooling")
    assert code == 1
    error = next(line for line in err.splitlines() if line.startswith("pipeline: error:"))
    assert error == ("pipeline: error: stack greeter-pipeline: create ended in ROLLBACK_COMPLETE: Pipeline "
                     "(AWS::CodePipeline::Pipeline): CREATE_FAILED: Pipeline role not assumable yet")
    assert "ROLLBACK_IN_PROGRESS" in err  # the events were streamed while waiting
    cfn = tooling("cloudformation")
    assert cfn.describe_stacks(StackName="greeter-pipeline")["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    assert tooling("codebuild").list_projects()["projects"] == []  # rolled back for real

    code, err = run(capsys, "bootstrap", "--tooling")
    assert code == 0, err
    assert "ROLLBACK_COMPLETE: deleting the stack to create it again" in err
    assert [p["name"] for p in tooling("codepipeline").list_pipelines()["pipelines"]] == ["greeter-pipeline"]
    assert cfn.describe_stacks(StackName="greeter-pipeline")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"


def _change_pipeline(envdir: Path) -> None:
    path = envdir / "pipeline.yml"
    path.write_text(path.read_text().replace("log_retention_days: 14", "log_retention_days: 30"))


def test_a_failed_update_rolls_back_and_a_stuck_rollback_is_continued(aws: Any, envdir: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "bootstrap", "--tooling")[0] == 0
    _change_pipeline(envdir)  # the build log group's retention changes
    fail(aws, stack="greeter-pipeline", logical_id="BuildLogs", operation="update", reason="retention refused")
    code, err = run(capsys, "bootstrap", "--tooling")
    assert code == 1
    assert ("stack greeter-pipeline: update ended in UPDATE_ROLLBACK_COMPLETE: BuildLogs (AWS::Logs::LogGroup): "
            "UPDATE_FAILED: retention refused") in err

    fail(aws, stack="greeter-pipeline", logical_id="BuildLogs", operation="update")
    fail(aws, stack="greeter-pipeline", logical_id="BuildLogs", operation="rollback", reason="cannot go back")
    code, err = run(capsys, "bootstrap", "--tooling")
    assert code == 1
    cfn = tooling("cloudformation")
    assert cfn.describe_stacks(StackName="greeter-pipeline")["Stacks"][0]["StackStatus"] == "UPDATE_ROLLBACK_FAILED"

    code, err = run(capsys, "bootstrap", "--tooling")  # continues the rollback, then says what to do
    assert code == 1
    assert "UPDATE_ROLLBACK_FAILED: continuing the update rollback" in err
    assert "the rollback is now complete (UPDATE_ROLLBACK_COMPLETE)" in err
    code, err = run(capsys, "bootstrap", "--tooling")  # no fault left: the update goes through
    assert code == 0, err
    (group,) = tooling("logs").describe_log_groups(logGroupNamePrefix="/aws/codebuild/greeter")["logGroups"]
    assert group["retentionInDays"] == 30


@pytest.mark.parametrize("operation", ["CreateChangeSet", "ExecuteChangeSet"])
def test_a_lost_answer_to_a_change_set_call_is_retried_idempotently(aws: Any, envdir: Path, operation: str,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """The call took effect, its answer was lost, the product's retry sends it again with the same token: one
    stack (not a second REVIEW_IN_PROGRESS one, nor a wedged one), one execution, exit 0."""
    injector = FaultInjector(rate=1.0, kinds=("timeout",), after_share=1.0, only=frozenset({operation}),
                             limit=1).install(monkeypatch)
    code, err = run(capsys, "bootstrap", "--tooling")
    assert injector.total == 1
    assert code == 0, err
    cfn = tooling("cloudformation")
    names = [s["StackName"] for s in cfn.list_stacks()["StackSummaries"]]
    assert sorted(names) == ["greeter-pipeline", "greeter-tooling"]
    assert cfn.describe_stacks(StackName="greeter-tooling")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    creates = [e for e in cfn.describe_stack_events(StackName="greeter-tooling")["StackEvents"]
               if e["LogicalResourceId"] == "greeter-tooling" and e["ResourceStatus"] == "CREATE_IN_PROGRESS"]
    assert len(creates) == 1
