"""Lambda's asynchronous states, which moto does not have: Pending after create, InProgress after an update.

On AWS a new function is `Pending` until Lambda has provisioned it, then `Active` (or `Failed`);
an UpdateFunctionCode/UpdateFunctionConfiguration leaves `LastUpdateStatus: InProgress` until it
is applied, then `Successful` (or `Failed`). While a function is Pending, invokes, updates and
publishes fail; while an update is in progress, updates and publishes fail with 409
ResourceConflictException (docs.aws.amazon.com/lambda/latest/dg/functions-states.html).
moto reports `Active`/`Successful` at once.

Here each function gets a timeline when moto's backend creates, updates or publishes it (so the
API and CloudFormation paths are the same), with windows from `pipeline.local.timing`; the WSGI
layer (`lambda_layer.py`) answers the conflicts and puts the states into moto's answers. Tests
make a creation or an update end `Failed` with `POST /_emulator/lambda/fail` (`arm_failure`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pipeline.local import timing

CREATING = ("The function is being created.", "Creating")
CONFLICT = "The operation cannot be performed at this time."


class NoSuchFunction(Exception):
    pass


@dataclass(frozen=True)
class Failure:
    reason: str
    code: str


@dataclass
class Timeline:
    """One function's state over time (monotonic clock); versions carry their own update window."""

    arn: str
    pending_until: float
    create_failure: Failure | None = None
    update_until: float = 0.0
    update_failure: Failure | None = None
    next_update_failure: Failure | None = None
    versions: dict[str, float] = field(default_factory=dict)
    version_failures: dict[str, Failure] = field(default_factory=dict)

    def state(self, now: float) -> tuple[str, Failure | None]:
        if now < self.pending_until:
            return "Pending", Failure(*CREATING)
        if self.create_failure is not None:
            return "Failed", self.create_failure
        return "Active", None

    def last_update(self, version: str, now: float) -> tuple[str, Failure | None] | None:
        """(LastUpdateStatus, why) for `version`; None while the function is still being created."""
        if now < self.pending_until:
            return None
        if version == "$LATEST":
            if now < self.update_until:
                return "InProgress", Failure(*CREATING)
            return ("Failed", self.update_failure) if self.update_failure else ("Successful", None)
        if now < self.versions.get(version, 0.0):
            return "InProgress", Failure(*CREATING)
        failure = self.version_failures.get(version)
        return ("Failed", failure) if failure else ("Successful", None)

    def updating(self, now: float) -> bool:
        return now < self.update_until


Key = tuple[str, str, str]  # account, region, function name
_LOCK = threading.RLock()
_TIMELINES: dict[Key, Timeline] = {}
_ARMED_CREATES: dict[Key, Failure] = {}


def timeline(account: str, region: str, name: str) -> Timeline | None:
    with _LOCK:
        return _TIMELINES.get((account, region, name))


def reset() -> None:
    with _LOCK:
        _TIMELINES.clear()
        _ARMED_CREATES.clear()


def created(account: str, region: str, name: str, arn: str) -> None:
    now = time.monotonic()
    with _LOCK:
        _TIMELINES[(account, region, name)] = Timeline(
            arn, now + timing.active().window("lambda.create"),
            create_failure=_ARMED_CREATES.pop((account, region, name), None))


def updated(account: str, region: str, name: str, window: str) -> None:
    now = time.monotonic()
    with _LOCK:
        line = _TIMELINES.get((account, region, name))
        if line is None:  # a function moto had before this module watched it: treat it as Active
            return
        if not line.updating(now):
            line.update_failure, line.next_update_failure = line.next_update_failure, None
        line.update_until = max(line.update_until, now + timing.active().window(window))


def restamp(account: str, region: str, name: str, window: str) -> None:
    """Start the window again as the answer leaves: moto's own work (reading a zip from S3, hashing it,
    copying the version) can take longer than an `instant` window, which would then end unseen."""
    now = time.monotonic()
    with _LOCK:
        line = _TIMELINES.get((account, region, name))
        if line is None:
            return
        until = now + timing.active().window(window)
        if window == "lambda.create":
            old, line.pending_until = line.pending_until, max(line.pending_until, until)
            new = line.pending_until
        else:
            if not line.updating(now):
                return  # the update this answer is about already ended (or failed): keep that
            old, line.update_until = line.update_until, max(line.update_until, until)
            new = line.update_until
        for version, ends in line.versions.items():
            if ends == old:
                line.versions[version] = new


