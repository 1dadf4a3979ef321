"""CodePipeline's execution calls, answered by the emulator's executions (moto 5.2 runs none).

StartPipelineExecution starts one (`codepipeline_engine`); GetPipelineState, GetPipelineExecution,
ListPipelineExecutions and ListActionExecutions answer from `codepipeline_runs`; PutApprovalResult decides
a pending manual approval by its token and records the caller's ARN as `lastUpdatedBy`;
StopPipelineExecution stops one (a running build is stopped). Every other call (CreatePipeline, GetPipeline,
...) stays moto's, once CreatePipeline and UpdatePipeline have refused an action's `timeoutInMinutes` as AWS
does (manual approvals only, 5 to 86400). The layer sits inside the IAM layer: the caller was authorized first.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from pipeline.local import codepipeline_engine, codepipeline_runs, events_pipeline, json_call

TARGET = "CodePipeline_20150709."
OURS = ("StartPipelineExecution", "GetPipelineState", "GetPipelineExecution", "ListPipelineExecutions",
        "ListActionExecutions", "PutApprovalResult", "StopPipelineExecution")
CHECKED = ("CreatePipeline", "UpdatePipeline")
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def layer(app: WsgiApp) -> WsgiApp:
    def handle(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        call = json_call.read(environ, TARGET, OURS + CHECKED)
        if call is None:
            return app(environ, start_response)
        if call.operation in CHECKED:  # moto stores the pipeline; AWS first refuses a timeout it does not allow
            try:
                problem = timeout_problem(call.params().get("pipeline") or {})
            except (ValueError, TypeError):
                problem = None  # moto answers a body it cannot read
            if problem is None:
                return app(environ, start_response)
            return json_call.answer(start_response, "400 Bad Request", json_call.error("ValidationException", problem))
        try:
            answer = _answer(call.operation, call.params(), call.account, call.region, call.caller_arn(),
                             call.header(events_pipeline.HEADER))
            status = "200 OK"
        except _Refused as refused:
            status, answer = "400 Bad Request", json_call.error(refused.code, str(refused))
        except (ValueError, KeyError, TypeError) as exc:
            status, answer = "400 Bad Request", json_call.error("ValidationException", f"{exc}")
        return json_call.answer(start_response, status, answer)

    return handle


def timeout_problem(pipeline: dict[str, Any]) -> str | None:
    """Why CodePipeline refuses an action's `timeoutInMinutes` (manual approvals only, 5 to 86400), or None."""
    for i, stage in enumerate(pipeline.get("stages") or [], 1):
        for j, action in enumerate(stage.get("actions") or [], 1):
            minutes = action.get("timeoutInMinutes")
            if minutes is None:
                continue
            where = f"pipeline.stages.{i}.member.actions.{j}.member.timeoutInMinutes"
            kind = action.get("actionTypeId") or {}
            if (kind.get("category"), kind.get("provider")) != ("Approval", "Manual"):
                return f"{where}: timeoutInMinutes is available only to the manual approval action type"
            if not 5 <= int(minutes) <= 86400:
                return (f"1 validation error detected: Value '{minutes}' at '{where}' failed to satisfy constraint: "
                        "Member must have value between 5 and 86400")
    return None


def _structure(account: str, region: str, name: str) -> dict[str, Any]:
    found = codepipeline_engine.structure(account, region, name)
    if found is None:
        raise _Refused("PipelineNotFoundException", f"Account '{account}' does not have a pipeline with name '{name}'")
    return found


def _execution(account: str, region: str, name: str, execution_id: str) -> codepipeline_runs.Execution:
    found = codepipeline_runs.find(account, region, name, execution_id)
    if found is None:
        raise _Refused("PipelineExecutionNotFoundException",
                       f"Pipeline execution {execution_id} does not exist in pipeline {name}")
    return found


