"""Pure judgements for `pipeline doctor`: each observed fact becomes a pass/fail/skip with a fix hint."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pipeline.core.bootstrap import TAG_ARTIFACT, LiveFunction
from pipeline.core.function import GO_HANDLER, GO_RUNTIME
from pipeline.core.stacks import Health, classify
from pipeline.infra.stub import STUB_HANDLER, STUB_RUNTIME, stub_sha256

PASS, FAIL, SKIP = "pass", "fail", "skip"


@dataclass(frozen=True)
class Check:
    name: str
    where: str
    status: str  # pass | fail | skip
    detail: str
    hint: str = ""

    @property
    def failed(self) -> bool:
        return self.status == FAIL

    def row(self) -> list[str]:
        return [self.name, self.where, self.status.upper(), self.detail, self.hint]

    @property
    def command(self) -> str:
        """The command line the hint suggests, as it must be pasted ('' when the fix is not a command)."""
        return fix_command(self.hint)

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.name, "where": self.where, "status": self.status, "detail": self.detail,
                "hint": self.hint, "command": self.command}


# a hint names at most one command: `pipeline VERB` and its options and values, up to "(", ":", ";" or the end
_COMMAND = re.compile(r"\bpipeline [a-z][a-z-]*(?: (?:--?[a-z][a-z-]*|[A-Za-z0-9_./=-]+))*")


def fix_command(hint: str) -> str:
    found = _COMMAND.search(hint)
    return found.group(0) if found else ""


def passed(name: str, where: str, detail: str) -> Check:
    return Check(name, where, PASS, detail)


def failed(name: str, where: str, detail: str, hint: str) -> Check:
    return Check(name, where, FAIL, detail, hint)


def skipped(name: str, where: str, because: str) -> Check:
    return Check(name, where, SKIP, f"not checked: {because}")


def stack_check(name: str, where: str, stack: str, status: str | None, version: str | None, expected: str,
                fix: str) -> Check:
    """Present, healthy (status class) and current (tagged version == freshly rendered version)."""
    health = classify(status)
    if health is Health.ABSENT:
        return failed(name, where, f"stack {stack} not found: this account is not bootstrapped", f"run {fix}")
    if health is Health.IN_PROGRESS:
        return failed(name, where, f"stack {stack} is {status}", "wait for the running operation, then check again")
    if health in (Health.STUCK_RECREATE, Health.STUCK_CONTINUE_ROLLBACK):
        return failed(name, where, f"stack {stack} is {status} ({health.value})", f"run {fix} (it recovers this)")
    if health is Health.FAILED:
        return failed(name, where, f"stack {stack} is {status}", "inspect the stack events in the console")
    if version != expected:
        return failed(name, where, f"stack {stack} is out of date: version {version or '(none)'} deployed, "
                                   f"{expected} rendered from the current config", f"run {fix}")
    return passed(name, where, f"{stack} {status}, version {version}")


def bucket_region_check(where: str, bucket: str, bucket_region: str, function_region: str) -> Check:
    if bucket_region != function_region:
        return failed("bucket region", where, f"artifact bucket {bucket} is in {bucket_region}, the function in "
                                              f"{function_region}: Lambda reads code only from its own region",
                      "run pipeline bootstrap --tooling (one artifact bucket per target region)")
    return passed("bucket region", where, f"{bucket} in {bucket_region}, same as the function")


def function_check(where: str, name: str, live: LiveFunction | None, architecture: str, fix: str,
                   handler: str = GO_HANDLER) -> Check:
    """The function exists with the runtime its stage implies: the stub before promotion, Go after (under
    `handler`: a multi-function service's function runs the one binary under its own handler)."""
    if live is None:
        return failed("function", where, f"function {name} not found", f"run {fix}")
    if live.architecture != architecture:
        return failed("function", where, f"{name} runs on {live.architecture}, config says {architecture}",
                      f"run {fix}")
    tagged = live.tags.get(TAG_ARTIFACT)
    if live.runtime == GO_RUNTIME:
        if live.handler != handler:
            return failed("function", where, f"{name}: handler {live.handler!r}, expected {handler!r}",
                          f"run {fix} (the function stack sets the Go handler back)")
        return passed("function", where, f"{name}: {GO_RUNTIME}, artifact {live.sha256[:12]}")
    if live.runtime == STUB_RUNTIME:
        if tagged and tagged != stub_sha256():
            return failed("function", where, f"{name} is back on the stub runtime {STUB_RUNTIME} but is tagged "
                                             f"with artifact {tagged[:12]}: the runtime was reverted",
                          f"run {fix} (the function stack takes the live alias's code and runtime back)")
        if live.handler != STUB_HANDLER:
            return failed("function", where, f"{name}: handler {live.handler!r}, expected {STUB_HANDLER!r}",
                          f"run {fix}")
        return passed("function", where, f"{name}: bootstrap stub ({STUB_RUNTIME}); nothing promoted yet")
    return failed("function", where, f"{name}: unexpected runtime {live.runtime!r} (expected {GO_RUNTIME}, or "
                                     f"{STUB_RUNTIME} before the first promotion)", f"run {fix}")
