"""How one CloudFormation operation runs in the emulator: resource calls recorded, failures rolled back.

moto creates, updates and deletes a template's resources through three functions of its parsing
module; they are wrapped here so that inside an operation (`cfn_clock.running`) each call is
recorded with its modelled times, and a resource that fails - an injected fault (`cfn_faults`),
a type no provider implements (moto used to drop it and report COMPLETE), or the provider's own
error - stops the operation at once. Then, as on AWS:

- a create rolls back: the resources it made are deleted in reverse order (ROLLBACK_IN_PROGRESS,
  ROLLBACK_COMPLETE, or ROLLBACK_FAILED when a delete fails);
- an update rolls back: the previous template and parameters are applied again
  (UPDATE_ROLLBACK_IN_PROGRESS, UPDATE_ROLLBACK_COMPLETE, or UPDATE_ROLLBACK_FAILED, from which
  ContinueUpdateRollback starts the rollback again).

Resources an update removes are deleted only once it has succeeded (the cleanup phase), as AWS does.
`publish` turns the record into the stack's events and status phases (`cfn_clock`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pipeline.local import cfn_clock, cfn_faults
from pipeline.local.cfn_clock import TICK, Abort, Operation, current, references, running, set_phases

_INSTALLED = False
_ALWAYS = ("Custom::", "AWS::CloudFormation::")


def supported(rtype: str) -> bool:
    from moto.cloudformation import parsing

    return rtype.startswith(_ALWAYS) or parsing.resource_class_from_type(rtype) is not None


def updatable(rtype: str) -> bool:
    from moto.cloudformation import parsing

    model = parsing.resource_class_from_type(rtype)
    return model is not None and not hasattr(model.update_from_cloudformation_json, "__isabstractmethod__")


def message(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or getattr(exc, "description", None) or str(exc) or type(exc).__name__
    return f'Resource handler returned message: "{text}"'


def live(backend: Any, name: str) -> Any:
    """The stack of that name or id that is not deleted (one being deleted counts until its window ends)."""
    for stack in backend.stacks.values():
        if name in (stack.name, stack.stack_id):
            return stack
    for stack in backend.deleted_stacks.values():
        if name in (stack.name, stack.stack_id) and stack.status == "DELETE_IN_PROGRESS":
            return stack
    return None


def find_change_set(backend: Any, name: str, stack_name: str | None) -> Any:
    from moto.cloudformation.exceptions import ValidationError

    found = backend.change_sets.get(name) or next(
        (cs for cs in backend.change_sets.values() if cs.change_set_name == name
         and (not stack_name or stack_name in (cs.stack.name, cs.stack.stack_id))), None)
    if found is None:
        raise ValidationError(name, message=f"ChangeSet [{name}] does not exist")
    return found


def _physical(resource: Any) -> str:
    try:
        return str(getattr(resource, "physical_resource_id", "") or "")
    except Exception:  # some moto models compute it from state that may be gone
        return ""


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.cloudformation import parsing

    create, update, delete = parsing.parse_and_create_resource, parsing.parse_and_update_resource, \
        parsing.ResourceMap._delete_resource

    def create_resource(logical_id: str, resource_json: dict[str, Any], resources_map: Any, account_id: str,
                        region_name: str) -> Any:
        op = current()
        if op is None:
            return create(logical_id, resource_json, resources_map, account_id, region_name)
        condition = resource_json.get("Condition")
        if condition and not resources_map.lazy_condition_map[condition]:
            return None
        rtype = resource_json["Type"]
        reason = cfn_faults.take(op.name, logical_id, "CREATE", op.rollback)
        if reason is None and not supported(rtype):
            reason = (f"The emulator cannot create {rtype}: no provider implements this resource type "
                      "(moto has none and pipeline.local adds none)")
        resource = None
        if reason is None:
            try:
                resource = create(logical_id, resource_json, resources_map, account_id, region_name)
            except Exception as exc:  # the provider's own error fails this resource, as on AWS
                reason = message(exc)
        op.resource(logical_id, rtype, _physical(resource), "CREATE", references(resource_json), reason)
        if reason is not None:
            raise Abort(logical_id)
        return resource

    def update_resource(logical_id: str, resource_json: dict[str, Any], resources_map: Any, account_id: str,
                        region_name: str) -> Any:
        op = current()
        if op is None:
            return update(logical_id, resource_json, resources_map, account_id, region_name)
        rtype = resource_json["Type"]
        before = resources_map._parsed_resources.get(logical_id)
        reason = cfn_faults.take(op.name, logical_id, "UPDATE", op.rollback)
        if reason is None and not updatable(rtype):
            reason = f"The emulator cannot update {rtype} in place: no provider implements its update"
        resource = None
        if reason is None:
            try:
                resource = update(logical_id, resource_json, resources_map, account_id, region_name)
            except Exception as exc:
                reason = message(exc)
        resource = resource if resource is not None else before
        op.resource(logical_id, rtype, _physical(resource), "UPDATE", references(resource_json), reason)
        if reason is not None:
            raise Abort(logical_id)
        return resource

    def delete_resource(self: Any, parsed_resource: Any, resource_json: dict[str, Any]) -> None:
        op = current()
        if op is None:
            return delete(self, parsed_resource, resource_json)
        logical_id = str(getattr(parsed_resource, "logical_resource_id", ""))
        if op.kind in ("UPDATE", "UPDATE_ROLLBACK") and not op.cleaning:
            op.deferred.append((self, parsed_resource, resource_json, logical_id))  # after the update succeeds
            return None
        reason = cfn_faults.take(op.name, logical_id, "DELETE", op.rollback)
        if reason is None:
            delete(self, parsed_resource, resource_json)  # moto retries dependency errors: let them through
        op.resource(logical_id, resource_json["Type"], _physical(parsed_resource), "DELETE", set(), reason,
                    sequential=True)
        if reason is not None:
            raise Abort(logical_id)
        return None

    # moto decides which resources a parameter change modifies from their `Ref`s only: `!Sub "${Days}"`
    # did not count, so such a resource kept its old value while the stack said UPDATE_COMPLETE
    parsing.get_references_from_template = lambda template: sorted(references(template))
    parsing.parse_and_create_resource = create_resource
    parsing.parse_and_update_resource = update_resource
    parsing.ResourceMap._delete_resource = delete_resource  # type: ignore[method-assign]
    _INSTALLED = True


class _NoOutputs(dict):  # type: ignore[type-arg]
    exports: list[Any] = []


@dataclass(frozen=True)
class Snapshot:
    """What an update's rollback puts back."""

    template: Any
    template_dict: dict[str, Any]
    input_parameters: dict[str, Any]
    resolved: dict[str, Any]  # with the defaults: what the rollback passes, so every changed value counts
    parameters: dict[str, Any]
    tags: dict[str, str]
    output_map: Any

    @classmethod
    def of(cls, stack: Any) -> Snapshot:
        return cls(stack.template, copy.deepcopy(stack.template_dict),
                   dict(stack.resource_map.input_parameters or {}), dict(stack.resource_map.resolved_parameters),
                   dict(stack.parameters or {}),
                   dict(stack.tags or {}), stack.output_map)