def published(account: str, region: str, name: str, version: str) -> None:
    """A version moto just published shares what is left of $LATEST's create or update window."""
    now = time.monotonic()
    with _LOCK:
        line = _TIMELINES.get((account, region, name))
        if line is None or version in line.versions:
            return
        line.versions[version] = max(line.update_until, line.pending_until, now)
        if line.update_failure is not None and line.updating(now):
            line.version_failures[version] = line.update_failure


def arm_failure(account: str, region: str, name: str, what: str, reason: str, code: str) -> str:
    """Make the function's creation (`create`) or its current or next update (`update`) end Failed."""
    failure, now = Failure(reason, code), time.monotonic()
    with _LOCK:
        key = (account, region, name)
        line = _TIMELINES.get(key)
        if what == "create":
            if line is None:
                _ARMED_CREATES[key] = failure
                return "armed: the next creation of this function ends Failed"
            line.create_failure = failure
            return "the function is Failed" + (" once its Pending window ends" if now < line.pending_until else "")
        if what != "update":
            raise ValueError(f"what must be 'create' or 'update', not {what!r}")
        if line is None:
            raise NoSuchFunction(f"no function {name} in {account}/{region}")
        if line.updating(now):
            line.update_failure = failure
            for version, until in line.versions.items():
                if now < until:
                    line.version_failures[version] = failure
            return "the update in progress ends Failed"
        line.next_update_failure = failure
        return "armed: the next update of this function ends Failed"


def conflict(line: Timeline, operation: str, now: float) -> str | None:
    """AWS's 409 message for `operation` (invoke, code, config, publish) right now, or None."""
    state, _ = line.state(now)
    if state != "Active":
        return f"{CONFLICT} The function is currently in the following state: {state}"
    if operation != "invoke" and line.updating(now):
        return f"{CONFLICT} An update is in progress for resource: {line.arn}"
    return None


def overlay(config: dict[str, Any], account: str, region: str) -> None:
    """Put the timeline's State / LastUpdateStatus (and reasons) into one FunctionConfiguration."""
    line = timeline(account, region, str(config.get("FunctionName", "")))
    if line is None:
        return
    now = time.monotonic()
    state, why = line.state(now)
    config["State"] = state
    for key in ("StateReason", "StateReasonCode"):
        config.pop(key, None)
    if why is not None:
        config["StateReason"], config["StateReasonCode"] = why.reason, why.code
    update = line.last_update(str(config.get("Version", "$LATEST")), now)
    for key in ("LastUpdateStatus", "LastUpdateStatusReason", "LastUpdateStatusReasonCode"):
        config.pop(key, None)
    if update is not None:
        config["LastUpdateStatus"] = update[0]
        if update[1] is not None:
            config["LastUpdateStatusReason"], config["LastUpdateStatusReasonCode"] = update[1].reason, update[1].code


# -- moto's backend, watched in place (every path that creates or changes a function passes here)
_INSTALLED = False


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.awslambda.models import LambdaBackend, LambdaFunction

    create, publish = LambdaBackend.create_function, LambdaBackend.publish_version
    update_code, update_config = LambdaFunction.update_function_code, LambdaFunction.update_configuration

    def create_function(self: Any, spec: dict[str, Any]) -> Any:
        from moto.awslambda.utils import make_function_arn

        fn = create(self, spec)  # raises (and records nothing) when the name exists or the role is bad
        created(self.account_id, self.region_name, fn.function_name,
                make_function_arn(self.region_name, self.account_id, fn.function_name))
        if spec.get("Publish"):  # version 1 (published inside create, before the timeline) shares Pending
            published(self.account_id, self.region_name, fn.function_name, str(fn.version))
        return fn

    def publish_version(self: Any, function_name: str, description: str = "") -> Any:
        fn = publish(self, function_name, description)
        if fn is not None:
            published(self.account_id, self.region_name, fn.function_name, str(fn.version))
        return fn

    def update_function_code(self: Any, updated_spec: dict[str, Any]) -> Any:
        result = update_code(self, updated_spec)
        if str(self.version) == "$LATEST" and not updated_spec.get("DryRun"):
            updated(self.account_id, self.region, self.function_name, "lambda.update_code")
        return result

    def update_configuration(self: Any, config_updates: dict[str, Any]) -> Any:
        result = update_config(self, config_updates)
        if str(self.version) == "$LATEST":
            updated(self.account_id, self.region, self.function_name, "lambda.update_config")
        return result

    LambdaBackend.create_function = create_function  # type: ignore[method-assign]
    LambdaBackend.publish_version = publish_version  # type: ignore[method-assign]
    LambdaFunction.update_function_code = update_function_code  # type: ignore[method-assign]
    LambdaFunction.update_configuration = update_configuration  # type: ignore[method-assign]
    _INSTALLED = True

