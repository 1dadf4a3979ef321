"""Make moto's ExecuteChangeSet behave like CloudFormation's for what the stack engine reads back.

moto 5.2 applies a change set's resources but leaves the stack's tags as they were at
creation and never re-reads the template's Outputs (a stack made through a change set has
none). Outputs moto cannot evaluate after an update are left out rather than failing
DescribeStacks. CloudFormation replaces the tags with the change set's and evaluates the Outputs.
moto also lacks UpdateTerminationProtection (HTTP 500) and deletes protected stacks; here it
is implemented and DeleteStack refuses a protected stack with CloudFormation's message.
`install()` patches the in-process moto backend once; it is idempotent.
"""

from __future__ import annotations

from typing import Any

_INSTALLED = False


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.cloudformation.models import CloudFormationBackend

    original = CloudFormationBackend.execute_change_set

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        original(self, change_set_name, stack_name)
        change_set = self.change_sets.get(change_set_name) or next(
            (cs for cs in self.change_sets.values() if cs.change_set_name == change_set_name
             and (stack_name is None or stack_name in (cs.stack.name, cs.stack.stack_id))), None)
        if change_set is None:
            return
        stack = change_set.stack
        if change_set.tags is not None:
            stack.tags = dict(change_set.tags)
        stack._parse_template()
        stack.output_map = _SafeOutputs(stack._create_output_map())

    CloudFormationBackend.execute_change_set = execute_change_set  # type: ignore[method-assign]
    _termination_protection()
    _INSTALLED = True


def _termination_protection() -> None:
    from moto.cloudformation.exceptions import ValidationError
    from moto.cloudformation.models import CloudFormationBackend
    from moto.cloudformation.responses import CloudFormationResponse
    from moto.core.responses import ActionResult

    def update_termination_protection(self: Any) -> ActionResult:
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        stack.enable_termination_protection = str(self._get_param("EnableTerminationProtection")).lower() == "true"
        return ActionResult({"StackId": stack.stack_id})

    original_delete = CloudFormationBackend.delete_stack

    def delete_stack(self: Any, name_or_stack_id: str) -> None:
        for stack in list(self.stacks.values()):
            if name_or_stack_id in (stack.name, stack.stack_id) and stack.enable_termination_protection:
                raise ValidationError(stack.stack_id, message=f"Stack [{stack.name}] cannot be deleted while "
                                                              "TerminationProtection is enabled")
        original_delete(self, name_or_stack_id)

    CloudFormationResponse.update_termination_protection = update_termination_protection  # type: ignore[attr-defined]
    CloudFormationBackend.delete_stack = delete_stack  # type: ignore[method-assign]


class _SafeOutputs(dict):  # type: ignore[type-arg]
    """The outputs moto can evaluate (some resources lose their attributes on update in moto)."""

    def __init__(self, outputs: Any) -> None:
        super().__init__()
        for key in list(outputs):
            try:
                value = outputs[key]
            except Exception:  # moto raises assorted errors for unresolvable outputs
                continue
            if value is not None:
                self[key] = value
        try:
            self.exports = outputs.exports
        except Exception:  # same
            self.exports = []
