"""CloudFormation's clock in the emulator: statuses that change with time, events resource by resource.

moto runs a stack operation to its end before it answers. The emulator still applies each
operation at once (see `cfn_states`), but records it as CloudFormation would run it: every resource
starts when what it references (Ref, GetAtt, Sub, DependsOn) has finished, and takes the timing
profile's window for its type (`cloudformation.create.<type>` ...). From that record a stack (or a
change set) gets phases - (time, status, reason) - and events with their modelled timestamps;
DescribeStacks, DescribeStackEvents and DescribeChangeSet show the phase and the events whose time
has come, so a client sees CREATE_IN_PROGRESS, then each resource, then CREATE_COMPLETE.

Which operation a resource call belongs to is thread-local (`running(op)`); a resource call
outside any operation (moto internals) is passed through untouched.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

_STATE = threading.local()
TICK = timedelta(milliseconds=1)
_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")
# Used for a window the timing profile does not name (it raises KeyError for those).
_FALLBACK = 0.005


def window(name: str) -> float:
    """Seconds the state `name` lasts under the active timing profile (`pipeline.local.timing`: `instant` in
    tests, `aws` for `local up` and `demo`, times the scale): `cloudformation.create.AWS::IAM::Role` ..."""
    from pipeline.local import timing

    try:
        return float(timing.active().window(name))
    except KeyError:
        return _FALLBACK


def now() -> datetime:
    from moto.core.utils import utcnow

    return utcnow()


class Abort(BaseException):
    """A resource failed: stops moto's loops at once (they retry on Exception) up to the operation."""


