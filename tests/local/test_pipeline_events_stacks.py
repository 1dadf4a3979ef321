"""The product's own stacks on the emulator: after `bootstrap --tooling` (tooling stack: the artifact bucket with
EventBridge notifications; pipeline stack: the pipeline, its SourceRule and SourceEventsRole), uploading the
source zip as an operator would (the promoter role, allowed exactly that key) starts the pipeline through
EventBridge, as the rule's role, with the upload as its source revision."""

from __future__ import annotations

import pytest
from helpers import BUCKET, TOOLING, client, promoter

from pipeline.cli import main

from .events_support import control, wait_for
from .helpers import make_zip

pytestmark = pytest.mark.emulator
PIPELINE = "greeter-pipeline"


def test_uploading_the_source_zip_starts_the_bootstrapped_pipeline(aws, envdir, capsys):
    assert main(["bootstrap", "--tooling"]) == 0, capsys.readouterr().err
    cp = client("codepipeline", TOOLING)
    assert cp.list_pipeline_executions(pipelineName=PIPELINE)["pipelineExecutionSummaries"] == []
    put = promoter("s3").put_object(Bucket=BUCKET, Key="source/greeter.zip", Body=make_zip({"README": "x"}))

    def started() -> list[dict]:
        return cp.list_pipeline_executions(pipelineName=PIPELINE)["pipelineExecutionSummaries"]

    assert wait_for(started, timeout=60), "no execution started"
    [execution] = started()
    rule = client("events", TOOLING).list_rule_names_by_target(
        TargetArn=f"arn:aws:codepipeline:us-east-1:{TOOLING}:{PIPELINE}")["RuleNames"]
    assert len(rule) == 1
    assert execution["trigger"]["triggerType"] == "CloudWatchEvent"
    assert execution["trigger"]["triggerDetail"] == f"arn:aws:events:us-east-1:{TOOLING}:rule/{rule[0]}"
    _, answer = control(aws, f"/rules/{rule[0]}?account={TOOLING}")
    [delivery] = answer["deliveries"]
    assert delivery["status"] == "Invoked" and delivery["execution_id"] == execution["pipelineExecutionId"]
    cp.stop_pipeline_execution(pipelineName=PIPELINE, pipelineExecutionId=execution["pipelineExecutionId"],
                               abandon=True)  # the build itself is another test's (tests/engine)

    def source_revision() -> str | None:
        found = cp.get_pipeline_execution(pipelineName=PIPELINE,
                                          pipelineExecutionId=execution["pipelineExecutionId"])["pipelineExecution"]
        revisions = found.get("artifactRevisions") or []
        return revisions[0]["revisionId"] if revisions else None

    revision = wait_for(source_revision, timeout=30)
    # the uploaded object: its version when the bucket is versioned, else its ETag
    assert revision in (put.get("VersionId"), put["ETag"].strip('"')), revision
    assert wait_for(lambda: started()[0]["status"] != "InProgress", timeout=60)
