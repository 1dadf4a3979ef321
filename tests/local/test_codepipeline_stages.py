"""CodePipeline's stages in the emulator beyond the happy path: a manual approval nobody answers fails when
its timeout (V2 `timeoutInMinutes`, else 7 days) passes on the emulator's clock, and CreatePipeline refuses a
timeout AWS refuses; actions of one runOrder run in parallel, the stage waits for all of them, and one failure
fails the stage; StartPipelineExecution's sourceRevisions pins the S3 source's version."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from pipeline.local import codepipeline_actions, timing

from . import pipeline_support as ps
from .events_support import wait_for
from .helpers import make_zip

pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def world(clients) -> dict:
    return ps.make_world(clients, "stages")


def test_an_unanswered_approval_fails_when_its_timeout_passes(world):
    name = ps.pipeline(world, {"name": "Hold", "actions": [ps.approval("Approve", minutes=5)]},
                     {"name": "After", "actions": [ps.approval("Never")]})
    with timing.using(events_minute=0.1):  # the emulator's minute: 0.1 s, so 5 minutes pass in 0.5 s
        begun = time.monotonic()
        execution = world["cp"].start_pipeline_execution(name=name)["pipelineExecutionId"]
        token = wait_for(lambda: _token(world, name), timeout=30)
        ended = ps.ended(world, name, execution)
    assert ended["status"] == "Failed" and "Approval timed out" in ended["statusSummary"]
    assert time.monotonic() - begun >= 0.5  # not before its 5 minutes
    approve = ps.actions(world, name, execution)["Approve"]
    assert approve["status"] == "Failed"
    assert approve["output"]["executionResult"]["externalExecutionSummary"] == \
        "Approval timed out: no response within 5 minutes"
    assert "Never" not in ps.actions(world, name, execution)  # the next stage never started
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
    name = ps.pipeline(world, {"name": "Gate", "actions": [ps.approval("A"), ps.approval("B"), ps.approval("C", 2)]})
    execution = world["cp"].start_pipeline_execution(name=name)["pipelineExecutionId"]
    assert wait_for(lambda: _both_pending(world, name), timeout=30)  # both at once, not one after the other
    assert _states(world, name, "Gate")["C"] == {}
    _decide(world, name, "B")  # the second one first: the first is still waiting
    states = _states(world, name, "Gate")
    assert states["B"]["status"] == "Succeeded" and states["A"]["status"] == "InProgress" and states["C"] == {}
    _decide(world, name, "A")
    assert wait_for(lambda: _states(world, name, "Gate")["C"].get("token"), timeout=30)  # runOrder 2 starts now
    _decide(world, name, "C")
    assert ps.ended(world, name, execution)["status"] == "Succeeded"


def test_one_failed_action_fails_the_stage_once_its_parallel_actionsended(world):
    name = ps.pipeline(world, {"name": "Gate", "actions": [ps.approval("A"), ps.approval("B"), ps.approval("C", 2)]})
    execution = world["cp"].start_pipeline_execution(name=name)["pipelineExecutionId"]
    assert wait_for(lambda: _both_pending(world, name), timeout=30)
    _decide(world, name, "A", "Rejected")
    status = world["cp"].get_pipeline_execution(pipelineName=name, pipelineExecutionId=execution)
    assert status["pipelineExecution"]["status"] == "InProgress"  # B still runs: the stage waits for it
    _decide(world, name, "B")
    ended = ps.ended(world, name, execution)
    assert ended["status"] == "Failed" and ended["statusSummary"].startswith("Gate/A: ")
    actions = ps.actions(world, name, execution)
    assert actions["A"]["status"] == "Failed" and actions["B"]["status"] == "Succeeded" and "C" not in actions


def test_start_pipeline_execution_runs_the_source_revision_it_names(world):
    s3 = world["s3"]
    s3.put_bucket_versioning(Bucket=world["bucket"], VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=world["bucket"], Key="source/pinned.zip", Body=make_zip({"a": "1"}))["VersionId"]
    s3.put_object(Bucket=world["bucket"], Key="source/pinned.zip", Body=make_zip({"a": "2"}))
    name = ps.pipeline(world, {"name": "Hold", "actions": [ps.approval("Approve")]}, key="source/pinned.zip")
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
    (ps.approval("Approve", minutes=86401), "Member must have value between 5 and 86400"),
    ({**ps.source("any-bucket", name="Other"), "timeoutInMinutes": 60},
     "available only to the manual approval action type")])
def test_create_pipeline_refuses_a_timeout_codepipeline_does_not_allow(world, action, message):
    with pytest.raises(ClientError) as caught:
        ps.pipeline(world, {"name": "Hold", "actions": [action]})
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert message in caught.value.response["Error"]["Message"]
    assert "timeoutInMinutes" in caught.value.response["Error"]["Message"]
