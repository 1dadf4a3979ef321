"""CodePipeline adapter: read a manual approval action's result. Tested against real approvals of the
emulator's pipeline executions (tests/engine/test_pipeline_runs.py) and, for answers the emulator never
gives, with botocore's Stubber (tests/engine/test_pipeline_approval.py)."""

from __future__ import annotations

import dataclasses
from typing import Any

from botocore.exceptions import ClientError

from pipeline.aws.errors import error_code
from pipeline.core.approval import PipelineApproval
from pipeline.errors import PipelineError


def read_approval(client: Any, pipeline: str, stage: str, action: str, execution_id: str) -> PipelineApproval:
    """The approval action's latest result from GetPipelineState; when it succeeded in `execution_id`,
    also its resolved message from ListActionExecutions (one page, filtered to that execution)."""
    try:
        state = client.get_pipeline_state(name=pipeline)
    except ClientError as exc:
        if error_code(exc) == "PipelineNotFoundException":
            raise PipelineError(f"pipeline {pipeline} not found in this account and region "
                                "(`pipeline bootstrap --tooling` deploys it)") from None
        raise
    stage_state = next((s for s in state.get("stageStates", []) if s.get("stageName") == stage), None)
    action_state = next((a for a in (stage_state or {}).get("actionStates", []) if a.get("actionName") == action),
                        None)
    if stage_state is None or action_state is None:
        return PipelineApproval(pipeline, stage, action)
    latest = action_state.get("latestExecution") or {}
    approval = PipelineApproval(
        pipeline, stage, action, found=True,
        stage_execution_id=(stage_state.get("latestExecution") or {}).get("pipelineExecutionId"),
        action_execution_id=latest.get("actionExecutionId"), status=latest.get("status"),
        approver=latest.get("lastUpdatedBy"), comment=latest.get("summary"))
    if approval.status != "Succeeded" or approval.stage_execution_id != execution_id:
        return approval
    details = client.list_action_executions(pipelineName=pipeline, filter={"pipelineExecutionId": execution_id},
                                            maxResults=100)
    mine = [d for d in details.get("actionExecutionDetails", [])
            if d.get("stageName") == stage and d.get("actionName") == action]
    detail = next((d for d in mine if d.get("actionExecutionId") == approval.action_execution_id), None)
    if detail is None:
        return approval  # no message: the decision refuses (it cannot tie the approval to an artifact)
    resolved = (detail.get("input") or {}).get("resolvedConfiguration") or {}
    return dataclasses.replace(approval, message=resolved.get("CustomData"))
