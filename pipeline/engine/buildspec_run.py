"""Run a parsed buildspec's phases with bash, as CodeBuild would, streaming the output.

The rules (phase order, transitions, variables) live in pipeline.core.buildspec; this module
only starts processes: one bash per run of commands, with the environment and directory the
previous one left behind, so `export` and `cd` carry over like in one CodeBuild shell.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from pipeline.core.buildspec import Buildspec, Phase, after_failure, block_script, carried, exported_values, short

TAIL_LINES = 20


@dataclass
class Failure:
    phase: str
    index: int  # position in the phase's commands (or finally) list
    command: str
    exit_code: int
    block: str = "commands"  # or "finally"

    def describe(self, source: str) -> str:
        which = "command" if self.block == "commands" else "finally command"
        return f"{source}: phase {self.phase} failed: {which} {self.index + 1} `{short(self.command)}` " \
               f"exited {self.exit_code}"

    def to_dict(self) -> dict[str, Any]:
        return {"phase": self.phase, "block": self.block, "index": self.index, "command": self.command,
                "exit_code": self.exit_code}


@dataclass
class PhaseResult:
    name: str
    status: str  # SUCCEEDED | FAILED | SKIPPED | NOT_RUN
    seconds: float = 0.0
    failure: Failure | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"phase": self.name, "status": self.status, "seconds": round(self.seconds, 3),
                "failure": self.failure.to_dict() if self.failure else None}


@dataclass
class RunResult:
    phases: list[PhaseResult] = field(default_factory=list)
    exported: dict[str, str] = field(default_factory=dict)
    missing_exports: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)

    @property
    def failure(self) -> Failure | None:
        return next((p.failure for p in self.phases if p.failure), None)

    @property
    def ok(self) -> bool:
        return self.failure is None


@dataclass
class _Block:
    code: int
    failed_at: int | None
    env: dict[str, str]
    cwd: str


class BuildspecRunner:
    def __init__(self, spec: Buildspec, env: dict[str, str], cwd: Path, *, stream: TextIO,
                 progress: Callable[[str], None], skip: Sequence[str] = (), own_group: bool = False) -> None:
        self.spec = spec
        self.own_group = own_group  # each shell in its own process group, so stop() ends all it started
        self.stopped = False
        self._proc: subprocess.Popen[bytes] | None = None
        self.env = dict(env)
        self.cwd = str(cwd)
        self.stream = stream
        self.progress = progress
        self.skip = set(skip)
        self.tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)

    def stop(self) -> None:
        """End the running commands (their whole process group with own_group) and run nothing more."""
        self.stopped = True
        proc = self._proc
        if proc is not None and proc.poll() is None:
            try:
                if self.own_group:
                    os.killpg(proc.pid, signal.SIGKILL)
                else:
                    proc.kill()
            except (ProcessLookupError, PermissionError):
                pass

    def run(self) -> RunResult:
        result = RunResult()
        succeeding, only_post_build, stopped = True, False, False
        for phase in self.spec.phases:
            stopped = stopped or self.stopped
            if stopped or (only_post_build and phase.name != "post_build"):
                result.phases.append(PhaseResult(phase.name, "NOT_RUN"))
                continue
            if phase.name in self.skip:
                self.progress(f"[Container] Skipping phase {phase.name.upper()} (--skip-phase)")
                result.phases.append(PhaseResult(phase.name, "SKIPPED"))
                continue
            if phase.runtime_versions:
                versions = ", ".join(f"{k} {v}" for k, v in phase.runtime_versions.items())
                self.progress(f"[Container] runtime-versions ({versions}): not installed locally; "
                              "the machine's toolchains are used")
            self.env["CODEBUILD_BUILD_SUCCEEDING"] = "1" if succeeding else "0"
            outcome = self._phase(phase)
            result.phases.append(outcome)
            if outcome.status == "FAILED":
                succeeding = False
                rule = after_failure(phase)
                stopped = rule == "stop" or phase.name == "post_build"
                only_post_build = rule == "post_build"
        if result.ok:
            result.exported, result.missing_exports = exported_values(self.spec, self.env)
        result.tail = list(self.tail)
        return result

    def _phase(self, phase: Phase) -> PhaseResult:
        started = time.monotonic()
        self.progress(f"[Container] Entering phase {phase.name.upper()}")
        failure = None
        block = self._block(phase.commands)
        if block.failed_at is not None:
            failure = Failure(phase.name, block.failed_at, phase.commands[block.failed_at], block.code)
        if phase.finally_:
            after = self._block(phase.finally_)
            if after.failed_at is not None and failure is None:
                failure = Failure(phase.name, after.failed_at, phase.finally_[after.failed_at], after.code, "finally")
        status = "FAILED" if failure else "SUCCEEDED"
        self.progress(f"[Container] Phase complete: {phase.name.upper()} State: {status}")
        if failure:
            self.progress(f"[Container] Phase context status code: COMMAND_EXECUTION_ERROR Message: Error while "
                          f"executing command: {short(failure.command)}. Reason: exit status {failure.exit_code}")
        return PhaseResult(phase.name, status, time.monotonic() - started, failure)

    def _block(self, commands: Sequence[str]) -> _Block:
        """commands in order; a command that ends the shell with status 0 lets the rest run in a new one."""
        start = 0
        while start < len(commands):
            if self.stopped:
                return _Block(-signal.SIGKILL, start, self.env, self.cwd)
            code, step = self._shell(commands, start)
            if code != 0:
                return _Block(code, step if step is not None else start, self.env, self.cwd)
            if step is None:  # every command ran
                break
            start = step + 1
        return _Block(0, None, self.env, self.cwd)

    def _shell(self, commands: Sequence[str], start: int) -> tuple[int, int | None]:
        with tempfile.TemporaryDirectory(prefix="buildspec-") as tmp:
            state = {"__PL_STEP": os.path.join(tmp, "step"), "__PL_ENV": os.path.join(tmp, "env"),
                     "__PL_CWD": os.path.join(tmp, "cwd")}
            script = os.path.join(tmp, "commands.sh")
            Path(script).write_text(block_script(commands, start))
            shell = "bash" if self.spec.shell == "bash" else "sh"
            proc = subprocess.Popen([shell, script] if shell == "sh" else ["bash", "--noprofile", "--norc", script],
                                    cwd=self.cwd, env={**self.env, **state}, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=self.own_group)
            self._proc = proc
            assert proc.stdout is not None
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace")
                self.stream.write(line)
                self.stream.flush()
                self.tail.append(line.rstrip("\n"))
            code = proc.wait()
            self._proc = None
            step_text = _read(state["__PL_STEP"])
            dump = Path(state["__PL_ENV"])
            if dump.is_file():
                self.env = carried(dump.read_bytes())
            cwd = _read(state["__PL_CWD"]).strip()
            if cwd and os.path.isdir(cwd):
                self.cwd = cwd
        if step_text == "done":
            return code, None
        return code, int(step_text) if step_text.isdigit() else None


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""
