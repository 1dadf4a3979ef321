"""CodePipeline executions as an operator sees them: start one, find the one a source upload started, read
its stages and actions, answer a manual approval. Answers are handed on as AWS gave them (dicts); the pure
core (core/pipeline_view.py) turns them into progress lines and tables."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from pipeline.aws.errors import describe, error_code
from pipeline.aws.session import AccountSession
from pipeline.errors import PipelineError, RefusedError


class PipelineRuns:
    """One pipeline, read and driven with one session (the caller's own identity in the tooling account)."""

    def __init__(self, session: AccountSession, region: str, pipeline: str) -> None:
        self.client = session.client("codepipeline", region)
        self.pipeline = pipeline

    def _call(self, method: str, **params: Any) -> dict[str, Any]:
        try:
            return getattr(self.client, method)(**params)
        except ClientError as exc:
            code = error_code(exc)
            if code == "PipelineNotFoundException":
                raise PipelineError(f"pipeline {self.pipeline} not found in this account and region "
                                    "(`pipeline bootstrap --tooling` deploys it)") from None
            if code == "PipelineExecutionNotFoundException":
                raise PipelineError(f"pipeline {self.pipeline}: no execution {params.get('pipelineExecutionId')}") \
                    from None
            raise

    def start(self) -> str:
        """StartPipelineExecution: the id of the execution (of the source's latest revision)."""
        return self._call("start_pipeline_execution", name=self.pipeline)["pipelineExecutionId"]

    def executions(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest executions first (ListPipelineExecutions summaries, one page)."""
        return self._call("list_pipeline_executions", pipelineName=self.pipeline,
                          maxResults=limit).get("pipelineExecutionSummaries", [])

    def execution(self, execution_id: str) -> dict[str, Any]:
        return self._call("get_pipeline_execution", pipelineName=self.pipeline,
                          pipelineExecutionId=execution_id)["pipelineExecution"]

    def state(self) -> dict[str, Any]:
        return self._call("get_pipeline_state", name=self.pipeline)

    def actions(self, execution_id: str) -> list[dict[str, Any]]:
        """Every action execution of one execution (ListActionExecutions, all pages), oldest first."""
        details: list[dict[str, Any]] = []
        params: dict[str, Any] = {"pipelineName": self.pipeline, "filter": {"pipelineExecutionId": execution_id},
                                  "maxResults": 100}
        while True:
            page = self._call("list_action_executions", **params)
            details += page.get("actionExecutionDetails", [])
            if not page.get("nextToken"):
                break
            params["nextToken"] = page["nextToken"]
        return sorted(details, key=lambda d: str(d.get("startTime") or ""))

    def approve(self, stage: str, action: str, token: str, approved: bool, summary: str) -> None:
        """PutApprovalResult as this session's identity (the approver CodePipeline records)."""
        try:
            self.client.put_approval_result(
                pipelineName=self.pipeline, stageName=stage, actionName=action, token=token,
                result={"summary": summary, "status": "Approved" if approved else "Rejected"})
        except ClientError as exc:
            code = error_code(exc)
            if code in ("InvalidApprovalTokenException", "ApprovalAlreadyCompletedException",
                        "ActionNotFoundException", "StageNotFoundException"):
                raise RefusedError(f"approval {self.pipeline}/{stage}/{action}: {describe(exc)}") from None
            raise


def upload_source(session: AccountSession, region: str, bucket: str, key: str, body: bytes,
                  encryption: dict[str, str]) -> str:
    """PutObject of a source zip where the pipeline's Source action reads it: the new object's version id
    (the source bucket is versioned: the execution it starts names that version)."""
    try:
        answer = session.client("s3", region).put_object(Bucket=bucket, Key=key, Body=body, **encryption)
    except ClientError as exc:
        raise PipelineError(f"upload of the source to s3://{bucket}/{key}: {describe(exc)}") from None
    version = answer.get("VersionId")
    if not version or version == "null":
        raise PipelineError(f"s3://{bucket}: versioning is not enabled, so no execution can be tied to this "
                            "upload (the pipeline's S3 source needs a versioned bucket)")
    return str(version)
