"""Turn DescribeChangeSet `Changes` into a readable diff and find guarded replacements. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_SIGN = {"Add": "+", "Modify": "~", "Remove": "-", "Import": ">", "Dynamic": "?"}


@dataclass(frozen=True)
class ResourceChange:
    action: str  # Add | Modify | Remove | Import | Dynamic
    logical_id: str
    resource_type: str
    physical_id: str | None = None
    replacement: str | None = None  # "True" | "False" | "Conditional"; None when not given (the emulator)
    properties: tuple[str, ...] = ()  # changed attribute names, when given

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> ResourceChange:
        rc = raw.get("ResourceChange", {})
        props: list[str] = []
        for detail in rc.get("Details", []) or []:
            target = detail.get("Target", {})
            name = target.get("Name") or target.get("Attribute")
            if name and name not in props:
                props.append(str(name))
        replacement = rc.get("Replacement")
        return cls(action=str(rc.get("Action", "?")), logical_id=str(rc.get("LogicalResourceId", "?")),
                   resource_type=str(rc.get("ResourceType", "?")), physical_id=rc.get("PhysicalResourceId"),
                   replacement=str(replacement) if replacement is not None else None, properties=tuple(props))

    @property
    def replaces(self) -> bool:
        """True when AWS says the resource will, or may, be replaced."""
        return self.action == "Modify" and self.replacement in ("True", "Conditional")

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action, "logical_id": self.logical_id, "resource_type": self.resource_type,
                "physical_id": self.physical_id, "replacement": self.replacement,
                "properties": list(self.properties)}


def parse_changes(changes: Iterable[Mapping[str, Any]]) -> tuple[ResourceChange, ...]:
    return tuple(ResourceChange.from_api(c) for c in changes if c.get("Type", "Resource") == "Resource")


def render_diff(changes: Sequence[ResourceChange]) -> list[str]:
    """One line per resource: `+ Add  Bucket  AWS::S3::Bucket  [Replacement: True]  (props)`."""
    if not changes:
        return ["  (no resource-level changes listed)"]
    id_width = max(len(c.logical_id) for c in changes)
    type_width = max(len(c.resource_type) for c in changes)
    lines = []
    for c in changes:
        line = f"  {_SIGN.get(c.action, '?')} {c.action:<7} {c.logical_id:<{id_width}}  {c.resource_type:<{type_width}}"
        if c.replacement is not None and c.action == "Modify":
            line += f"  replacement: {c.replacement}"
        if c.properties:
            line += f"  ({', '.join(c.properties)})"
        lines.append(line.rstrip())
    return lines


def guarded_replacements(changes: Iterable[ResourceChange], types: Sequence[str]) -> list[ResourceChange]:
    """Changes that would (or may) replace a resource of one of `types`."""
    return [c for c in changes if c.replaces and c.resource_type in types]
