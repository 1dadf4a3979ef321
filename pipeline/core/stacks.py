"""Pure CloudFormation knowledge: what a stack should look like, and what its status means.

No AWS calls here: the adapter (`pipeline.aws.cloudformation`) reads stacks and the engine
(`pipeline.engine.stacks`) decides what to do from the classification.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

TAG_VERSION = "pipeline:bootstrap-version"
TAG_KIND = "pipeline:kind"
TAG_ENV = "pipeline:env"
CAPABILITIES = ("CAPABILITY_NAMED_IAM",)
GUARDED_TYPES = ("AWS::Lambda::Function",)

# The two messages CloudFormation uses for "this change set changes nothing".
_EMPTY_REASONS = ("didn't contain changes", "did not contain changes", "no updates are to be performed")


@dataclass(frozen=True)
class Poll:
    """Poll interval: `first`, multiplied by `factor` after each look, capped at `cap` seconds."""

    first: float = 0.2
    factor: float = 1.5
    cap: float = 5.0
    timeout: float = 3600.0


class Health(str, enum.Enum):
    """What a stack status means for a deploy."""

    ABSENT = "absent"  # no stack (or DELETE_COMPLETE)
    HEALTHY = "healthy"  # can be updated
    IN_PROGRESS = "in-progress"  # wait for it
    STUCK_RECREATE = "stuck-recreate"  # must be deleted and created again
    STUCK_CONTINUE_ROLLBACK = "stuck-continue-rollback"  # needs continue_update_rollback
    FAILED = "failed"  # needs a person


_HEALTHY = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
                      "IMPORT_ROLLBACK_COMPLETE"})
_RECREATE = frozenset({"ROLLBACK_COMPLETE", "CREATE_FAILED", "REVIEW_IN_PROGRESS", "ROLLBACK_FAILED"})
_SUCCESS = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})


def classify(status: str | None) -> Health:
    if status is None or status == "DELETE_COMPLETE":
        return Health.ABSENT
    if status in _RECREATE:
        return Health.STUCK_RECREATE
    if status == "UPDATE_ROLLBACK_FAILED":
        return Health.STUCK_CONTINUE_ROLLBACK
    if status in _HEALTHY:
        return Health.HEALTHY
    if status.endswith("_IN_PROGRESS"):
        return Health.IN_PROGRESS
    return Health.FAILED


def is_settled(status: str) -> bool:
    """No operation is running. REVIEW_IN_PROGRESS counts as running: right after a CREATE change set
    is executed the stack may still show it for a moment."""
    return not status.endswith("_IN_PROGRESS")


def is_success(status: str) -> bool:
    """An operation ended where it was meant to (not in a rollback or a failure)."""
    return status in _SUCCESS


def is_empty_change_set(reason: str | None) -> bool:
    """Both wordings AWS uses for a change set (or update) that changes nothing."""
    text = (reason or "").lower()
    return any(marker in text for marker in _EMPTY_REASONS)


@dataclass(frozen=True)
class StackSpec:
    """The desired state of one stack."""

    name: str
    body: str
    parameters: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    capabilities: tuple[str, ...] = CAPABILITIES
    role_arn: str | None = None  # CloudFormation service role, when the caller's own rights should not be used
    protect: bool = False  # termination protection; stuck-stack deletion and guarded replacement need force
    guarded_types: tuple[str, ...] = GUARDED_TYPES

    def cfn_parameters(self) -> list[dict[str, str]]:
        return [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(self.parameters.items())]

    def cfn_tags(self) -> list[dict[str, str]]:
        return [{"Key": k, "Value": v} for k, v in sorted(self.tags.items())]


def stack_tags(version: str, kind: str, env: str | None) -> dict[str, str]:
    """The tags every bootstrap stack carries; `version` is the rendered template's hash."""
    tags = {TAG_VERSION: version, TAG_KIND: kind}
    if env:
        tags[TAG_ENV] = env
    return tags


@dataclass(frozen=True)
class StackEvent:
    event_id: str
    timestamp: datetime
    logical_id: str
    resource_type: str
    status: str
    reason: str = ""

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> StackEvent:
        return cls(event_id=str(raw.get("EventId", "")), timestamp=raw["Timestamp"],
                   logical_id=str(raw.get("LogicalResourceId", "")), resource_type=str(raw.get("ResourceType", "")),
                   status=str(raw.get("ResourceStatus", "")), reason=str(raw.get("ResourceStatusReason") or ""))

    @property
    def is_stack(self) -> bool:
        return self.resource_type == "AWS::CloudFormation::Stack"

    @property
    def failed(self) -> bool:
        return self.status.endswith("_FAILED")

    def line(self) -> str:
        reason = f"  {self.reason}" if self.reason else ""
        return f"  {self.timestamp:%H:%M:%S} {self.logical_id} ({self.resource_type}) {self.status}{reason}"


def failures(events: Iterable[StackEvent]) -> list[StackEvent]:
    """Failed resources, oldest first: resource-level failures when any, else the stack's own."""
    failed = sorted((e for e in events if e.failed), key=lambda e: e.timestamp)
    resources = [e for e in failed if not e.is_stack]
    return resources or failed


def failure_lines(events: Sequence[StackEvent]) -> list[str]:
    return [f"{e.logical_id} ({e.resource_type}): {e.status}: {e.reason or 'no reason given'}"
            for e in failures(events)]
