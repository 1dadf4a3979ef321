"""The emulator's CodePipeline executions: their records and the answers GetPipelineState,
GetPipelineExecution, ListPipelineExecutions and ListActionExecutions give from them, in AWS's shapes.

moto 5.2 stores pipelines but runs no execution. An execution here (`codepipeline_engine` runs it) holds
its status, trigger, source revisions, the namespaces' output variables, and one record per action run
(status, summary, token of a pending approval, who updated it, configuration as declared and resolved,
external execution id such as a CodeBuild build id, error details). Kept per account and region, forgotten
on an emulator reset.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

LOCK = threading.RLock()
_RUNS: dict[tuple[str, str], list[Execution]] = {}


@dataclass
class ActionRun:
    stage: str
    action: str
    declaration: dict[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: str = "InProgress"
    started: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    summary: str | None = None
    token: str | None = None
    expired: bool = False  # a manual approval nobody answered within its timeout (its token is no longer valid)
    updated_by: str | None = None
    external_id: str | None = None
    error: dict[str, str] | None = None
    resolved: dict[str, str] = field(default_factory=dict)
    input_artifacts: list[dict[str, Any]] = field(default_factory=list)
    output_artifacts: list[dict[str, Any]] = field(default_factory=list)
    output_variables: dict[str, str] = field(default_factory=dict)

    def state(self) -> dict[str, Any]:
        out: dict[str, Any] = {"actionExecutionId": self.id, "status": self.status, "lastStatusChange": self.updated}
        for key, value in (("summary", self.summary), ("token", self.token if self.status == "InProgress" else None),
                           ("lastUpdatedBy", self.updated_by), ("externalExecutionId", self.external_id),
                           ("errorDetails", self.error)):
            if value is not None:
                out[key] = value
        return out

    def detail(self, execution: Execution) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if self.external_id:
            result["externalExecutionId"] = self.external_id
        if self.summary:
            result["externalExecutionSummary"] = self.summary
        if self.error:
            result["errorDetails"] = self.error
        out: dict[str, Any] = {
            "pipelineExecutionId": execution.id, "actionExecutionId": self.id,
            "pipelineVersion": execution.version, "stageName": self.stage, "actionName": self.action,
            "startTime": self.started, "lastUpdateTime": self.updated, "status": self.status,
            "input": {"actionTypeId": self.declaration["actionTypeId"],
                      "configuration": dict(self.declaration.get("configuration") or {}),
                      "resolvedConfiguration": dict(self.resolved), "region": execution.region,
                      "inputArtifacts": self.input_artifacts,
                      **({"namespace": self.declaration["namespace"]} if self.declaration.get("namespace") else {})},
            "output": {"outputArtifacts": self.output_artifacts, "executionResult": result,
                       "outputVariables": dict(self.output_variables)},
        }
        if self.updated_by:
            out["updatedBy"] = self.updated_by
        return out


@dataclass
class Execution:
    account: str
    region: str
    pipeline: str
    version: int
    structure: dict[str, Any]
    trigger: dict[str, str]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: str = "InProgress"
    summary: str | None = None
    started: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    running: bool = False  # QUEUED: False while an earlier execution holds the pipeline
    variables: dict[str, dict[str, str]] = field(default_factory=dict)  # namespace -> name -> value
    revisions: list[dict[str, str]] = field(default_factory=list)
    pinned: dict[str, str] = field(default_factory=dict)  # source action -> the S3 object version it reads
    actions: list[ActionRun] = field(default_factory=list)
    stages: dict[str, str] = field(default_factory=dict)  # stage -> status
    approved: threading.Condition = field(default_factory=lambda: threading.Condition(LOCK))
    stop_requested: bool = False

    def summary_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pipelineExecutionId": self.id, "status": self.status, "startTime": self.started,
                               "lastUpdateTime": self.updated, "sourceRevisions": list(self.revisions),
                               "trigger": dict(self.trigger), "executionMode": "QUEUED", "executionType": "STANDARD"}
        if self.summary:
            out["statusSummary"] = self.summary
        return out

    def execution_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pipelineName": self.pipeline, "pipelineVersion": self.version,
                               "pipelineExecutionId": self.id, "status": self.status, "trigger": dict(self.trigger),
                               "executionMode": "QUEUED", "executionType": "STANDARD",
                               "artifactRevisions": [{"name": r["actionName"], "revisionId": r["revisionId"]}
                                                     for r in self.revisions]}
        if self.summary:
            out["statusSummary"] = self.summary
        return out

    def latest(self, stage: str, action: str) -> ActionRun | None:
        return next((a for a in reversed(self.actions) if a.stage == stage and a.action == action), None)


def add(execution: Execution) -> None:
    with LOCK:
        _RUNS.setdefault((execution.account, execution.region), []).append(execution)


def of_pipeline(account: str, region: str, pipeline: str) -> list[Execution]:
    """Newest first, as ListPipelineExecutions answers."""
    with LOCK:
        return [e for e in reversed(_RUNS.get((account, region), [])) if e.pipeline == pipeline]


def find(account: str, region: str, pipeline: str, execution_id: str) -> Execution | None:
    return next((e for e in of_pipeline(account, region, pipeline) if e.id == execution_id), None)


def pipeline_state(account: str, region: str, pipeline: str, structure: dict[str, Any]) -> list[dict[str, Any]]:
    """GetPipelineState's stageStates: each stage's and action's latest execution across executions."""
    runs = [e for e in of_pipeline(account, region, pipeline) if e.running or e.status != "InProgress"]
    states = []
    with LOCK:
        for stage in structure.get("stages", []):
            name = stage["name"]
            holder = next((e for e in runs if name in e.stages), None)
            state: dict[str, Any] = {"stageName": name, "inboundTransitionState": {"enabled": True}, "actionStates": []}
            if holder is not None:
                state["latestExecution"] = {"pipelineExecutionId": holder.id, "status": holder.stages[name]}
            for action in stage.get("actions", []):
                entry: dict[str, Any] = {"actionName": action["name"]}
                latest = holder.latest(name, action["name"]) if holder is not None else None
                if latest is not None:
                    entry["latestExecution"] = latest.state()
                state["actionStates"].append(entry)
            states.append(state)
    return states


def running() -> list[Execution]:
    with LOCK:
        return [e for runs in _RUNS.values() for e in runs if e.status in ("InProgress", "Stopping")]


def reset() -> None:
    with LOCK:
        for execution in running():
            execution.stop_requested = True
            execution.approved.notify_all()
        _RUNS.clear()
