"""Make moto's ExecuteChangeSet behave like CloudFormation's for what the stack engine reads back.

moto 5.2 applies a change set's resources but leaves the stack's tags as they were at
creation and never re-reads the template's Outputs (a stack made through a change set has
none). Outputs moto cannot evaluate after an update are left out rather than failing
DescribeStacks. CloudFormation replaces the tags with the change set's and evaluates the Outputs.
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
    _INSTALLED = True


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
