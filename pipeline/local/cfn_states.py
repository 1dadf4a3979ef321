"""CloudFormation's stack and change-set state machine on top of moto's backend.

Each write (CreateStack, UpdateStack, DeleteStack, CreateChangeSet, ExecuteChangeSet,
ContinueUpdateRollback) runs as one `cfn_ops` operation and is then shown through time
(`cfn_clock`): *_IN_PROGRESS for the modelled window, events resource by resource, failures
rolled back. Around it, what AWS refuses is refused: updating or executing while another operation
runs or after a failed create ("Stack:... is in ROLLBACK_COMPLETE state and can not be updated."),
creating a stack whose name is still being deleted, executing a change set that is not AVAILABLE,
deleting a change set still being created, a second CREATE change set for a live stack. A CREATE
change set for a stack that is still REVIEW_IN_PROGRESS (an earlier CreateChangeSet whose answer
was lost) joins that stack instead of making a second one of the same name. A change set that
changes nothing ends FAILED with AWS's reason. A stack being deleted stays visible by name as
DELETE_IN_PROGRESS until its window ends.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pipeline.local import cfn_clock, cfn_ops
from pipeline.local.cfn_clock import TICK, Abort, Operation, running

UPDATABLE = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
                       "IMPORT_ROLLBACK_COMPLETE"})
EMPTY_REASON = "The submitted information didn't contain changes. Submit different information to create a change set."
_INSTALLED = False


def _errors() -> Any:
    from moto.cloudformation import exceptions

    return exceptions


class InvalidChangeSetStatus(Exception):
    """Stand-in until install() swaps in a moto CloudFormationError subclass with this code."""


def _not_updatable(stack: Any) -> Exception:
    return _errors().ValidationError(stack.stack_id, message=f"Stack:{stack.stack_id} is in {stack.status} state "
                                                              "and can not be updated.")


def run_create(op: Operation, backend: Any, apply: Any) -> tuple[Any, str]:
    op.phase(op.start, "CREATE_IN_PROGRESS", "User Initiated")
    try:
        with running(op):
            made = apply()
    except Abort:
        # moto allows one stack per name in `stacks`: the one this create inserted before it failed
        stack = op.stack or next(s for s in backend.stacks.values() if s.name == op.name)
        return stack, cfn_ops.roll_back_create(op, stack)
    op.phase(op.latest() + TICK, "CREATE_COMPLETE")
    return op.stack or made, "CREATE_COMPLETE"


def run_update(op: Operation, stack: Any, apply: Any) -> str:
    snapshot = cfn_ops.Snapshot.of(stack)
    op.phase(op.start, "UPDATE_IN_PROGRESS", "User Initiated")
    try:
        with running(op):
            apply()
    except Abort:
        return cfn_ops.roll_back_update(op, stack, snapshot)
    op.phase(op.latest() + TICK, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    cfn_ops.clean_up(op)
    op.phase(op.latest() + TICK, "UPDATE_COMPLETE")
    return "UPDATE_COMPLETE"


def _raw(obj: Any) -> dict[str, Any]:
    return {"status": obj.__dict__.get("_raw_status"), "execution_status": obj.__dict__.get("_raw_execution_status"),
            "status_reason": obj.__dict__.get("_raw_status_reason")}


def install_all() -> None:
    """The clock, the operations, the state machine and the request parameters, in that order."""
    from pipeline.local import cfn_requests, cfn_updates

    cfn_updates.install()
    cfn_clock.install()
    cfn_ops.install()
    install()
    cfn_requests.install()


def install() -> None:
    global _INSTALLED, InvalidChangeSetStatus
    if _INSTALLED:
        return
    from moto.cloudformation.models import ChangeSet, CloudFormationBackend

    class _Invalid(_errors().CloudFormationError):  # type: ignore[name-defined,misc]
        code = "InvalidChangeSetStatus"

    InvalidChangeSetStatus = _Invalid  # type: ignore[misc]
    B = CloudFormationBackend
    create_stack, update_stack, delete_stack = B.create_stack, B.update_stack, B.delete_stack
    execute, create_change_set, delete_change_set = B.execute_change_set, B.create_change_set, B.delete_change_set
    describe_stacks, get_stack = B.describe_stacks, B.get_stack

    def new_stack(self: Any, name: str, template: str, parameters: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        if cfn_ops.live(self, name) is not None:
            raise _errors().AlreadyExistsException(f"Stack [{name}] already exists")
        op = Operation(name, "CREATE")
        stack, final = run_create(op, self, lambda: create_stack(self, name, template, parameters, *args, **kwargs))
        if stack.__dict__.get("_raw_status") == "CREATE_IN_PROGRESS" and final == "CREATE_COMPLETE":
            return stack  # waits for a Custom:: resource's answer: moto's own state machine
        cfn_ops.publish(op, stack, 0, final)
        return stack

    def change_stack(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        stack = self.get_stack(name)
        if stack.status not in UPDATABLE:
            raise _not_updatable(stack)
        op, keep = Operation(stack.name, "UPDATE", stack=stack), len(stack.events)
        final = run_update(op, stack, lambda: update_stack(self, name, *args, **kwargs))
        cfn_ops.publish(op, stack, keep, final)
        return stack

    def remove_stack(self: Any, name_or_stack_id: str) -> None:
        stack = next((s for s in self.stacks.values() if name_or_stack_id in (s.name, s.stack_id)), None)
        if stack is None or stack.enable_termination_protection:
            return delete_stack(self, name_or_stack_id)  # nothing to do / refused with CloudFormation's message
        op, keep = Operation(stack.name, "DELETE", stack=stack), len(stack.events)
        op.phase(op.start, "DELETE_IN_PROGRESS", "User Initiated")
        resources = stack.resource_map
        for logical_id, resource_json in resources._resource_json_map.items():
            if resource_json.get("DeletionPolicy") == "Retain" and logical_id in resources._parsed_resources:
                op.skipped(logical_id, resource_json.get("Type", ""), "")
        try:
            with running(op):
                delete_stack(self, stack.stack_id)
        except (Abort, Exception) as exc:
            self.stacks[stack.stack_id] = stack
            self.deleted_stacks.pop(stack.stack_id, None)
            reason = (f"The following resource(s) failed to delete: [{', '.join(op.failed)}]." if op.failed
                      else cfn_ops.message(exc))
            op.phase(op.latest() + TICK, "DELETE_FAILED", reason)
            cfn_ops.publish(op, stack, keep, "DELETE_FAILED")
            return None
        op.phase(op.latest() + TICK, "DELETE_COMPLETE")
        cfn_ops.publish(op, stack, keep, "DELETE_COMPLETE")
        return None

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = cfn_ops.find_change_set(self, change_set_name, stack_name)
        if change_set.status != "CREATE_COMPLETE" or change_set.execution_status != "AVAILABLE":
            raise InvalidChangeSetStatus(f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current "
                                         f"status of [{change_set.status}] and execution status of "
                                         f"[{change_set.execution_status}]")
        stack = change_set.stack
        kind = change_set.change_set_type
        if kind == "UPDATE" and stack.status not in UPDATABLE:
            raise _not_updatable(stack)
        op, keep = Operation(stack.name, kind, stack=stack), len(stack.events)

        def apply() -> Any:
            return execute(self, change_set_name, stack_name)

        if kind == "CREATE":
            stack, final = run_create(op, self, apply)
            stack.template = change_set.template
        else:
            final = run_update(op, stack, apply)
        cfn_ops.publish(op, stack, keep, final)
        raw = _raw(change_set)
        change_set.execution_status = "EXECUTE_COMPLETE" if final in ("CREATE_COMPLETE", "UPDATE_COMPLETE") \
            else "EXECUTE_FAILED"
        cfn_clock.set_phases(change_set, [(op.start, {**raw, "execution_status": "EXECUTE_IN_PROGRESS"}),
                                          (op.latest(), {**raw, "execution_status": change_set.execution_status})])

    def new_change_set(self: Any, stack_name: str, change_set_name: str, template: str, parameters: dict[str, str],
                       description: str, change_set_type: str, notification_arns: list[str] | None = None,
                       tags: dict[str, str] | None = None, role_arn: str | None = None) -> tuple[str, str]:
        stack = cfn_ops.live(self, stack_name)
        if stack is not None and stack.status == "DELETE_IN_PROGRESS":
            raise _errors().AlreadyExistsException(f"Stack [{stack_name}] already exists")
        if change_set_type == "CREATE" and stack is not None and stack.status != "REVIEW_IN_PROGRESS":
            text = (f"Stack [{stack_name}] already exists and cannot be created again with the changeSet "
                    f"[{change_set_name}].")
            raise _errors().ValidationError(stack_name, message=text)
        if change_set_type == "UPDATE" and stack is not None and stack.status not in UPDATABLE:
            raise _not_updatable(stack)
        if stack is not None and any(cs.change_set_name == change_set_name and cs.stack_id == stack.stack_id
                                     for cs in self.change_sets.values()):
            raise _errors().AlreadyExistsException(f"ChangeSet [{change_set_name}] already exists")
        if change_set_type == "CREATE" and stack is not None:  # join the stack a lost earlier answer made
            from moto.cloudformation.utils import generate_changeset_id

            change_set_id = generate_changeset_id(change_set_name, self.region_name, self.account_id)
            self.change_sets[change_set_id] = ChangeSet("CREATE", change_set_id, change_set_name, stack, template,
                                                        parameters, description, notification_arns, tags, role_arn)
            stack_id = stack.stack_id
        else:
            change_set_id, stack_id = create_change_set(self, stack_name, change_set_name, template, parameters,
                                                        description, change_set_type, notification_arns, tags,
                                                        role_arn)
        change_set = self.change_sets[change_set_id]
        target = change_set.stack
        empty = change_set_type == "UPDATE" and target.has_template(template) and \
            dict(parameters or {}) == dict(target.resource_map.input_parameters or {}) and \
            dict(tags or {}) == dict(target.tags or {}) and not change_set.changes
        final = {"status": "FAILED", "execution_status": "UNAVAILABLE", "status_reason": EMPTY_REASON} if empty else \
            {"status": "CREATE_COMPLETE", "execution_status": "AVAILABLE", "status_reason": None}
        for key, value in final.items():
            setattr(change_set, key, value)
        change_set.__dict__["_client_token"] = cfn_clock.requested_token()
        start = change_set.creation_time
        pending = {"status": "CREATE_PENDING", "execution_status": "UNAVAILABLE", "status_reason": None}
        cfn_clock.set_phases(change_set, [
            (start, pending), (start + TICK, {**pending, "status": "CREATE_IN_PROGRESS"}),
            (start + timedelta(seconds=cfn_clock.window("cloudformation.changeset")), final)])
        return change_set_id, stack_id

    def remove_change_set(self: Any, change_set_name: str) -> None:
        found = self.change_sets.get(change_set_name) or next(
            (cs for cs in self.change_sets.values() if cs.change_set_name == change_set_name), None)
        if found is not None and found.status in ("CREATE_PENDING", "CREATE_IN_PROGRESS"):
            raise InvalidChangeSetStatus(f"Cannot delete ChangeSet in status {found.status}")
        delete_change_set(self, change_set_name)

    def find_stacks(self: Any, name_or_stack_id: str) -> list[Any]:
        try:
            return describe_stacks(self, name_or_stack_id)  # type: ignore[no-any-return]
        except _errors().ValidationError:
            stack = cfn_ops.live(self, name_or_stack_id) if name_or_stack_id else None
            if stack is None:
                raise
            return [stack]

    def find_stack(self: Any, name_or_stack_id: str) -> Any:
        try:
            return get_stack(self, name_or_stack_id)
        except _errors().ValidationError:
            stack = cfn_ops.live(self, name_or_stack_id)
            if stack is None:
                raise
            return stack

    B.create_stack, B.update_stack, B.delete_stack = new_stack, change_stack, remove_stack  # type: ignore[method-assign]
    B.execute_change_set, B.create_change_set = execute_change_set, new_change_set  # type: ignore[method-assign]
    B.delete_change_set, B.describe_stacks, B.get_stack = remove_change_set, find_stacks, find_stack  # type: ignore
    _INSTALLED = True
