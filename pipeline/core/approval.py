"""Whether the pipeline's manual approval action approved *this* promotion: pure, so every way it can
fail to (missing, pending, rejected, another execution, another artifact) is one decision in one place.

An approval counts only when it succeeded, in the pipeline execution the build runs for, with an
approver identity, and its message (resolved by CodePipeline for that execution) names the artifact
being promoted: an old or foreign approval never vouches for new bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.errors import RefusedError


@dataclass(frozen=True)
class PipelineApproval:
    """What CodePipeline says about one approval action (GetPipelineState + ListActionExecutions)."""

    pipeline: str
    stage: str
    action: str
    found: bool = False
    stage_execution_id: str | None = None  # the pipeline execution the stage holds now
    action_execution_id: str | None = None
    status: str | None = None  # InProgress | Succeeded | Failed | Abandoned ...
    approver: str | None = None  # lastUpdatedBy: the approver's IAM ARN
    comment: str | None = None  # summary: the approver's comment
    message: str | None = None  # CustomData as resolved for this execution (names the artifact sha)

    @property
    def where(self) -> str:
        return f"{self.pipeline} {self.stage}/{self.action}"


def approval_decision(approval: PipelineApproval, execution_id: str, artifact: str) -> tuple[str, str | None]:
    """(approver ARN, comment) when the approval holds for this execution and artifact; else exit 3."""
    where = approval.where
    if not approval.found:
        raise RefusedError(f"approval: the pipeline has no approval action {where} (bootstrap --tooling "
                           "deploys it for envs with gates.approval)")
    if approval.stage_execution_id != execution_id:
        raise RefusedError(f"approval: {where} belongs to pipeline execution {approval.stage_execution_id or 'none'}, "
                           f"not to this build's execution {execution_id}")
    if approval.status in (None, "InProgress"):
        raise RefusedError(f"approval: {where} is not approved yet (status {approval.status or 'none'})")
    if approval.status == "Failed":
        comment = f": {approval.comment}" if approval.comment else ""
        if not approval.approver:  # nobody answered: it timed out
            raise RefusedError(f"approval: {where} failed without an answer{comment}")
        raise RefusedError(f"approval: {where} was rejected by {approval.approver}{comment}")
    if approval.status != "Succeeded":
        raise RefusedError(f"approval: {where} ended {approval.status}, not approved")
    if not approval.approver:
        raise RefusedError(f"approval: {where} succeeded but names no approver")
    if artifact.lower() not in (approval.message or "").lower():
        raise RefusedError(f"approval: {where} in execution {execution_id} did not name artifact {artifact[:12]} "
                           "(its message is what the approver saw)")
    return approval.approver, approval.comment or None
