"""What an operator sees of one CodePipeline execution (core/pipeline_view.py), from CodePipeline's answers:
rows in stage/action order with what each action did, progress lines between two looks, which execution an
upload started, the approval that waits and what it asks."""

from __future__ import annotations

from pipeline.core import pipeline_view as view

SHA = "ab" * 32
STAGES = [{"stageName": "Source", "actionStates": [{"actionName": "Source"}]},
          {"stageName": "Build", "actionStates": [{"actionName": "Build"}]},
          {"stageName": "Deploy-prod",
           "actionStates": [{"actionName": "Approve-prod"}, {"actionName": "Promote-prod"}]}]


def detail(stage, action, category, status="Succeeded", start=0.0, end=2.5, **output):
    d = {"stageName": stage, "actionName": action, "status": status, "startTime": start, "lastUpdateTime": end,
         "input": {"actionTypeId": {"category": category}, "resolvedConfiguration": output.pop("resolved", {})},
         "output": {"executionResult": output.pop("result", {}), "outputVariables": output.pop("variables", {})}}
    d.update(output)
    return d


def test_rows_follow_the_pipeline_order_and_say_what_each_action_did():
    details = [
        detail("Deploy-prod", "Promote-prod", "Build", start=30, end=41, result={"externalExecutionId": "p:3"},
               variables={"ARTIFACT_SHA": SHA, "SMOKE_SUMMARY": "prod: PASSED"}),
        detail("Build", "Build", "Build", start=1, end=7, result={"externalExecutionId": "p:1"},
               variables={"ARTIFACT_SHA": SHA, "SMOKE_SUMMARY": "none"}),
        detail("Source", "Source", "Source", end=0.5, variables={"VersionId": "v1", "ETag": "e"}),
        detail("Deploy-prod", "Approve-prod", "Approval", start=20, end=29.96, updatedBy="arn:aws:iam::1:user/op",
               result={"externalExecutionSummary": "ship it"}),
    ]
    rows = view.action_rows(details, STAGES)
    assert [(r.stage, r.action) for r in rows] == [("Source", "Source"), ("Build", "Build"),
                                                   ("Deploy-prod", "Approve-prod"), ("Deploy-prod", "Promote-prod")]
    assert [r.detail for r in rows] == [
        "version v1",
        f"p:1; ARTIFACT_SHA={SHA[:12]}",  # a sha shortened; the buildspec's default "none" left out
        "approved by arn:aws:iam::1:user/op; ship it",
        "p:3; SMOKE_SUMMARY=prod: PASSED"]  # ARTIFACT_SHA passed on unchanged: shown where it first appeared
    assert [r.seconds for r in rows] == [0.5, 6.0, 10.0, 11.0]


def test_a_running_action_has_no_duration_and_a_failed_one_says_why():
    rows = view.action_rows([
        detail("Build", "Build", "Build", status="Failed", result={
            "externalExecutionId": "p:1", "errorDetails": {"code": "JobFailed", "message": "exit status 1"}}),
        detail("Deploy-prod", "Approve-prod", "Approval", status="InProgress"),
        detail("Deploy-prod", "Promote-prod", "Build", status="Failed", updatedBy="x",
               result={"errorDetails": {"message": "no code"}})], STAGES)
    assert [(r.status, r.seconds, r.detail) for r in rows] == [
        ("Failed", 2.5, "p:1; JobFailed: exit status 1"), ("InProgress", None, ""), ("Failed", 2.5, "error: no code")]
    rejected = view.action_rows([detail("Deploy-prod", "Approve-prod", "Approval", status="Failed",
                                        updatedBy="arn:b", result={"externalExecutionSummary": "no"})], STAGES)
    assert rejected[0].detail == "rejected by arn:b; no"


def test_progress_lines_name_what_started_or_changed_only():
    before = [view.ActionRow("Source", "Source", "Succeeded", 0.5, "version v1"),
              view.ActionRow("Build", "Build", "InProgress", None, "p:1")]
    after = [before[0], view.ActionRow("Build", "Build", "Succeeded", 6.0, "p:1"),
             view.ActionRow("Deploy-dev", "Promote-dev", "InProgress", None, "")]
    assert view.progress_lines(before, after) == ["Build/Build: Succeeded after 6.0 s (p:1)",
                                                  "Deploy-dev/Promote-dev: InProgress"]
    assert view.progress_lines(after, after) == []


def test_the_execution_an_upload_started_is_the_one_naming_its_version_else_a_new_queued_one():
    old = {"pipelineExecutionId": "old", "sourceRevisions": [{"revisionId": "v0"}]}
    mine = {"pipelineExecutionId": "mine", "sourceRevisions": [{"revisionId": "v1"}]}
    queued = {"pipelineExecutionId": "queued", "sourceRevisions": []}
    assert view.started_by([mine, old], "v1", {"old"}) == "mine"
    assert view.started_by([queued, old], "v1", {"old"}) == "queued"  # names no revision until its Source runs
    assert view.started_by([queued, old], "v1", {"old", "queued"}) is None  # listed before the upload: not it
    assert view.started_by([old], "v1", {"old"}) is None


def test_the_pending_approval_is_the_one_waiting_in_the_stage_and_execution_asked_for():
    state = {"stageStates": [{"stageName": "Deploy-prod", "latestExecution": {"pipelineExecutionId": "e1"},
                              "actionStates": [{"actionName": "Approve-prod", "latestExecution": {
                                  "status": "InProgress", "token": "t-1"}}, {"actionName": "Promote-prod"}]}]}
    pending = view.pending_approval(state, "Deploy-prod", None)
    assert pending == view.PendingApproval("Deploy-prod", "Approve-prod", "t-1", "e1")
    assert view.pending_approval(state, "Deploy-prod", "e1") == pending
    assert view.pending_approval(state, "Deploy-prod", "e2") is None
    assert view.pending_approval(state, "Deploy-test", None) is None
    assert view.approve_hint(pending) == "pipeline pipeline approve --stage prod"
    asked = [detail("Deploy-prod", "Approve-prod", "Approval", status="InProgress",
                    resolved={"CustomData": f"Promote artifact {SHA} to prod?"})]
    assert view.approval_message(asked, pending) == f"Promote artifact {SHA} to prod?"
    assert view.approval_message([], pending) == ""