@dataclass
class Operation:
    """One stack operation as it is being applied: its resource records and stack transitions."""

    name: str  # the stack's name (faults are armed by name)
    kind: str  # CREATE | UPDATE | DELETE | UPDATE_ROLLBACK
    stack: Any = None
    token: str | None = field(default_factory=lambda: requested_token())
    start: datetime = field(default_factory=now)
    rollback: bool = False  # resource calls now belong to the rollback (faults for "rollback" apply)
    base: datetime | None = None  # where the current phase starts
    cursor: datetime | None = None  # sequential resources (deletes) continue from here
    ends: dict[str, datetime] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)  # created in the forward phase, in order
    events: list[tuple[datetime, str, str, str, str, str]] = field(default_factory=list)
    transitions: list[tuple[datetime, str, str]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    failed_at: datetime | None = None
    cleaning: bool = False  # deletes now run (an update's cleanup) instead of being deferred
    deferred: list[tuple[Any, Any, dict[str, Any], str]] = field(default_factory=list)  # cleanup deletes

    def __post_init__(self) -> None:
        self.base = self.cursor = self.start

    def phase(self, at: datetime, status: str, reason: str = "") -> None:
        """A stack transition at `at`; later resource calls are scheduled from there."""
        self.transitions.append((at, status, reason))
        self.base = self.cursor = at + TICK  # strictly after: events with one timestamp have no order
        self.ends = {}

    def latest(self) -> datetime:
        times = [self.cursor or self.start, *self.ends.values(), *(e[0] for e in self.events)]
        return max(times)

    def resource(self, logical_id: str, rtype: str, physical: str, verb: str, deps: set[str],
                 reason: str | None = None, sequential: bool = False) -> datetime:
        """Record one resource's IN_PROGRESS and its COMPLETE (or FAILED with `reason`); its end."""
        begin = self.cursor if sequential else max([self.base or self.start,
                                                     *(self.ends[d] + TICK for d in deps if d in self.ends)])
        assert begin is not None
        end = begin + timedelta(seconds=window(f"cloudformation.{verb.lower()}.{rtype}")) + TICK
        self.events.append((begin, logical_id, rtype, physical, f"{verb}_IN_PROGRESS", ""))
        if reason is not None:
            self.events.append((end, logical_id, rtype, physical, f"{verb}_FAILED", reason))
            self.failed.append(logical_id)
            self.failed_at = self.failed_at or end
        else:
            self.events.append((end, logical_id, rtype, physical, f"{verb}_COMPLETE", ""))
            if verb == "CREATE" and not self.rollback:
                self.created.append(logical_id)
        self.ends[logical_id] = end
        if sequential:
            self.cursor = end + TICK
        return end

    def cancel_after(self, at: datetime) -> None:
        """Resources still running at `at` (a sibling failed): CREATE_FAILED, "Resource creation cancelled"."""
        for index, (when, lid, rtype, physical, status, _) in enumerate(self.events):
            if when > at and status.endswith("_COMPLETE") and lid not in self.failed:
                verb = status.split("_")[0]
                self.events[index] = (at, lid, rtype, physical, f"{verb}_FAILED",
                                    "Resource creation cancelled" if verb == "CREATE" else "Resource update cancelled")

    def skipped(self, logical_id: str, rtype: str, physical: str) -> None:
        at = self.cursor or self.start
        self.events.append((at, logical_id, rtype, physical, "DELETE_SKIPPED", ""))


def current() -> Operation | None:
    return getattr(_STATE, "op", None)


def requested_token() -> str | None:
    """The ClientRequestToken of the API call being answered on this thread (set by cfn_requests)."""
    return getattr(_STATE, "token", None)


@contextlib.contextmanager
def requested(token: str | None) -> Iterator[None]:
    before = requested_token()
    _STATE.token = token
    try:
        yield
    finally:
        _STATE.token = before


@contextlib.contextmanager
def running(op: Operation) -> Iterator[Operation]:
    before = current()
    _STATE.op = op
    try:
        yield op
    finally:
        _STATE.op = before


def references(node: Any) -> set[str]:
    """Logical ids a template fragment refers to: Ref, Fn::GetAtt, ${X} in Fn::Sub, DependsOn."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value.split(".")[0] if isinstance(value, str) else value[0])
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                found.update(_SUB_NAME.findall(text))
                if not isinstance(value, str):
                    found |= references(value[1:])
            elif key == "DependsOn":
                found.update([value] if isinstance(value, str) else value)
            else:
                found |= references(value)
    elif isinstance(node, list):
        for item in node:
            found |= references(item)
    return {name for name in found if not name.startswith("AWS::")}


# -- what the API shows: phases on stacks and change sets, events up to now ------------------------
def set_phases(obj: Any, phases: list[tuple[datetime, dict[str, str]]]) -> None:
    obj.__dict__["_phases"] = phases


def _shown(obj: Any, attr: str) -> Any:
    phases = obj.__dict__.get("_phases")
    if not phases:
        return obj.__dict__.get(f"_raw_{attr}")
    moment, index = now(), 0
    for position, (at, _) in enumerate(phases):
        if at > moment:
            break
        index = position
    return phases[index][1].get(attr)


def _phase_property(attr: str) -> property:
    def get(self: Any) -> Any:
        return _shown(self, attr)

    def put(self: Any, value: Any) -> None:  # moto's own assignment: immediate, ends any modelled phase
        self.__dict__[f"_raw_{attr}"] = value
        self.__dict__.pop("_phases", None)

    return property(get, put)


def settled_at(obj: Any) -> datetime | None:
    phases = obj.__dict__.get("_phases")
    return phases[-1][0] if phases else None


_INSTALLED = False


def install() -> None:
    """Statuses through phases; events filtered by time (moto's Stack, ChangeSet, describe_stack_events)."""
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.cloudformation.models import ChangeSet, CloudFormationBackend, Stack

    Stack.status = _phase_property("status")  # type: ignore[assignment]
    Stack.status_reason = property(lambda self: _shown(self, "reason") or None)  # type: ignore[attr-defined]
    ChangeSet.status = _phase_property("status")  # type: ignore[assignment]
    ChangeSet.execution_status = _phase_property("execution_status")  # type: ignore[assignment]
    ChangeSet.status_reason = _phase_property("status_reason")  # type: ignore[assignment]
    original = CloudFormationBackend.describe_stack_events

    def describe_stack_events(self: Any, stack_name: str) -> list[Any]:
        moment = now()
        return [e for e in original(self, stack_name) if e.timestamp <= moment]

    CloudFormationBackend.describe_stack_events = describe_stack_events  # type: ignore[method-assign]
    _INSTALLED = True