def _answer(operation: str, params: dict[str, Any], account: str, region: str, caller_arn: str,
            events_header: str | None = None) -> dict[str, Any]:
    if operation == "StartPipelineExecution":
        return _start(params, account, region, caller_arn, events_header)
    name = params.get("pipelineName") or params.get("name") or ""
    structure = _structure(account, region, name)
    if operation == "GetPipelineState":
        return {"pipelineName": name, "pipelineVersion": int(structure.get("version", 1)),
                "stageStates": codepipeline_runs.pipeline_state(account, region, name, structure),
                "created": time.time(), "updated": time.time()}
    if operation == "GetPipelineExecution":
        return {"pipelineExecution": _execution(account, region, name, params["pipelineExecutionId"]).execution_api()}
    if operation == "ListPipelineExecutions":
        runs = codepipeline_runs.of_pipeline(account, region, name)[: int(params.get("maxResults") or 100)]
        return {"pipelineExecutionSummaries": [e.summary_api() for e in runs]}
    if operation == "ListActionExecutions":
        wanted = (params.get("filter") or {}).get("pipelineExecutionId")
        runs = codepipeline_runs.of_pipeline(account, region, name)
        if wanted is not None:
            runs = [_execution(account, region, name, wanted)]
        details = [a.detail(e) for e in runs for a in reversed(e.actions)]
        return {"actionExecutionDetails": details[: int(params.get("maxResults") or 100)]}
    if operation == "PutApprovalResult":
        return _approve(params, account, region, name, structure, caller_arn)
    execution = _execution(account, region, name, params["pipelineExecutionId"])  # StopPipelineExecution
    if execution.status != "InProgress":
        raise _Refused("PipelineExecutionNotStoppableException", f"Execution {execution.id} is {execution.status}")
    with codepipeline_runs.LOCK:
        execution.stop_requested = True
        execution.status = "Stopping"
        execution.approved.notify_all()
    return {"pipelineExecutionId": execution.id}


def _start(params: dict[str, Any], account: str, region: str, caller_arn: str,
           events_header: str | None) -> dict[str, Any]:
    """StartPipelineExecution: by a caller, or by EventBridge for a rule (`events_pipeline`'s header)."""
    name = params["name"]
    structure = _structure(account, region, name)
    sources = {a["name"] for s in structure.get("stages", []) for a in s.get("actions", [])
               if (a.get("actionTypeId") or {}).get("category") == "Source"}
    pinned: dict[str, str] = {}
    for revision in params.get("sourceRevisions") or []:  # V2: run a source action on a given revision
        if revision.get("actionName") not in sources:
            raise _Refused("ValidationException", f"sourceRevisions: {revision.get('actionName')} is not a source "
                                                  f"action of pipeline {name}")
        if revision.get("revisionType") != "S3_OBJECT_VERSION_ID":
            raise _Refused("ValidationException", f"sourceRevisions: revisionType {revision.get('revisionType')} is "
                                                  "not run by the emulator's CodePipeline")
        pinned[revision["actionName"]] = str(revision["revisionValue"])
    trigger = {"triggerType": "StartPipelineExecution", "triggerDetail": caller_arn}
    if events_header:
        delivered = json.loads(events_header)
        trigger = {"triggerType": "CloudWatchEvent", "triggerDetail": str(delivered["rule"])}
        pinned.update(events_pipeline.source_versions(structure, delivered.get("event") or {}))
    execution = codepipeline_engine.start(account, region, name, trigger, pinned)
    return {"pipelineExecutionId": execution.id}


def _approve(params: dict[str, Any], account: str, region: str, name: str, structure: dict[str, Any],
             caller_arn: str) -> dict[str, Any]:
    stage, action = params["stageName"], params["actionName"]
    declared = next((s for s in structure.get("stages", []) if s["name"] == stage), None)
    if declared is None:
        raise _Refused("StageNotFoundException", f"Stage {stage} not found in pipeline {name}")
    if not any(a["name"] == action for a in declared.get("actions", [])):
        raise _Refused("ActionNotFoundException", f"Action {action} not found in stage {stage}")
    result = params["result"]
    if result.get("status") not in ("Approved", "Rejected"):
        raise _Refused("ValidationException", "result.status must be Approved or Rejected")
    with codepipeline_runs.LOCK:
        pending = [a for e in codepipeline_runs.of_pipeline(account, region, name) for a in e.actions
                   if a.stage == stage and a.action == action and a.token == params["token"]]
        if not pending:
            raise _Refused("InvalidApprovalTokenException", f"The token {params['token']} is not valid for "
                                                            f"{name}/{stage}/{action}")
        run = pending[0]
        if run.expired:
            raise _Refused("InvalidApprovalTokenException", f"The approval request for {stage}/{action} has expired")
        if run.status != "InProgress":
            raise _Refused("ApprovalAlreadyCompletedException", f"Approval for {stage}/{action} is already completed")
        run.status = "Succeeded" if result["status"] == "Approved" else "Failed"
        run.summary, run.updated_by, run.updated = result.get("summary"), caller_arn, time.time()
        for execution in codepipeline_runs.of_pipeline(account, region, name):
            execution.approved.notify_all()
    return {"approvedAt": time.time()}