def _failed_text(op: Operation, first: int = 0) -> str:
    names = ", ".join(dict.fromkeys(op.failed[first:]))
    verbs = {e[4].split("_")[0].lower() for e in op.events if e[1] in op.failed[first:] and e[4].endswith("_FAILED")
             and e[5] and "cancelled" not in e[5]}
    return f"The following resource(s) failed to {'/'.join(sorted(verbs)) or 'update'}: [{names}]."


def roll_back_create(op: Operation, stack: Any) -> str:
    """Delete what the failed create made; the stack's final status."""
    at = op.failed_at or op.latest()
    op.cancel_after(at)
    op.phase(at + TICK, "ROLLBACK_IN_PROGRESS", f"{_failed_text(op)} Rollback requested by user.")
    op.rollback, first = True, len(op.failed)
    stack.output_map = _NoOutputs()
    resources = stack.resource_map
    for logical_id in reversed(op.created):
        resource = resources._parsed_resources.get(logical_id)
        resource_json = resources._resource_json_map.get(logical_id) or {}
        if resource is None:
            continue
        if resource_json.get("DeletionPolicy") == "Retain":
            op.skipped(logical_id, resource_json.get("Type", ""), _physical(resource))
            continue
        try:
            with running(op):
                resources._delete_resource(resource, resource_json)
        except Abort:
            break
        except Exception as exc:
            op.resource(logical_id, resource_json.get("Type", ""), _physical(resource), "DELETE", set(),
                        message(exc), sequential=True)
            break
        resources._parsed_resources.pop(logical_id, None)
    if len(op.failed) > first:
        op.phase(op.latest() + TICK, "ROLLBACK_FAILED", _failed_text(op, first))
        return "ROLLBACK_FAILED"
    op.phase(op.latest() + TICK, "ROLLBACK_COMPLETE")
    return "ROLLBACK_COMPLETE"


