"""Run a CodePipeline execution as CodePipeline V2 does: stage after stage, QUEUED, as the pipeline's role.

Each execution runs in its own thread; a pipeline runs one at a time (ExecutionMode QUEUED: the next
waits, InProgress, until the one before has ended). Within a stage, actions run by runOrder: the actions
of one runOrder in parallel (a thread each), the next runOrder once all of them ended; any failure fails
the stage. Every call CodePipeline itself makes is a signed call to the emulator's endpoint with a session
of the pipeline's service role (assumed as codepipeline.amazonaws.com, aws:SourceAccount the pipeline's
account), so the IAM layer decides each and the IAM report counts them; what each action provider does
(S3 source, CodeBuild, manual approval) is `codepipeline_actions`.
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
from typing import Any

from pipeline.local import codepipeline_runs, execrole
from pipeline.local.codebuild_run import ServiceClients
from pipeline.local.codepipeline_actions import ActionFailed, perform
from pipeline.local.codepipeline_runs import LOCK, ActionRun, Execution

_VARIABLE = re.compile(r"#\{([A-Za-z0-9@_-]+)\.([A-Za-z0-9@_-]+)\}")
_QUEUES: dict[tuple[str, str, str], threading.Lock] = {}

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
    """None when every action succeeded; else the first failed action's summary (in declaration order).
    Actions of one runOrder run in parallel, one thread each; the next runOrder starts once all have ended."""
    for order in sorted({int(a.get("runOrder", 1)) for a in stage.get("actions", [])}):
        group = [ActionRun(stage["name"], a["name"], a) for a in stage["actions"] if int(a.get("runOrder", 1)) == order]
        with LOCK:
            execution.actions.extend(group)
        failures = _parallel(execution, group, clients, artifacts)
        failed = next((f for f in failures if f), None)
        if failed:
            return failed
    return None


def _parallel(execution: Execution, group: list[ActionRun], clients: ServiceClients,
              artifacts: dict[str, dict[str, str]]) -> list[str | None]:
    """Each action's result (`_action`), the actions run at once, a thread each (one action: in this thread)."""
    failures: list[str | None] = [None] * len(group)

    def one(index: int, run: ActionRun) -> None:
        failures[index] = _action(execution, run, clients, artifacts)

    if len(group) == 1:
        one(0, group[0])
        return failures
    threads = [threading.Thread(target=one, args=(i, run), daemon=True, name=f"codepipeline {run.id}")
               for i, run in enumerate(group)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def _action(execution: Execution, run: ActionRun, clients: ServiceClients,
            artifacts: dict[str, dict[str, str]]) -> str | None:
    """Run one action to its end: None when it succeeded, else its stage/action: summary."""
    action = run.declaration
    try:
        run.resolved = _resolve(execution, action)
        with LOCK:
            run.input_artifacts = [{"name": a["name"], "s3location": _location(artifacts, a["name"])}
                                   for a in action.get("inputArtifacts") or []]
        perform(execution, run, clients, artifacts)
        if action.get("namespace"):
            with LOCK:
                execution.variables[action["namespace"]] = dict(run.output_variables)
        _finish(run, "Succeeded")
        return None
    except ActionFailed as failure:
        _finish(run, "Failed", summary=str(failure), error={"code": failure.code, "message": str(failure)})
        return f"{run.stage}/{run.action}: {failure}"
    except Exception as exc:  # an emulator fault fails this action (and so the execution), said in its summary
        message = f"emulator: {type(exc).__name__}: {exc}"
        _finish(run, "Failed", summary=message, error={"code": "JobFailed", "message": message})
        return f"{run.stage}/{run.action}: {message}"


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
