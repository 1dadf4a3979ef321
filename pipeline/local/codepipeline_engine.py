"""Run a CodePipeline execution as CodePipeline V2 does: stage after stage, QUEUED, as the pipeline's role.

Each execution runs in its own thread; a pipeline runs one at a time (ExecutionMode QUEUED: the next
waits, InProgress, until the one before has ended). Within a stage, actions run by runOrder (one action
after the other within a runOrder here: not modelled in parallel). Every call CodePipeline itself makes
is a signed call to the emulator's endpoint with a session of the pipeline's service role (assumed as
codepipeline.amazonaws.com), so the IAM layer decides each and the IAM report counts them:
- Source / S3: GetObject of the source object (of the version an S3 event or StartPipelineExecution's
  sourceRevisions named, else the newest), PutObject of it into the artifact store
  (`<pipeline[:20]>/<artifact[:20]>/<key>`); variables BucketName, ObjectKey, VersionId, ETag.
- Build / CodeBuild: StartBuild of the project with the action's resolved EnvironmentVariables and the
  input artifact (`X-Emulator-Codepipeline`, the contract with `codebuild_layer`), BatchGetBuilds until it
  ends; the build's exported variables are the action's output variables.
- Approval / Manual: waits for PutApprovalResult with its token (`codepipeline_layer`), at most the action's
  `timeoutInMinutes` (V2) or 7 days on the emulator's clock (`approval_timeout_s`); then it fails.
`#{codepipeline.PipelineExecutionId}` and `#{<namespace>.<variable>}` are resolved in every action's
configuration before it runs; a variable that cannot be resolved fails the action. A failed action fails
its stage and the execution: later stages never start. Not modelled: transitions disabled, retries,
rollbacks, stage conditions, other action providers (they fail).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from typing import Any

from pipeline.local import codepipeline_runs, execrole
from pipeline.local.codebuild_run import ServiceClients
from pipeline.local.codepipeline_runs import LOCK, ActionRun, Execution

POLL_S = 0.05
APPROVAL_TIMEOUT_MINUTES = 7 * 24 * 60  # "within seven days" (CodePipeline's user guide, approvals)
_VARIABLE = re.compile(r"#\{([A-Za-z0-9@_-]+)\.([A-Za-z0-9@_-]+)\}")
_QUEUES: dict[tuple[str, str, str], threading.Lock] = {}


class ActionFailed(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def structure(account: str, region: str, name: str) -> dict[str, Any] | None:
    from moto.codepipeline.models import codepipeline_backends

    found = codepipeline_backends[account][region].pipelines.get(name)
    return found.pipeline if found is not None else None


def start(account: str, region: str, name: str, trigger: dict[str, str],
          pinned: dict[str, str] | None = None) -> Execution:
    """A new execution (queued behind the running one); `pinned`: source action -> S3 object version to read."""
    declared = structure(account, region, name)
    assert declared is not None
    execution = Execution(account, region, name, int(declared.get("version", 1)), json.loads(json.dumps(declared)),
                          trigger, pinned=dict(pinned or {}))
    codepipeline_runs.add(execution)
    with LOCK:
        queue = _QUEUES.setdefault((account, region, name), threading.Lock())
    threading.Thread(target=_run, args=(execution, queue), daemon=True, name=f"codepipeline {execution.id}").start()
    return execution


def _run(execution: Execution, queue: threading.Lock) -> None:
    with queue:
        try:
            _stages(execution)
        except Exception as exc:  # an emulator fault ends the execution Failed, never InProgress forever
            _end(execution, "Failed", f"emulator: {type(exc).__name__}: {exc}")


def _stages(execution: Execution) -> None:
    if execution.stop_requested:
        _end(execution, "Stopped", "stopped before it started")
        return
    execution.running = True
    role = execution.structure.get("roleArn", "")
    session = execrole.service_session(role, "codepipeline.amazonaws.com", execution.id, execution.region,
                                       source_account=execution.account)
    if session is None:
        _end(execution, "Failed", f"CodePipeline is not authorized to perform AssumeRole on role {role}")
        return
    clients = ServiceClients(session.environment(), execution.region)
    artifacts: dict[str, dict[str, str]] = {}
    for stage in execution.structure.get("stages", []):
        with LOCK:
            execution.stages[stage["name"]] = "InProgress"
        failed = _stage(execution, stage, clients, artifacts)
        with LOCK:
            execution.stages[stage["name"]] = "Stopped" if execution.stop_requested else (
                "Failed" if failed else "Succeeded")
        if failed or execution.stop_requested:
            status = "Stopped" if execution.stop_requested else "Failed"
            _end(execution, status, failed or "stopped")
            return
    _end(execution, "Succeeded", None)


def _end(execution: Execution, status: str, summary: str | None) -> None:
    with LOCK:
        execution.status, execution.summary, execution.updated = status, summary, time.time()


def _stage(execution: Execution, stage: dict[str, Any], clients: ServiceClients,
           artifacts: dict[str, dict[str, str]]) -> str | None:
    """None when every action succeeded; else the failed action's summary."""
    for order in sorted({int(a.get("runOrder", 1)) for a in stage.get("actions", [])}):
        for action in [a for a in stage["actions"] if int(a.get("runOrder", 1)) == order]:
            run = ActionRun(stage["name"], action["name"], action)
            with LOCK:
                execution.actions.append(run)
            try:
                run.resolved = _resolve(execution, action)
                run.input_artifacts = [{"name": a["name"], "s3location": _location(artifacts, a["name"])}
                                       for a in action.get("inputArtifacts") or []]
                _perform(execution, run, clients, artifacts)
                if action.get("namespace"):
                    execution.variables[action["namespace"]] = dict(run.output_variables)
                _finish(run, "Succeeded")
            except ActionFailed as failure:
                _finish(run, "Failed", summary=str(failure), error={"code": failure.code, "message": str(failure)})
                return f"{stage['name']}/{action['name']}: {failure}"
    return None


