"""CloudFormation request parameters moto ignores: client tokens, and ContinueUpdateRollback.

- `ClientRequestToken` (CreateStack, UpdateStack, DeleteStack, ExecuteChangeSet) and `ClientToken`
  (CreateChangeSet) make a retry of a call whose answer was lost idempotent, as on AWS: the same
  token again answers like the first call (the same StackId, the same change set Id) without
  a second operation, where a retry without it fails ("already exists", "cannot be executed in
  its current status"). The token is also on every event the operation writes.
- ContinueUpdateRollback (moto has none) starts the rollback of an UPDATE_ROLLBACK_FAILED stack again.
- CreateChangeSet with the deployed template and parameters is not refused up front ("No updates
  are to be performed." is UpdateStack's answer); the change set ends FAILED (`cfn_states`).
- ListChangeSets lists the named stack's change sets only (moto listed every stack's).
"""

from __future__ import annotations

from typing import Any

from pipeline.local import cfn_clock, cfn_ops
from pipeline.local.cfn_clock import Operation

_INSTALLED = False


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.cloudformation.exceptions import ValidationError
    from moto.cloudformation.responses import CloudFormationResponse as R
    from moto.core.responses import ActionResult, EmptyResult

    create_stack, update_stack, delete_stack = R.create_stack, R.update_stack, R.delete_stack
    execute, create_change_set, validate = R.execute_change_set, R.create_change_set, R._validate_different_update

    def live(self: Any) -> Any:
        return cfn_ops.live(self.cloudformation_backend, self._get_param("StackName") or "")

    def tokened(original: Any, param: str, key: str) -> Any:
        """Answer a retry carrying the token of the stack's last such call like that call."""

        def handler(self: Any) -> Any:
            token = self._get_param(param)
            stack = live(self) if token else None
            if stack is not None and stack.__dict__.get(key) == token:
                return EmptyResult() if key == "_token_delete" else ActionResult({"StackId": stack.stack_id})
            with cfn_clock.requested(token):
                result = original(self)
            stack = live(self) or (stack if key == "_token_delete" else None)
            if token and stack is not None:
                stack.__dict__[key] = token
            return result

        return handler

    def execute_change_set(self: Any) -> Any:
        token = self._get_param("ClientRequestToken")
        if token:
            change_set = cfn_ops.find_change_set(self.cloudformation_backend, self._get_param("ChangeSetName"),
                                     self._get_param("StackName"))
            if change_set.__dict__.get("_token_execute") == token:
                return EmptyResult()
            with cfn_clock.requested(token):
                result = execute(self)
            change_set.__dict__["_token_execute"] = token
            return result
        return execute(self)

    def new_change_set(self: Any) -> Any:
        token, name = self._get_param("ClientToken"), self._get_param("ChangeSetName")
        stack = live(self) if token else None
        for change_set in self.cloudformation_backend.change_sets.values() if stack is not None else ():
            if (change_set.change_set_name, change_set.stack_id) == (name, stack.stack_id) \
                    and change_set.__dict__.get("_client_token") == token:
                return ActionResult({"Id": change_set.change_set_id, "StackId": change_set.stack_id})
        with cfn_clock.requested(token):
            return create_change_set(self)

    def validate_different_update(self: Any, *args: Any) -> None:
        if self._get_param("ChangeSetName"):
            return None  # a change set that changes nothing is created, and FAILED
        return validate(self, *args)  # type: ignore[no-any-return]

    def continue_update_rollback(self: Any) -> Any:
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        if stack.status != "UPDATE_ROLLBACK_FAILED":
            raise ValidationError(stack.stack_id, message="ContinueUpdateRollback cannot be called from current "
                                                          f"stack status. (Stack:{stack.stack_id} is {stack.status})")
        snapshot = stack.__dict__.get("_rollback_snapshot") or cfn_ops.Snapshot.of(stack)
        with cfn_clock.requested(self._get_param("ClientRequestToken")):
            op, keep = Operation(stack.name, "UPDATE_ROLLBACK", stack=stack), len(stack.events)
        op.phase(op.start, "UPDATE_ROLLBACK_IN_PROGRESS", "User Initiated")
        final = cfn_ops.roll_back_update(op, stack, snapshot)
        cfn_ops.publish(op, stack, keep, final)
        return EmptyResult()

    def list_change_sets(self: Any) -> Any:
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        return ActionResult({"Summaries": [cs for cs in self.cloudformation_backend.change_sets.values()
                                           if cs.stack_id == stack.stack_id]})

    R.create_stack = tokened(create_stack, "ClientRequestToken", "_token_create")  # type: ignore[method-assign]
    R.update_stack = tokened(update_stack, "ClientRequestToken", "_token_update")  # type: ignore[method-assign]
    R.delete_stack = tokened(delete_stack, "ClientRequestToken", "_token_delete")  # type: ignore[method-assign]
    R.execute_change_set = execute_change_set  # type: ignore[method-assign]
    R.create_change_set = new_change_set  # type: ignore[method-assign]
    R._validate_different_update = validate_different_update  # type: ignore[method-assign]
    R.continue_update_rollback = continue_update_rollback  # type: ignore[attr-defined]
    R.list_change_sets = list_change_sets  # type: ignore[method-assign]
    _INSTALLED = True
