"""What an operator sees of one CodePipeline execution: a row per action run (stage, action, status,
duration, what it ran or who approved it), the progress lines between two looks, which execution a source
upload started, and the approval waiting for an answer. Pure: CodePipeline's answers in, rows and lines out
(aws/pipeline_runs.py reads them; engine/pipeline_follow.py looks again until the execution ends)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pipeline.core import shas

ENDED = ("Succeeded", "Failed", "Stopped", "Superseded", "Cancelled")
HEADERS = ("stage", "action", "status", "duration", "detail")


@dataclass(frozen=True)
class ActionRow:
    stage: str
    action: str
    status: str
    seconds: float | None
    detail: str  # the build id, the approver (and comment), or why it failed

    def row(self) -> list[str]:
        return [self.stage, self.action, self.status, "" if self.seconds is None else f"{self.seconds:.1f} s",
                self.detail]

    def doc(self) -> dict[str, Any]:
        return {"stage": self.stage, "action": self.action, "status": self.status, "seconds": self.seconds,
                "detail": self.detail}


@dataclass(frozen=True)
class PendingApproval:
    stage: str
    action: str
    token: str
    execution_id: str


def _seconds(value: Any) -> float | None:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    return None


def action_rows(details: list[dict[str, Any]], structure: list[dict[str, Any]]) -> list[ActionRow]:
    """One row per action run of the execution (ListActionExecutions), in the pipeline's stage and action
    order (GetPipelineState's stageStates); actions that never ran are left out. An output variable is
    shown where it first appears (a later action that passes it on does not repeat it)."""
    order = {(s.get("stageName"), a.get("actionName")): (i, j)
             for i, s in enumerate(structure) for j, a in enumerate(s.get("actionStates", []))}
    rows, shown = [], set()
    for d in sorted(details, key=lambda d: (order.get((d.get("stageName"), d.get("actionName")), (999, 999)),
                                            _seconds(d.get("startTime")) or 0.0)):
        start, end = _seconds(d.get("startTime")), _seconds(d.get("lastUpdateTime"))
        status = str(d.get("status") or "")
        seconds = round(end - start, 1) if start is not None and end is not None and status != "InProgress" else None
        rows.append(ActionRow(str(d.get("stageName")), str(d.get("actionName")), status, seconds, _detail(d, shown)))
    return rows


def _short(value: str) -> str:
    """A sha256 as the tables show it (core/shas.py); any other value as it is."""
    return shas.short(value) if shas.is_full(value) and not value.strip("0123456789abcdef") else value


def _detail(d: dict[str, Any], shown: set[tuple[str, str]]) -> str:
    result = (d.get("output") or {}).get("executionResult") or {}
    category = ((d.get("input") or {}).get("actionTypeId") or {}).get("category")
    error = result.get("errorDetails") or {}
    variables = (d.get("output") or {}).get("outputVariables") or {}
    parts = []
    if category == "Approval":
        if d.get("updatedBy") and d.get("status") != "InProgress":
            parts.append(f"{'approved' if d.get('status') == 'Succeeded' else 'rejected'} by {d['updatedBy']}")
        if result.get("externalExecutionSummary"):
            parts.append(str(result["externalExecutionSummary"]))
    elif category == "Source":
        parts += [f"version {variables['VersionId']}"] if variables.get("VersionId") else []
    else:
        if result.get("externalExecutionId"):
            parts.append(str(result["externalExecutionId"]))
        for name, value in sorted(variables.items()):
            if value not in ("", "none") and (name, value) not in shown:
                shown.add((name, value))
                parts.append(f"{name}={_short(str(value))}")
    if error.get("message"):
        parts.append(f"{error.get('code', 'error')}: {error['message']}")
    return "; ".join(parts)


def progress_lines(before: list[ActionRow], after: list[ActionRow]) -> list[str]:
    """A line per action run that started or changed status since the last look."""
    seen = {(r.stage, r.action): r.status for r in before}
    lines = []
    for r in after:
        if seen.get((r.stage, r.action)) == r.status:
            continue
        took = f" after {r.seconds:.1f} s" if r.seconds is not None else ""
        detail = f" ({r.detail})" if r.detail else ""
        lines.append(f"{r.stage}/{r.action}: {r.status}{took}{detail}")
    return lines


def started_by(executions: list[dict[str, Any]], revision: str, before: set[str]) -> str | None:
    """The execution a source upload started (ListPipelineExecutions summaries, newest first): the one whose
    source revision is the uploaded object's version; else, while none names it, the newest execution not
    among `before` (the ids listed before the upload) that names no revision yet (a QUEUED execution learns
    its revision when its Source action runs)."""
    for summary in executions:
        if any(r.get("revisionId") == revision for r in summary.get("sourceRevisions") or []):
            return str(summary["pipelineExecutionId"])
    for summary in executions:
        if summary["pipelineExecutionId"] not in before and not summary.get("sourceRevisions"):
            return str(summary["pipelineExecutionId"])
    return None


def pending_approval(state: dict[str, Any], stage: str, execution_id: str | None) -> PendingApproval | None:
    """The approval action of `stage` waiting for an answer (its token is in GetPipelineState), in
    `execution_id` when given."""
    for s in state.get("stageStates") or []:
        if s.get("stageName") != stage:
            continue
        holder = (s.get("latestExecution") or {}).get("pipelineExecutionId")
        for a in s.get("actionStates") or []:
            latest = a.get("latestExecution") or {}
            if latest.get("status") == "InProgress" and latest.get("token") and \
                    (execution_id is None or holder == execution_id):
                return PendingApproval(stage, str(a.get("actionName")), str(latest["token"]), str(holder))
    return None


def approve_hint(approval: PendingApproval) -> str:
    """The command that answers it (`Deploy-<env>` is the env's stage, infra/naming.py)."""
    return f"pipeline pipeline approve --stage {approval.stage.removeprefix('Deploy-')}"


def approval_message(details: list[dict[str, Any]], approval: PendingApproval) -> str:
    """What the approver is asked (the action's CustomData as resolved in this execution: it names the sha)."""
    for d in details:
        if d.get("stageName") == approval.stage and d.get("actionName") == approval.action:
            resolved = (d.get("input") or {}).get("resolvedConfiguration") or {}
            return str(resolved.get("CustomData") or "")
    return ""