def _finish(run: ActionRun, status: str, *, summary: str | None = None, error: dict[str, str] | None = None) -> None:
    with LOCK:
        run.status, run.updated = status, time.time()
        if summary is not None:
            run.summary = summary
        if error is not None:
            run.error = error


def _location(artifacts: dict[str, dict[str, str]], name: str) -> dict[str, str]:
    if name not in artifacts:
        raise ActionFailed("JobFailed", f"input artifact {name} was not produced by an earlier action")
    return {"bucket": artifacts[name]["bucket"], "key": artifacts[name]["key"]}


def _resolve(execution: Execution, action: dict[str, Any]) -> dict[str, str]:
    missing: list[str] = []

    def value(match: re.Match[str]) -> str:
        namespace, name = match.group(1), match.group(2)
        if namespace == "codepipeline" and name == "PipelineExecutionId":
            return execution.id
        found = execution.variables.get(namespace, {}).get(name)
        if found is None:
            missing.append(match.group(0))
            return match.group(0)
        return found

    resolved = {k: _VARIABLE.sub(value, str(v)) for k, v in (action.get("configuration") or {}).items()}
    if missing:
        raise ActionFailed("ConfigurationError", f"Unable to resolve variable(s) {', '.join(missing)} in the action's "
                                                 "configuration")
    return resolved


def _perform(execution: Execution, run: ActionRun, clients: ServiceClients,
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
    for artifact in outputs:
        artifacts[artifact["name"]] = {"bucket": artifact["bucket"], "key": artifact["key"]}
    if build["buildStatus"] != "SUCCEEDED":
        failed = next((p for p in build.get("phases", []) if p.get("phaseStatus") not in (None, "SUCCEEDED")), {})
        context = (failed.get("contexts") or [{}])[0]
        raise ActionFailed("JobFailed", f"Build terminated with state: {build['buildStatus']}. Phase: "
                                        f"{failed.get('phaseType', '?')}, Code: {context.get('statusCode', '?')}, "
                                        f"Message: {context.get('message', '')}")


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