def clean_up(op: Operation) -> None:
    """Delete what an update removed (deferred until it succeeded); a failure here does not fail it.
    The phase lasts at least the `cloudformation.update.cleanup` window, as CloudFormation's does."""
    op.cleaning = True
    op.ends["(cleanup)"] = (op.base or op.start) + timedelta(seconds=cfn_clock.window("cloudformation.update.cleanup"))
    for resources, resource, resource_json, logical_id in op.deferred:
        try:
            with running(op):
                resources._delete_resource(resource, resource_json)
        except (Abort, Exception):  # AWS leaves such a resource behind and completes the update
            continue
        resources._parsed_resources.pop(logical_id, None)
    op.deferred.clear()
    op.cleaning = False


def roll_back_update(op: Operation, stack: Any, snapshot: Snapshot) -> str:
    """Put the previous template and parameters back; the stack's final status."""
    if op.kind != "UPDATE_ROLLBACK":
        at = op.failed_at or op.latest()
        op.cancel_after(at)
        op.deferred.clear()  # what the failed update removed stays
        op.phase(at + TICK, "UPDATE_ROLLBACK_IN_PROGRESS", _failed_text(op))
    op.rollback, first = True, len(op.failed)
    stack.__dict__["_rollback_snapshot"] = snapshot
    # every parameter counts as changed: what the failed update (or a failed rollback) left behind is
    # not known here, so each resource that uses one is put back (moto's diff compares with the last input)
    stack.resource_map.input_parameters = {}
    try:
        with running(op):
            stack.resource_map.update(copy.deepcopy(snapshot.template_dict), dict(snapshot.resolved))
    except Abort:
        op.phase(op.latest() + TICK, "UPDATE_ROLLBACK_FAILED", _failed_text(op, first))
        return "UPDATE_ROLLBACK_FAILED"
    stack.resource_map.input_parameters = dict(snapshot.input_parameters)
    stack.template, stack.template_dict = snapshot.template, copy.deepcopy(snapshot.template_dict)
    stack.parameters, stack.tags, stack.output_map = snapshot.parameters, snapshot.tags, snapshot.output_map
    op.phase(op.latest() + TICK, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    clean_up(op)
    op.phase(op.latest() + TICK, "UPDATE_ROLLBACK_COMPLETE")
    stack.__dict__.pop("_rollback_snapshot", None)
    return "UPDATE_ROLLBACK_COMPLETE"


def publish(op: Operation, stack: Any, keep: int, final: str) -> None:
    """The record as the stack's events (moto's own from this operation replaced) and status phases."""
    from moto.cloudformation.models import Event

    rows = [(at, stack.name, "AWS::CloudFormation::Stack", stack.stack_id, status, reason)
            for at, status, reason in op.transitions]
    events = list(stack.events[:keep])
    def order(row: tuple[Any, ...]) -> tuple[Any, int]:  # at one instant: a stack's *_IN_PROGRESS first
        stack_row = row[2] == "AWS::CloudFormation::Stack"
        return row[0], (0 if row[4].endswith("_IN_PROGRESS") else 2) if stack_row else 1

    for at, logical_id, rtype, physical, status, reason in sorted(op.events + rows, key=order):
        event = Event(stack_id=stack.stack_id, stack_name=stack.name, logical_resource_id=logical_id,
                      physical_resource_id=physical, resource_type=rtype, resource_status=status,
                      resource_status_reason=reason or None, resource_properties=None)
        event.timestamp = at
        event.client_request_token = op.token
        events.append(event)
    stack.events = events
    stack.status = final  # moto's raw status: what the last phase says
    set_phases(stack, [(at, {"status": status, "reason": reason}) for at, status, reason in op.transitions])
