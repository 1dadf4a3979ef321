"""`pipeline pipeline run|approve|show`: start the CodePipeline as an operator does (upload a source zip, or
StartPipelineExecution), follow one execution stage by stage, answer its manual approval.

Who acts: the source goes up with the tooling session (the promoter's UploadPipelineSource); every
CodePipeline call is made with the caller's own identity in the tooling account, so the approver
CodePipeline records (and the promote action puts into the ledger) is the person, never the promoter
role that CodeBuild may also assume."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.aws.artifacts import encryption_args
from pipeline.aws.pipeline_runs import PipelineRuns, upload_source
from pipeline.core import pipeline_view as view
from pipeline.engine.context import EngineContext
from pipeline.errors import InputError, PipelineError, RefusedError
from pipeline.infra import naming

FIRST, FACTOR, CAP = 0.05, 1.5, 1.0  # seconds between looks: short at first, at most CAP


@dataclass
class Followed:
    execution_id: str
    status: str
    summary: str | None
    rows: list[view.ActionRow] = field(default_factory=list)
    waiting: view.PendingApproval | None = None  # the approval waiting in this execution, if any

    def doc(self) -> dict[str, Any]:
        return {"execution": self.execution_id, "status": self.status, "summary": self.summary,
                "actions": [r.doc() for r in self.rows],
                "waiting_for": ({"stage": self.waiting.stage, "action": self.waiting.action}
                                if self.waiting else None)}


def runs(engine: EngineContext, base: Any) -> PipelineRuns:
    """The pipeline read and driven as `base` (the caller), which must be in the tooling account."""
    config = engine.config
    engine.accounts.factory.guard(base, config.tooling.account,
                                  f"{config.directory}/pipeline.yml tooling.account (the pipeline's account)")
    return PipelineRuns(base, config.tooling.region, naming.codepipeline_name(config))


def source_location(engine: EngineContext) -> tuple[str, str]:
    config = engine.config
    source = config.source
    if source is not None and source.type == "codeconnections":
        raise InputError(f"{config.directory}/pipeline.yml source: a CodeConnections repository starts the "
                         f"pipeline on a push to {source.branch}; `pipeline pipeline run --start` re-runs it")
    bucket = (source.bucket if source else None) or config.artifact_bucket
    return bucket, (source.key if source else None) or naming.default_source_key(config)


def known(pipeline: PipelineRuns) -> set[str]:
    """The ids of the newest executions (before an upload: the one it starts is not among them)."""
    return {str(e["pipelineExecutionId"]) for e in pipeline.executions()}


def upload(engine: EngineContext, body: bytes) -> tuple[str, str, str]:
    """(bucket, key, version id) of the uploaded source zip."""
    bucket, key = source_location(engine)
    encryption = encryption_args(engine.config) if bucket == engine.config.artifact_bucket else {}
    return bucket, key, upload_source(engine.tooling, engine.config.tooling.region, bucket, key, body, encryption)


def _looks(engine: EngineContext, timeout: float) -> Callable[[], bool]:
    """Sleep before the next look; False once `timeout` seconds have passed."""
    deadline, delay = engine.monotonic() + timeout, [0.0]

    def again() -> bool:
        if engine.monotonic() >= deadline:
            return False
        delay[0] = FIRST if delay[0] <= 0 else min(delay[0] * FACTOR, CAP)
        engine.sleep(delay[0])
        return True
    return again


def wait_started(engine: EngineContext, pipeline: PipelineRuns, where: str, version: str, before: set[str],
                 timeout: float) -> str:
    """The execution the upload of `version` started (EventBridge delivers the S3 event asynchronously);
    `before`: the execution ids listed before the upload."""
    again = _looks(engine, timeout)
    while True:
        found = view.started_by(pipeline.executions(), version, before)
        if found:
            return found
        if not again():
            raise PipelineError(f"no execution of {pipeline.pipeline} started for {where} version {version} in "
                                f"{timeout:.0f} s: is its EventBridge rule enabled and the bucket sending events "
                                "to EventBridge?")


def look(pipeline: PipelineRuns, execution_id: str) -> Followed:
    """The execution as it is now: its status, a row per action run, the approval waiting in it if any."""
    execution = pipeline.execution(execution_id)
    state = pipeline.state()
    stages = state.get("stageStates") or []
    rows = view.action_rows(pipeline.actions(execution_id), stages)
    waiting = None
    for stage in stages:
        waiting = waiting or view.pending_approval(state, str(stage.get("stageName")), execution_id)
    return Followed(execution_id, str(execution.get("status")), execution.get("statusSummary"), rows, waiting)


def follow(engine: EngineContext, pipeline: PipelineRuns, execution_id: str, timeout: float,
           until_approval: bool = False) -> Followed:
    """Look at the execution until it ends (or, with `until_approval`, until an approval waits for an answer),
    printing a progress line per action that starts or changes status."""
    out, again = engine.out, _looks(engine, timeout)
    before = Followed(execution_id, "", None)
    said_waiting = False
    while True:
        now = look(pipeline, execution_id)
        if now.status != before.status:
            out.progress(f"execution {execution_id}: {now.status}")
        for line in view.progress_lines(before.rows, now.rows):
            out.progress(f"  {line}")
        before = now
        if now.status in view.ENDED:
            return now
        if now.waiting and not said_waiting:
            said_waiting = True
            out.progress(f"  {now.waiting.stage}/{now.waiting.action}: waiting for an approval: "
                         f"{view.approve_hint(now.waiting)}")
        if now.waiting and until_approval:
            return now
        if not again():
            raise PipelineError(f"execution {execution_id} of {pipeline.pipeline} still {now.status} after "
                                f"{timeout:.0f} s (pipeline pipeline show --execution {execution_id} --follow)")


def approve(engine: EngineContext, pipeline: PipelineRuns, env: str, approved: bool, reason: str,
            execution_id: str | None, artifact: str | None) -> tuple[view.PendingApproval, str]:
    """Answer the approval waiting in Deploy-<env>: (the approval, the message the approver was shown).
    Refused (exit 3) when none waits, it waits in another execution than `execution_id`, or its message
    does not name `artifact`."""
    stage = naming.deploy_stage_name(engine.config.env(env))
    pending = view.pending_approval(pipeline.state(), stage, None)
    if pending is None:
        raise RefusedError(f"approval: nothing waits for an approval in {pipeline.pipeline}/{stage}")
    if execution_id and pending.execution_id != execution_id:
        raise RefusedError(f"approval: {stage}/{pending.action} waits in execution {pending.execution_id}, "
                           f"not {execution_id}")
    message = view.approval_message(pipeline.actions(pending.execution_id), pending)
    if artifact and artifact.lower() not in message.lower():
        raise RefusedError(f"approval: {stage}/{pending.action} in execution {pending.execution_id} is for another "
                           f"artifact than {artifact[:12]} (it asks: {message})")
    pipeline.approve(stage, pending.action, pending.token, approved, reason)
    return pending, message
