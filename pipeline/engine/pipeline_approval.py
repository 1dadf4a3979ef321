"""`promote --approval-from-pipeline`: the approver identity comes from the pipeline's manual approval
action, read with the build's own credentials in the tooling account, never from a flag or a name."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pipeline.aws.codepipeline import read_approval
from pipeline.aws.session import SessionFactory
from pipeline.config.merged import Environment, PipelineConfig
from pipeline.core.approval import approval_decision
from pipeline.errors import InputError
from pipeline.infra import naming

EXECUTION_VARIABLE = "CODEPIPELINE_EXECUTION_ID"


def approval_from_pipeline(factory: SessionFactory, config: PipelineConfig, env: Environment, artifact: str | None,
                           environ: Mapping[str, str],
                           progress: Callable[[str], None]) -> tuple[str, str | None] | None:
    """(approver ARN, comment) for an env with gates.approval; None when the env needs no approval.

    Refused (exit 3) unless the approval succeeded in this pipeline execution for this artifact.
    """
    if not env.gates.approval:
        progress(f"{env.name}: no approval gate; nothing to read from the pipeline")
        return None
    execution = environ.get(EXECUTION_VARIABLE, "").strip()
    if not execution:
        raise InputError(f"--approval-from-pipeline: {EXECUTION_VARIABLE} is not set (the pipeline's promote "
                         "actions set it to #{codepipeline.PipelineExecutionId})")
    if not artifact:
        raise InputError("--approval-from-pipeline needs --artifact: the approval is for one artifact")
    base = factory.base()  # the CodeBuild role: it, not the promoter, may read the pipeline
    factory.guard(base, config.tooling.account,
                  f"{config.directory}/pipeline.yml tooling.account (the pipeline's account)")
    pipeline = naming.codepipeline_name(config)
    approval = read_approval(base.client("codepipeline", config.tooling.region), pipeline,
                             naming.deploy_stage_name(env), naming.approval_action_name(env), execution)
    approver, comment = approval_decision(approval, execution, artifact)
    progress(f"{env.name}: approved in {approval.where} by {approver}" + (f": {comment}" if comment else ""))
    return approver, comment
