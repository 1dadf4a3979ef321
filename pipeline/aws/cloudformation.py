"""The CloudFormation adapter: typed reads of stacks and change sets, and the thin write calls.

No decisions here: `pipeline.engine.stacks.StackEngine` decides what to call and in what order;
this module only speaks the API (pagination, the two "nothing to change" answers, missing stacks).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from pipeline.aws.errors import error_code, error_message
from pipeline.core.stacks import TAG_VERSION, Health, StackEvent, StackSpec, classify, is_empty_change_set


@dataclass(frozen=True)
class StackState:
    name: str
    stack_id: str
    status: str
    outputs: dict[str, str]
    tags: dict[str, str]
    parameters: dict[str, str]
    termination_protection: bool
    reason: str = ""

    @property
    def health(self) -> Health:
        return classify(self.status)

    @property
    def version(self) -> str | None:
        return self.tags.get(TAG_VERSION)

    @classmethod
    def from_api(cls, raw: dict[str, Any]) -> StackState:
        return cls(name=raw["StackName"], stack_id=raw["StackId"], status=raw["StackStatus"],
                   outputs={o["OutputKey"]: o.get("OutputValue", "") for o in raw.get("Outputs", []) or []},
                   tags={t["Key"]: t["Value"] for t in raw.get("Tags", []) or []},
                   parameters={p["ParameterKey"]: p.get("ParameterValue", "") for p in raw.get("Parameters", []) or []},
                   termination_protection=bool(raw.get("EnableTerminationProtection")),
                   reason=str(raw.get("StackStatusReason") or ""))


def _missing(exc: ClientError) -> bool:
    return error_code(exc) == "ValidationError" and "does not exist" in error_message(exc)


class Stacks:
    """CloudFormation calls through one client (a RetryingClient or a raw boto3 client)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def describe(self, name: str) -> StackState | None:
        """The stack's current state, or None when there is no such (live) stack."""
        try:
            stacks = self.client.describe_stacks(StackName=name)["Stacks"]
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        if not stacks or stacks[0]["StackStatus"] == "DELETE_COMPLETE":
            return None
        return StackState.from_api(stacks[0])

    def events_since(self, stack: str, since: datetime | None) -> list[StackEvent]:
        """Events newer than `since` (all of the first page when None), oldest first."""
        raw = self.client.describe_stack_events(StackName=stack).get("StackEvents", [])
        events = [StackEvent.from_api(e) for e in raw]
        if since is not None:
            events = [e for e in events if e.timestamp >= since]
        return sorted(events, key=lambda e: e.timestamp)

    def template(self, stack_id: str) -> Any:
        """The deployed template as CloudFormation returns it (botocore parses JSON bodies into dicts)."""
        return self.client.get_template(StackName=stack_id, TemplateStage="Original").get("TemplateBody")

    def create_change_set(self, spec: StackSpec, name: str, kind: str) -> str | None:
        """The new change set's stack id; None when CloudFormation answers that nothing would change
        (the emulator's form: a ValidationError on create)."""
        # ClientToken = the change set's own (unique) name: a retry after a lost answer is the same call
        params: dict[str, Any] = {"StackName": spec.name, "ChangeSetName": name, "ChangeSetType": kind,
                                  "TemplateBody": spec.body, "Parameters": spec.cfn_parameters(),
                                  "Tags": spec.cfn_tags(), "Capabilities": list(spec.capabilities),
                                  "ClientToken": name}
        if spec.role_arn:
            params["RoleARN"] = spec.role_arn
        try:
            created = self.client.create_change_set(**params)
        except ClientError as exc:
            if kind == "UPDATE" and error_code(exc) == "ValidationError" and is_empty_change_set(error_message(exc)):
                return None
            raise
        return str(created.get("StackId", spec.name))

    def describe_change_set(self, stack: str, name: str) -> dict[str, Any]:
        """The first page of a DescribeChangeSet answer."""
        return dict(self.client.describe_change_set(StackName=stack, ChangeSetName=name))

    def more_changes(self, stack: str, name: str, token: str | None) -> list[dict[str, Any]]:
        """The Changes on the pages after the first (none when `token` is empty)."""
        changes: list[dict[str, Any]] = []
        while token:
            page = self.client.describe_change_set(StackName=stack, ChangeSetName=name, NextToken=token)
            changes += page.get("Changes", [])
            token = page.get("NextToken")
        return changes

    def execute_change_set(self, stack: str, name: str) -> None:
        """Retried (lost answer, throttling) with the same token, CloudFormation runs it once."""
        self.client.execute_change_set(StackName=stack, ChangeSetName=name, ClientRequestToken=f"exec-{name}")

    def delete_change_set(self, stack: str, name: str) -> None:
        self.client.delete_change_set(StackName=stack, ChangeSetName=name)

    def delete_stack(self, stack_id: str) -> None:
        self.client.delete_stack(StackName=stack_id)

    def continue_update_rollback(self, name: str, token: str) -> None:
        self.client.continue_update_rollback(StackName=name, ClientRequestToken=token)

    def set_termination_protection(self, name: str, enabled: bool) -> bool:
        """False when the endpoint has no such API (it answers with a non-AWS body: the emulator's 500 page)."""
        try:
            self.client.update_termination_protection(StackName=name, EnableTerminationProtection=enabled)
        except ResponseParserError:
            return False
        return True
