"""What each CodePipeline action provider does in the emulator, as the pipeline's role (`codepipeline_engine`
runs the stages and hands each action here with clients of the pipeline role's session).

- Source / S3: GetObject of the source object (of the version an S3 event or StartPipelineExecution's
  sourceRevisions named, else the newest), PutObject of it into the artifact store
  (`<pipeline[:20]>/<artifact[:20]>/<key>`); variables BucketName, ObjectKey, VersionId, ETag.
- Build / CodeBuild (and Test / CodeBuild): StartBuild of the project with the action's resolved
  EnvironmentVariables and the input artifact (`X-Emulator-Codepipeline`, the contract with
  `codebuild_layer`), BatchGetBuilds until it ends; the build's exported variables are the action's output
  variables.
- Approval / Manual: waits for PutApprovalResult with its token (`codepipeline_layer`), at most the action's
  `timeoutInMinutes` (V2) or 7 days on the emulator's clock (`approval_timeout_s`); then it fails.
A provider the emulator does not run fails its action (ActionFailed, JobFailed).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from pipeline.local.codebuild_run import ServiceClients
from pipeline.local.codepipeline_runs import LOCK, ActionRun, Execution

POLL_S = 0.05
APPROVAL_TIMEOUT_MINUTES = 7 * 24 * 60  # "within seven days" (CodePipeline's user guide, approvals)


class ActionFailed(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def perform(execution: Execution, run: ActionRun, clients: ServiceClients,
             artifacts: dict[str, dict[str, str]]) -> None:
    kind = run.declaration["actionTypeId"]
    provider = f"{kind['category']}/{kind['provider']}"
    if provider == "Source/S3":
        _source(execution, run, clients, artifacts)
    elif provider in ("Build/CodeBuild", "Test/CodeBuild"):
        _build(execution, run, clients, artifacts)
    elif provider == "Approval/Manual":
        _approval(execution, run)
    else:
        raise ActionFailed("JobFailed", f"action provider {provider} is not run by the emulator's CodePipeline")


def _store_key(execution: Execution, artifact: str) -> dict[str, str]:
    store = execution.structure.get("artifactStore") or {}
    return {"bucket": store.get("location", ""),
            "key": f"{execution.pipeline[:20]}/{artifact[:20]}/{uuid.uuid4().hex[:7]}"}


def _source(execution: Execution, run: ActionRun, clients: ServiceClients,
            artifacts: dict[str, dict[str, str]]) -> None:
    from botocore.exceptions import ClientError

    config = run.resolved
    s3 = clients.client("s3")
    try:
        version = execution.pinned.get(run.action)  # the version an S3 event (or sourceRevisions) named
        got = s3.get_object(Bucket=config["S3Bucket"], Key=config["S3ObjectKey"],
                            **({"VersionId": version} if version else {}))
        body = got["Body"].read()
        outputs = []
        for artifact in run.declaration.get("outputArtifacts") or []:
            where = _store_key(execution, artifact["name"])
            s3.put_object(Bucket=where["bucket"], Key=where["key"], Body=body)
            artifacts[artifact["name"]] = where
            outputs.append({"name": artifact["name"], "s3location": where})
    except ClientError as exc:
        raise ActionFailed("JobFailed", str(exc)) from None
    version = got.get("VersionId") or ""
    etag = str(got.get("ETag", "")).strip('"')
    run.output_artifacts = outputs
    run.output_variables = {"BucketName": config["S3Bucket"], "ObjectKey": config["S3ObjectKey"],
                            "VersionId": version, "ETag": etag}
    run.summary = f"Amazon S3 version id: {version}" if version else f"Amazon S3 ETag: {etag}"
    with LOCK:
        execution.revisions.append({"actionName": run.action, "revisionId": version or etag,
                                    "revisionSummary": run.summary})


def _build(execution: Execution, run: ActionRun, clients: ServiceClients,
           artifacts: dict[str, dict[str, str]]) -> None:
    from botocore.exceptions import ClientError

    config = run.resolved
    outputs = [{"name": a["name"], **_store_key(execution, a["name"])} for a in run.declaration.get("outputArtifacts")
               or []]
    header = json.dumps({"pipeline": execution.pipeline, "executionId": execution.id, "stage": run.stage,
                         "action": run.action, "actionExecutionId": run.id,
                         "inputArtifacts": [{"name": a["name"], **a["s3location"]} for a in run.input_artifacts],
                         "outputArtifacts": outputs})
    codebuild = clients.client("codebuild")

    def add_header(request: Any, **_: Any) -> None:
        request.headers["X-Emulator-Codepipeline"] = header

    codebuild.meta.events.register("before-sign.codebuild.StartBuild", add_header)
    variables = json.loads(config.get("EnvironmentVariables") or "[]")
    try:
        build_id = codebuild.start_build(projectName=config["ProjectName"],
                                         environmentVariablesOverride=variables)["build"]["id"]
        run.external_id = build_id
        while True:
            if execution.stop_requested:
                codebuild.stop_build(id=build_id)
            build = codebuild.batch_get_builds(ids=[build_id])["builds"][0]
            if build["buildComplete"]:
                break
            time.sleep(POLL_S)
    except ClientError as exc:
        raise ActionFailed("JobFailed", str(exc)) from None
    run.output_variables = {v["name"]: v["value"] for v in build.get("exportedEnvironmentVariables") or []}
    if build["buildStatus"] != "SUCCEEDED":
        failed = next((p for p in build.get("phases", []) if p.get("phaseStatus") not in (None, "SUCCEEDED")), {})
        context = (failed.get("contexts") or [{}])[0]
        raise ActionFailed("JobFailed", f"Build terminated with state: {build['buildStatus']}. Phase: "
                                        f"{failed.get('phaseType', '?')}, Code: {context.get('statusCode', '?')}, "
                                        f"Message: {context.get('message', '')}")
    for artifact in outputs:  # CodeBuild uploaded them (UPLOAD_ARTIFACTS): later actions read them there
        where = {"bucket": artifact["bucket"], "key": artifact["key"]}
        artifacts[artifact["name"]] = where
        run.output_artifacts.append({"name": artifact["name"], "s3location": where})


def approval_timeout_s(declaration: dict[str, Any]) -> float:
    """How long a manual approval waits, on the emulator's clock: the V2 action's `timeoutInMinutes`, else
    CodePipeline's 7 days; one minute is timing's `events.minute` (60 s under `aws`, 0.5 s under `instant`)."""
    from pipeline.local import timing

    return _approval_minutes(declaration) * timing.active().window("events.minute")


def _approval_minutes(declaration: dict[str, Any]) -> int:
    return int(declaration.get("timeoutInMinutes") or APPROVAL_TIMEOUT_MINUTES)


def _approval(execution: Execution, run: ActionRun) -> None:
    minutes = _approval_minutes(run.declaration)
    deadline = time.monotonic() + approval_timeout_s(run.declaration)
    with LOCK:
        run.token = str(uuid.uuid4())
        while run.status == "InProgress" and not execution.stop_requested:
            left = deadline - time.monotonic()
            if left <= 0:  # nobody answered: the action fails and its token is no longer valid
                run.expired, run.status = True, "Failed"
                raise ActionFailed("JobFailed", f"Approval timed out: no response within {minutes} minutes")
            execution.approved.wait(timeout=min(1.0, left))
        if run.status == "Failed":
            raise ActionFailed("JobFailed", run.summary or "Rejected")
        if execution.stop_requested and run.status == "InProgress":
            raise ActionFailed("JobFailed", "the execution was stopped")
