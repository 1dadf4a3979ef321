"""An EventBridge target that is a CodePipeline pipeline: StartPipelineExecution as the target's role.

EventBridge starts a pipeline with the target's `RoleArn`, which it assumes as `events.amazonaws.com`
(the role's trust policy must allow it; EventBridge passes `aws:SourceAccount`, the rule's account), and
the role must be allowed `codepipeline:StartPipelineExecution` on the pipeline. Here the emulator does the
same: the session comes from `execrole.service_session` (trust enforced) and the call is a signed call to
the emulator's own endpoint, so the IAM layer decides it and the IAM report counts it. The call carries
`X-Emulator-Events` (JSON: the rule's ARN and the event), the contract with `codepipeline_layer`: the
execution's trigger is `CloudWatchEvent` with the rule's ARN as its detail (as CodePipeline reports an
EventBridge start), and an S3 source action on the event's bucket and key runs on the event's object version.
"""

from __future__ import annotations

import json
from typing import Any

HEADER = "X-Emulator-Events"


def start(rule: Any, target: dict[str, Any], payload: dict[str, Any], record: dict[str, Any]) -> str | None:
    """Start the target pipeline; None when it started (its id in `record`), else the failure's reason."""
    from botocore.exceptions import ClientError

    from pipeline.local import execrole
    from pipeline.local.codebuild_run import ServiceClients

    parts = str(target.get("Arn", "")).split(":")
    if len(parts) != 6 or not parts[5]:
        return f"{target.get('Arn')}: not a CodePipeline pipeline ARN"
    region, name = parts[3], parts[5]
    role = str(target.get("RoleArn") or "")
    if not role:
        return "a CodePipeline target needs a RoleArn: EventBridge starts the pipeline as that role"
    session = execrole.service_session(role, "events.amazonaws.com", f"events-{payload.get('id', '')[:20]}",
                                       region, source_account=rule.account_id)
    if session is None:
        return (f"EventBridge could not assume {role}: its trust policy must let events.amazonaws.com "
                "assume it")
    client = ServiceClients(session.environment(), region).client("codepipeline")
    header = json.dumps({"rule": rule.arn, "event": payload}, default=str)

    def add_header(request: Any, **_: Any) -> None:
        request.headers[HEADER] = header

    client.meta.events.register("before-sign.codepipeline.StartPipelineExecution", add_header)
    try:
        answer = client.start_pipeline_execution(name=name)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'Error')}: {error.get('Message', exc)}"
    record["execution_id"] = answer["pipelineExecutionId"]
    return None


def source_versions(structure: dict[str, Any], event: dict[str, Any]) -> dict[str, str]:
    """{S3 source action name: object version} for the actions reading the object an S3 event names."""
    detail = event.get("detail") or {}
    bucket = (detail.get("bucket") or {}).get("name")
    obj = detail.get("object") or {}
    if event.get("source") != "aws.s3" or not obj.get("version-id"):
        return {}
    pinned = {}
    for stage in structure.get("stages", []):
        for action in stage.get("actions", []):
            kind = action.get("actionTypeId") or {}
            config = action.get("configuration") or {}
            if (kind.get("category"), kind.get("provider")) == ("Source", "S3") and \
                    config.get("S3Bucket") == bucket and config.get("S3ObjectKey") == obj.get("key"):
                pinned[action["name"]] = str(obj["version-id"])
    return pinned
