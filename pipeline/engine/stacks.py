"""The stack engine: create or update one stack through a change set, with diff, events and recovery.

deploy(spec) = look at the stack -> recover stuck states -> change set -> print diff -> (dry run:
delete it and stop) -> refuse guarded replacements -> execute -> stream events while polling ->
typed result or an error naming the failed resource and its reason. Polling starts at 0.2 s and backs off
to 5 s, with a deadline. Change sets carry a ClientToken and executions a ClientRequestToken, so a retried
call after a lost answer is the same call. The API calls themselves are the
adapter's (`pipeline.aws.cloudformation.Stacks`); the order and the decisions are here.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeline.aws.cloudformation import Stacks, StackState
from pipeline.core.changeset import ResourceChange, guarded_replacements, parse_changes, render_diff
from pipeline.core.stacks import (
    Health,
    Poll,
    StackEvent,
    StackSpec,
    failure_lines,
    failures,
    is_empty_change_set,
    is_settled,
    is_success,
)
from pipeline.errors import PipelineError, RefusedError

Progress = Callable[[str], None]


@dataclass(frozen=True)
class StackResult:
    name: str
    action: str  # created | recreated | updated | unchanged | would create | would update | would recreate
    status: str
    changed: bool
    outputs: dict[str, str] = field(default_factory=dict)
    changes: tuple[ResourceChange, ...] = ()
    stack_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"stack": self.name, "action": self.action, "status": self.status, "changed": self.changed,
                "outputs": dict(self.outputs), "changes": [c.as_dict() for c in self.changes]}


class StackEngine:
    """Deploys stacks with one CloudFormation client (a RetryingClient or a raw boto3 client)."""

    def __init__(self, client: Any, progress: Progress | None = None, *, poll: Poll | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 change_set_name: Callable[[], str] | None = None) -> None:
        self.stacks = Stacks(client)
        self.progress = progress or (lambda _line: None)
        self.poll = poll or Poll()
        self.sleep = sleep
        self.clock = clock
        self.change_set_name = change_set_name or (lambda: f"pipeline-{uuid.uuid4().hex[:16]}")

    # -- reading ----------------------------------------------------------------------------
    def describe(self, name: str) -> StackState | None:
        """The stack's current state, or None when there is no such (live) stack."""
        return self.stacks.describe(name)

    def events_since(self, stack: str, since: datetime | None) -> list[StackEvent]:
        return self.stacks.events_since(stack, since)

    # -- deploying --------------------------------------------------------------------------
    def deploy(self, spec: StackSpec, *, dry_run: bool = False, force: bool = False) -> StackResult:
        state = self.describe(spec.name)
        if state is not None and state.status == "DELETE_IN_PROGRESS":
            self.progress(f"{spec.name}: DELETE_IN_PROGRESS: waiting for the delete to finish")
            self._wait_deleted(state)
            state = None
        if state is not None and state.health is Health.IN_PROGRESS:
            self.progress(f"{spec.name}: {state.status}: waiting for the running operation to finish")
            state, _ = self._wait(state.stack_id, spec.name, since=None)
        recreate = False
        if state is not None and state.status == "REVIEW_IN_PROGRESS":
            # an earlier CREATE change set was never executed (its answer lost, or the run cut off): the stack
            # holds no resource, and CloudFormation takes a new CREATE change set for it (no delete, no --force)
            self.progress(f"{spec.name}: REVIEW_IN_PROGRESS (a change set was never executed): creating it again")
            state = None
        if state is not None and state.health is Health.STUCK_RECREATE:
            if spec.protect and not force:
                raise RefusedError(f"stack {spec.name} is {state.status} in a protected environment: deleting and "
                                   "recreating it needs --force")
            if dry_run:
                self.progress(f"{spec.name}: {state.status}: would delete the stack and create it again")
                return StackResult(spec.name, "would recreate", state.status, True, stack_id=state.stack_id)
            self._delete(state)
            state, recreate = None, True
        if state is not None and state.health is Health.STUCK_CONTINUE_ROLLBACK:
            if dry_run:
                self.progress(f"{spec.name}: {state.status}: would continue the update rollback")
                return StackResult(spec.name, "would continue rollback", state.status, True, stack_id=state.stack_id)
            self._continue_rollback(state)
        if state is not None and state.health is Health.FAILED:
            raise PipelineError(f"stack {spec.name} is {state.status}: {state.reason or 'fix it by hand'}",
                                details=self._failure_details(state.stack_id, None))
        return self._change(spec, state, dry_run=dry_run, force=force, recreate=recreate)

    def _change(self, spec: StackSpec, state: StackState | None, *, dry_run: bool, force: bool,
                recreate: bool) -> StackResult:
        if state is not None and self._matches(spec, state):
            return self._unchanged(spec, state)
        kind = "CREATE" if state is None else "UPDATE"
        name = self.change_set_name()
        created = self.stacks.create_change_set(spec, name, kind)
        if created is None and state is not None:
            return self._unchanged(spec, state)  # the emulator's form of "nothing to do"
        stack_id = created or spec.name
        described = self._wait_change_set(spec.name, name)
        if described["Status"] == "FAILED":
            reason = str(described.get("StatusReason", ""))
            self._discard(spec.name, name, stack_id if kind == "CREATE" else None)
            if state is not None and is_empty_change_set(reason):
                return self._unchanged(spec, state)  # AWS's form: the change set FAILED with a reason
            raise PipelineError(f"stack {spec.name}: change set failed: {reason or 'no reason given'}")
        changes = parse_changes(described.get("Changes", []))
        verb = "create" if kind == "CREATE" else "update"
        self.progress(f"{spec.name}: change set ({verb}):")
        for line in render_diff(changes):
            self.progress(line)
        if dry_run:
            self._discard(spec.name, name, stack_id if kind == "CREATE" else None)
            action = "would recreate" if recreate else f"would {verb}"
            return StackResult(spec.name, action, state.status if state else "", True, changes=changes,
                               stack_id=stack_id)
        replaced = guarded_replacements(changes, spec.guarded_types)
        if replaced and spec.protect and not force:
            self._discard(spec.name, name, None)
            listed = ", ".join(f"{c.logical_id} ({c.resource_type}, replacement: {c.replacement})" for c in replaced)
            raise RefusedError(f"stack {spec.name}: the change set would replace {listed} in a protected "
                               "environment; re-run with --force to allow it")
        since = described.get("CreationTime")
        self.stacks.execute_change_set(spec.name, name)
        final, events = self._wait(stack_id, spec.name, since=since)
        if not is_success(final.status):
            lines = failure_lines(events) or ["no failed resource events found"]
            raise PipelineError(f"stack {spec.name}: {verb} ended in {final.status}: {lines[0]}", details=lines)
        if spec.protect and not final.termination_protection:
            self._protect(spec.name)
        action = "recreated" if recreate else ("created" if kind == "CREATE" else "updated")
        return StackResult(spec.name, action, final.status, True, final.outputs, changes, final.stack_id)

    def _matches(self, spec: StackSpec, state: StackState) -> bool:
        """Same template, parameters and tags as deployed: what a change set would compare, in one cheap call.

        (Saves creating and deleting an empty change set, which takes seconds on AWS; the emulator
        cannot tell an unchanged parameterless stack from a changed one.)
        """
        if dict(spec.parameters) != state.parameters or dict(spec.tags) != state.tags:
            return False
        body = self.stacks.template(state.stack_id)
        if isinstance(body, dict):  # botocore parses JSON bodies
            try:
                return body == json.loads(spec.body)
            except ValueError:
                return False
        return body == spec.body

    def _unchanged(self, spec: StackSpec, state: StackState) -> StackResult:
        self.progress(f"{spec.name}: no changes")
        if spec.protect and not state.termination_protection:
            self._protect(spec.name)
        return StackResult(spec.name, "unchanged", state.status, False, state.outputs, (), state.stack_id)

    # -- waiting ----------------------------------------------------------------------------
    def _intervals(self) -> Iterator[float]:
        delay = self.poll.first
        while True:
            yield delay
            delay = min(delay * self.poll.factor, self.poll.cap)

    def _wait_change_set(self, stack: str, name: str) -> dict[str, Any]:
        deadline = self.clock() + self.poll.timeout
        intervals = self._intervals()
        while True:
            described = self.stacks.describe_change_set(stack, name)
            if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
                break
            if self.clock() > deadline:
                raise PipelineError(f"stack {stack}: change set {name} still {described['Status']}")
            self.sleep(next(intervals))
        changes = list(described.get("Changes", [])) + self.stacks.more_changes(stack, name, described.get("NextToken"))
        return {**described, "Changes": changes}

    def _wait(self, stack_id: str, name: str, since: datetime | None) -> tuple[StackState, list[StackEvent]]:
        """Poll until no operation runs, printing each new stack event once; returns the events too."""
        deadline = self.clock() + self.poll.timeout
        intervals = self._intervals()
        seen: dict[str, StackEvent] = {}
        while True:
            state = self.describe(stack_id)
            for event in self.events_since(stack_id, since):
                if event.event_id not in seen:
                    seen[event.event_id] = event
                    self.progress(event.line())
            if state is None:
                raise PipelineError(f"stack {name} disappeared while waiting for it")
            if is_settled(state.status):
                return state, list(seen.values())
            if self.clock() > deadline:
                raise PipelineError(f"stack {name}: still {state.status} after {self.poll.timeout:.0f} s")
            self.sleep(next(intervals))

    # -- recovery ---------------------------------------------------------------------------
    def _delete(self, state: StackState) -> None:
        self.progress(f"{state.name}: {state.status}: deleting the stack to create it again")
        if state.termination_protection:
            self.stacks.set_termination_protection(state.name, False)
        self.stacks.delete_stack(state.stack_id)
        self._wait_deleted(state)

    def _wait_deleted(self, state: StackState) -> None:
        deadline = self.clock() + self.poll.timeout
        intervals = self._intervals()
        while True:
            current = self.describe(state.stack_id)
            if current is None:
                return
            if current.status == "DELETE_FAILED":
                raise PipelineError(f"stack {state.name}: delete failed: {current.reason}",
                                    details=self._failure_details(state.stack_id, None))
            if self.clock() > deadline:
                raise PipelineError(f"stack {state.name}: still {current.status} after {self.poll.timeout:.0f} s")
            self.sleep(next(intervals))

    def _continue_rollback(self, state: StackState) -> None:
        self.progress(f"{state.name}: UPDATE_ROLLBACK_FAILED: continuing the update rollback")
        before = self.events_since(state.stack_id, None)
        self.stacks.continue_update_rollback(state.name, self.change_set_name())
        latest = max((e.timestamp for e in before), default=None)
        final, new = self._wait(state.stack_id, state.name, since=latest)
        details = failure_lines(before) or ["no failed resource events found"]
        if final.status == "UPDATE_ROLLBACK_COMPLETE":
            raise PipelineError(f"stack {state.name} was UPDATE_ROLLBACK_FAILED; the rollback is now complete "
                                "(UPDATE_ROLLBACK_COMPLETE). Fix the cause below and run the command again",
                                details=details)
        stuck = " ".join(dict.fromkeys(e.logical_id for e in failures(new) if not e.is_stack)) or "<logical ids>"
        raise PipelineError(f"stack {state.name}: continue_update_rollback ended in {final.status}; skip the resources "
                            f"that cannot roll back: aws cloudformation continue-update-rollback --stack-name "
                            f"{state.name} --resources-to-skip {stuck}", details=details)

    def _failure_details(self, stack_id: str, since: datetime | None) -> list[str]:
        return failure_lines(self.events_since(stack_id, since)) or ["no failed resource events found"]

    def _discard(self, stack: str, change_set: str, review_stack_id: str | None) -> None:
        """Delete our change set; for a CREATE set also the empty REVIEW_IN_PROGRESS stack it made."""
        self.stacks.delete_change_set(stack, change_set)
        if review_stack_id is not None:
            self.stacks.delete_stack(review_stack_id)
            review = self.describe(review_stack_id)
            if review is not None:  # deleting takes a moment: the next look must find no stack
                self._wait_deleted(review)

    def _protect(self, name: str) -> None:
        if self.stacks.set_termination_protection(name, True):
            self.progress(f"{name}: termination protection on")
        else:
            self.progress(f"{name}: warning: this endpoint does not support termination protection")
