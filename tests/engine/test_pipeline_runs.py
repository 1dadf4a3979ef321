"""The product's own CodePipeline, bootstrapped by `bootstrap --tooling`, run for real on the emulator through
`pipeline pipeline run|approve|show` with IAM enforced: the operator packs the committed repository and
uploads it, the upload's S3 event starts the execution (EventBridge rule, as its role), Build (the
repository's buildspec.yml in the emulator's CodeBuild, as the CodeBuild role) -> Deploy-dev -> Deploy-test
-> the approval, answered by the operator as themselves -> Deploy-prod; the ledger names the builds and the
approver, and the promote action's `--approval-from-pipeline` refuses an approval for another execution or
another artifact. A rejected approval never touches prod."""

from __future__ import annotations

import io
import zipfile

import pytest
from helpers import as_codepipeline
from pipeline_world import OPERATOR, pipeline_json, rows

pytestmark = pytest.mark.emulator


def test_one_execution_source_to_prod_with_the_operators_approval(operated, built, monkeypatch):
    w = operated
    code, doc, err = pipeline_json(w, "run", "--until-approval", "--timeout", "600")
    assert code == 0, err
    assert "started by that upload" in err  # the S3 event started it, not the CLI
    execution, actions = doc["execution"], rows(doc)
    assert doc["status"] == "InProgress" and doc["waiting_for"] == {"stage": "Deploy-prod", "action": "Approve-prod"}
    assert [a["status"] for a in doc["actions"]] == ["Succeeded"] * 4 + ["InProgress"]
    sha12 = actions["Build/Build"]["detail"].split("ARTIFACT_SHA=")[1][:12]
    assert "2/2 smoke checks passed for " + sha12 in actions["Deploy-test/Promote-test"]["detail"]
    assert w.ledger("prod") == []  # nothing in prod before the approval

    # the operator, as themselves: refused for another execution or another artifact, then approved
    code, _, err = pipeline_json(w, "approve", "--stage", "prod", "--execution", "0000-another-execution")
    assert code == 3 and f"waits in execution {execution}" in err
    code, _, err = pipeline_json(w, "approve", "--stage", "prod", "--artifact", "f" * 64)
    assert code == 3 and "another artifact" in err
    code, approved, err = pipeline_json(w, "approve", "--stage", "prod", "--reason", "release 1",
                                        "--execution", execution, "--artifact", sha12)
    assert code == 0, err
    assert approved["approver"] == OPERATOR and sha12 in approved["message"]

    code, doc, err = pipeline_json(w, "show", "--follow", "--timeout", "600")
    assert code == 0, err
    assert doc["execution"] == execution and doc["status"] == "Succeeded"
    actions = rows(doc)
    assert actions["Deploy-prod/Approve-prod"]["detail"] == f"approved by {OPERATOR}; release 1"
    prod = w.ledger("prod")[-1]
    assert prod["outcome"] == "PASSED" and prod["artifact"].startswith(sha12) and not prod["dirty"]
    assert prod["approval"] == {"approver": OPERATOR, "reason": "release 1"}
    assert prod["build_id"] == actions["Deploy-prod/Promote-prod"]["detail"].split(";")[0]
    board = _board_artifact(execution, "Deploy-prod", "Promote-prod")  # the action's output artifact Board-prod
    assert "<svg" in board and sha12 in board
    history = w.ok("history", "--env", "prod")
    assert f"approved by {OPERATOR}: release 1" in history and f"build {prod['build_id']}" in history

    # the promote action's approval read, against this real approval: another artifact or execution is refused
    other = w.stage(built)  # staged too, but not what the approver was asked about
    monkeypatch.setenv("CODEPIPELINE_EXECUTION_ID", execution)
    code, _, err = w.cli("promote", "--to", "prod", "--artifact", other, "--approval-from-pipeline")
    assert code == 3 and f"did not name artifact {other[:12]}" in err, err
    monkeypatch.setenv("CODEPIPELINE_EXECUTION_ID", "another-execution")
    code, _, err = w.cli("promote", "--to", "prod", "--artifact", prod["artifact"], "--approval-from-pipeline")
    assert code == 3 and f"belongs to pipeline execution {execution}" in err, err
    assert len(w.ledger("prod")) == 2  # neither refusal wrote to prod's ledger


def _board_artifact(execution: str, stage: str, action: str) -> str:
    """The page in an action's output artifact, read from the pipeline's artifact store as the pipeline's role (the
    key admits the pipeline's roles only; the operator may list the action executions, not read the store)."""
    import boto3

    from pipeline.local.authz import org

    operator = org.credentials("operator")
    details = boto3.client("codepipeline", region_name="us-east-1", aws_access_key_id=operator["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=operator["AWS_SECRET_ACCESS_KEY"]).list_action_executions(
        pipelineName="greeter-pipeline", filter={"pipelineExecutionId": execution})["actionExecutionDetails"]
    detail = next(d for d in details if d["stageName"] == stage and d["actionName"] == action)
    [artifact] = detail["output"]["outputArtifacts"]
    assert artifact["name"] == "Board-prod"
    where = artifact["s3location"]
    body = as_codepipeline("s3").get_object(Bucket=where["bucket"], Key=where["key"])["Body"].read()
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return archive.read("board.html").decode()


def test_a_rejected_approval_ends_the_execution_and_prod_is_never_touched(operated):
    w = operated
    code, doc, err = pipeline_json(w, "run", "--until-approval", "--timeout", "600")
    assert code == 0, err
    code, _, err = pipeline_json(w, "approve", "--stage", "prod", "--reject", "--reason", "not today")
    assert code == 0, err
    code, doc, err = pipeline_json(w, "show", "--follow", "--timeout", "120")
    assert code == 1 and "Failed at Deploy-prod/Approve-prod" in err, err
    actions = rows(doc)
    assert actions["Deploy-prod/Approve-prod"]["detail"].startswith(f"rejected by {OPERATOR}; not today")
    assert "Deploy-prod/Promote-prod" not in actions
    assert w.ledger("prod") == []
