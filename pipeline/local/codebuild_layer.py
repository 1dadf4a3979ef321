"""CodeBuild's build calls, answered by the emulator's builds instead of moto's (which run nothing).

StartBuild starts a real build (`codebuild_run`, one thread each) of a project moto holds (CreateProject
and the CloudFormation provider stay moto's); BatchGetBuilds, ListBuildsForProject, ListBuilds and StopBuild
answer from `codebuild_builds`. The layer sits inside the IAM layer, so the caller was authorized first.
A StartBuild that carries `X-Emulator-Codepipeline` (JSON: pipeline, executionId, inputArtifacts...) is one
the emulator's CodePipeline made: its initiator is `codepipeline/<pipeline>` and its primary source that
pipeline's input artifact, as CodePipeline's CodeBuild action passes it.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from pipeline.local import codebuild_builds, codebuild_run, json_call
from pipeline.local.codebuild_builds import Build
from pipeline.local.json_call import error as _error

TARGET = "CodeBuild_20161006."
OURS = ("StartBuild", "BatchGetBuilds", "ListBuildsForProject", "ListBuilds", "StopBuild")
PIPELINE_HEADER = "X-Emulator-Codepipeline"
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def layer(app: WsgiApp) -> WsgiApp:
    def handle(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        call = json_call.read(environ, TARGET, OURS)
        if call is None:
            return app(environ, start_response)
        try:
            status, answer = _answer(call, call.params())
        except (ValueError, KeyError, TypeError) as exc:
            status, answer = "400 Bad Request", _error("InvalidInputException", f"{type(exc).__name__}: {exc}")
        return json_call.answer(start_response, status, answer)

    return handle


def _answer(call: json_call.JsonCall, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    operation, account, region = call.operation, call.account, call.region
    if operation == "StartBuild":
        return _start(params, account, region, call.header(PIPELINE_HEADER), call)
    if operation == "BatchGetBuilds":
        ids = list(params["ids"])
        found = {i: codebuild_builds.get(account, region, i) for i in ids}
        return "200 OK", {"builds": [b.to_api() for b in found.values() if b is not None],
                          "buildsNotFound": [i for i, b in found.items() if b is None]}
    if operation in ("ListBuildsForProject", "ListBuilds"):
        project = params.get("projectName") if operation == "ListBuildsForProject" else None
        if project is not None and _project(account, region, project) is None:
            return "400 Bad Request", _error("ResourceNotFoundException", f"The provided project arn:aws:codebuild:"
                                             f"{region}:{account}:project/{project} does not exist")
        builds = codebuild_builds.of_project(account, region, project)
        if params.get("sortOrder") == "ASCENDING":
            builds.reverse()
        return "200 OK", {"ids": [b.id for b in builds]}
    build = codebuild_builds.get(account, region, str(params["id"]))  # StopBuild
    if build is None:
        return "400 Bad Request", _error("ResourceNotFoundException", f"Build {params['id']} does not exist")
    build.stop_requested = True
    if build.runner is not None:
        build.runner.stop()
    return "200 OK", {"build": build.to_api()}


def _project(account: str, region: str, name: str) -> Any:
    from moto.codebuild.models import codebuild_backends

    project = codebuild_backends[account][region].codebuild_projects.get(name.rsplit("/", 1)[-1])
    return project.project_metadata if project is not None else None


def _start(params: dict[str, Any], account: str, region: str, pipeline_header: str | None,
           call: json_call.JsonCall) -> tuple[str, dict[str, Any]]:
    name = str(params["projectName"])
    project = _project(account, region, name)
    if project is None:
        return "400 Bad Request", _error("ResourceNotFoundException", f"Project cannot be found: arn:aws:codebuild:"
                                         f"{region}:{account}:project/{name}")
    pipeline = json.loads(pipeline_header) if pipeline_header else None
    source = dict(project.get("source") or {})
    if params.get("sourceTypeOverride"):
        source["type"] = params["sourceTypeOverride"]
    if params.get("sourceLocationOverride"):
        source["location"] = params["sourceLocationOverride"]
    if params.get("buildspecOverride"):
        source["buildspec"] = params["buildspecOverride"]
    if source.get("type") == "CODEPIPELINE" and pipeline is None:
        return "400 Bad Request", _error("InvalidInputException", "Source type CODEPIPELINE builds are started by "
                                         "CodePipeline; give sourceTypeOverride to start one directly")
    logs = ((project.get("logsConfig") or {}).get("cloudWatchLogs") or {})
    default_group = f"/aws/codebuild/{project['name']}"
    log_group = None if logs.get("status") == "DISABLED" else logs.get("groupName") or default_group
    # who started it, as CodeBuild names them: the user's or the assumed role session's name
    initiator = f"codepipeline/{pipeline['pipeline']}" if pipeline else call.caller_arn().split(":", 5)[-1]
    build = Build(account=account, region=region, project=project["name"], uuid=str(uuid.uuid4()),
                  number=codebuild_builds.next_number(account, region, project["name"]), initiator=initiator,
                  service_role=str(params.get("serviceRoleOverride") or project["serviceRole"]), source=source,
                  environment=dict(project.get("environment") or {}), log_group=log_group,
                  timeout_minutes=int(params.get("timeoutInMinutesOverride") or project.get("timeoutInMinutes") or 60),
                  queued_timeout_minutes=int(params.get("queuedTimeoutInMinutesOverride")
                                             or project.get("queuedTimeoutInMinutes") or 480))
    build.enter("SUBMITTED")
    codebuild_builds.add(build)
    overrides = list(params.get("environmentVariablesOverride") or [])
    merged = {**project, "source": source}
    threading.Thread(target=codebuild_run.run, args=(build, overrides, merged, pipeline), daemon=True,
                     name=f"codebuild {build.id}").start()
    return "200 OK", {"build": build.to_api()}
