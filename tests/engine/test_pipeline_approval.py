"""`promote --approval-from-pipeline`: the approver comes from the pipeline's manual approval action.
moto has no pipeline executions or approvals, so CodePipeline is botocore's Stubber (exact calls)."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from botocore.stub import Stubber
from helpers import service_role_credentials

from pipeline.aws import session as session_module
from pipeline.aws.codepipeline import read_approval
from pipeline.aws.retry import RetryingClient, RetryPolicy
from pipeline.core.approval import PipelineApproval, approval_decision
from pipeline.errors import PipelineError, RefusedError

EXECUTION = "0f1e2d3c-aaaa-bbbb-cccc-000000000001"
ALICE = "arn:aws:sts::444444444444:assumed-role/ReleaseManagers/alice"
SHA = "a" * 64
T = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.timezone.utc)


def state(status: str | None = "Succeeded", execution: str = EXECUTION, comment: str = "ship it",
          approver: str = ALICE) -> dict:
    approval: dict = {"actionName": "Approve-prod"}
    if status is not None:
        approval["latestExecution"] = {"actionExecutionId": "act-1", "status": status, "summary": comment,
                                       "lastStatusChange": T, **({"lastUpdatedBy": approver} if approver else {})}
    return {"pipelineName": "greeter-pipeline", "pipelineVersion": 3, "stageStates": [
        {"stageName": "Deploy-test", "latestExecution": {"pipelineExecutionId": execution, "status": "Succeeded"},
         "actionStates": [{"actionName": "Promote-test"}]},
        {"stageName": "Deploy-prod", "latestExecution": {"pipelineExecutionId": execution, "status": "InProgress"},
         "actionStates": [approval, {"actionName": "Promote-prod"}]}]}


def executions(sha: str = SHA) -> dict:
    return {"actionExecutionDetails": [
        {"pipelineExecutionId": EXECUTION, "actionExecutionId": "act-0", "stageName": "Deploy-test",
         "actionName": "Promote-test", "status": "Succeeded"},
        {"pipelineExecutionId": EXECUTION, "actionExecutionId": "act-1", "stageName": "Deploy-prod",
         "actionName": "Approve-prod", "status": "Succeeded", "updatedBy": ALICE,
         "input": {"resolvedConfiguration": {"CustomData": f"Promote artifact {sha} to prod? Smoke in test: ..."}}}]}


def stubbed(*responses: tuple[str, dict], error: str | None = None) -> tuple[object, Stubber]:
    raw = boto3.client("codepipeline", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(raw)
    calls = {"get_pipeline_state": {"name": "greeter-pipeline"},
             "list_action_executions": {"pipelineName": "greeter-pipeline",
                                        "filter": {"pipelineExecutionId": EXECUTION}, "maxResults": 100}}
    for method, response in responses:
        stub.add_response(method, response, calls[method])
    if error:
        stub.add_client_error("get_pipeline_state", service_error_code=error, http_status_code=400,
                              expected_params=calls["get_pipeline_state"])
    stub.activate()
    return RetryingClient(raw, RetryPolicy()), stub


def read(cp) -> PipelineApproval:
    return read_approval(cp, "greeter-pipeline", "Deploy-prod", "Approve-prod", EXECUTION)


def test_an_approval_in_this_execution_naming_this_artifact_gives_approver_and_comment():
    cp, stub = stubbed(("get_pipeline_state", state()), ("list_action_executions", executions()))
    approval = read(cp)
    stub.assert_no_pending_responses()
    assert approval_decision(approval, EXECUTION, SHA) == (ALICE, "ship it")


@pytest.mark.parametrize("responses, message", [
    ([("get_pipeline_state", state(status=None))], "is not approved yet (status none)"),
    ([("get_pipeline_state", state(status="InProgress"))], "is not approved yet (status InProgress)"),
    ([("get_pipeline_state", state(status="Failed", comment="not on a Friday"))],
     f"was rejected by {ALICE}: not on a Friday"),
    ([("get_pipeline_state", state(status="Failed", comment="Approval timed out", approver=""))],
     "Approve-prod failed without an answer: Approval timed out"),
    ([("get_pipeline_state", state(execution="an-older-execution"))],
     f"belongs to pipeline execution an-older-execution, not to this build's execution {EXECUTION}"),
    ([("get_pipeline_state", state()), ("list_action_executions", executions(sha="b" * 64))],
     f"did not name artifact {SHA[:12]}"),
    ([("get_pipeline_state", {"pipelineName": "greeter-pipeline", "stageStates": []})],
     "has no approval action greeter-pipeline Deploy-prod/Approve-prod"),
])
def test_missing_pending_rejected_stale_or_foreign_approvals_are_refused(responses, message):
    cp, stub = stubbed(*responses)
    approval = read(cp)
    stub.assert_no_pending_responses()  # exactly these calls: no listing unless it succeeded in this execution
    with pytest.raises(RefusedError) as refused:
        approval_decision(approval, EXECUTION, SHA)
    assert message in refused.value.message and refused.value.exit_code == 3


def test_a_missing_pipeline_is_one_clear_failure():
    cp, _ = stubbed(error="PipelineNotFoundException")
    with pytest.raises(PipelineError, match="pipeline greeter-pipeline not found") as failed:
        read(cp)
    assert failed.value.exit_code == 1


# -- through the CLI, on the emulator, as the prod promote action in CodeBuild --------------------

@pytest.fixture
def codebuild(aws, monkeypatch):
    """Base credentials of a role in the tooling account (as CodeBuild's), a build id, an execution id,
    and CodePipeline answered by whatever the test stubs (one stubbed client per command run)."""
    creds = service_role_credentials("444444444444", "greeter-codebuild", "AWSCodeBuild-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", creds["SessionToken"])
    monkeypatch.setenv("CODEBUILD_BUILD_ID", "greeter-pipeline:5e6f")
    monkeypatch.setenv("CODEPIPELINE_EXECUTION_ID", EXECUTION)
    answers: list[tuple[object, Stubber]] = []
    original = session_module.AccountSession.client

    def client_for(self, service, region=None):
        if service == "codepipeline":
            return answers[-1][0]
        return original(self, service, region)

    monkeypatch.setattr(session_module.AccountSession, "client", client_for)
    return answers


def test_prod_promote_records_the_pipeline_approver_and_refuses_a_rejection(world, built, codebuild, calls):
    sha = world.stage(built)
    for env in ("dev", "test"):
        world.ok("promote", "--to", env, "--artifact", sha)
    before = len(world.ledger("prod"))

    codebuild.append(stubbed(("get_pipeline_state", state(status="Failed", comment="not on a Friday"))))
    calls.clear()
    code, _, err = world.cli("promote", "--to", "prod", "--artifact", sha, "--approval-from-pipeline")
    assert code == 3
    assert f"Approve-prod was rejected by {ALICE}: not on a Friday" in err
    assert calls.writes == [] and len(world.ledger("prod")) == before

    codebuild.append(stubbed(("get_pipeline_state", state()), ("list_action_executions", executions(sha))))
    # a typed prefix is resolved before the approval is read: the approval names the full digest
    code, _, err = world.cli("promote", "--to", "prod", "--artifact", sha[:12], "--approval-from-pipeline")
    assert code == 0, err
    codebuild[-1][1].assert_no_pending_responses()
    outcome = world.ledger("prod")[-1]
    assert outcome["outcome"] == "PASSED" and outcome["artifact"] == sha
    assert outcome["approval"] == {"approver": ALICE, "reason": "ship it"}
    assert outcome["build_id"] == "greeter-pipeline:5e6f"
    assert "pipeline-codebuild-5e6f" in outcome["actor"]


def test_flag_misuse_is_exit_2_before_any_aws_call(envdir, codebuild, calls, capsys, monkeypatch):
    from pipeline.cli import main

    assert main(["promote", "--to", "prod", "--artifact", SHA, "--approval-from-pipeline", "--approve"]) == 2
    assert "exclude each other" in capsys.readouterr().err
    monkeypatch.delenv("CODEPIPELINE_EXECUTION_ID")
    assert main(["promote", "--to", "prod", "--artifact", SHA, "--approval-from-pipeline"]) == 2
    assert "CODEPIPELINE_EXECUTION_ID is not set" in capsys.readouterr().err
    assert calls.calls == []
