"""One warm execution environment: a private copy of a version's code and one runtime process.

Like a Lambda sandbox it is started by the first invoke (cold start), reused by later ones
(warm), runs one invocation at a time, and is thrown away when its process exits, times out or
fails to initialise. The process gets its own process group so that killing the group also
takes down anything it started.
"""

from __future__ import annotations

import errno
import math
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.local import execrole, launch, unzip
from pipeline.local.lambda_log import Report, invocation_log
from pipeline.local.resolve import FunctionCode, InvokeError
from pipeline.local.runtime_api import Invocation, Outcome, RuntimeApiServer, error_outcome

INIT_TIMEOUT_S = 10.0  # Lambda's limit for a runtime to start and ask for its first event
MAX_LOG_FILE_BYTES = 8 * 1024 * 1024  # a long-lived warm process's captured output is cut back after this


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    log: bytes
    pid: int | None


class SandboxGone(Exception):
    """The sandbox's process ended (or it was closed) before this invocation got to it."""


class Sandbox:
    def __init__(self, code: FunctionCode, parent_dir: Path) -> None:
        self.code = code
        self.fingerprint = code.fingerprint()
        self._dir = Path(tempfile.mkdtemp(prefix=f"{code.name[:40]}-", dir=parent_dir))
        self._task = self._dir / "task"
        self._log_path = self._dir / "output.log"
        self._log_stream = launch.log_stream_name(code.version)
        self._invoke_lock = threading.Lock()     # one invocation at a time
        self._queue: queue.Queue[Invocation] = queue.Queue()
        self._active: Invocation | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._server: RuntimeApiServer | None = None
        self._started_at = 0.0
        self._exit_status: int | None = None
        self._closed = False
        self._max_rss_mb: int | None = None
        self._pickup_offset = 0
        self.session: execrole.Session | None = None  # the execution role's, from the cold start on

    @property
    def alive(self) -> bool:
        return not self._closed and self._exit_status is None

    def expiring(self) -> bool:
        """Its role session is close to expiry: the pool starts a fresh environment instead."""
        return self.session is not None and self.session.expiring()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    # -- the caller's side ------------------------------------------------------------------
    def invoke(self, invocation: Invocation) -> Result:
        with self._invoke_lock:
            if not self.alive:
                raise SandboxGone(self.code.name)
            cold = self._proc is None
            log_start = 0 if cold else self._log_size()
            self._active = invocation  # before the start: a runtime may exit at once
            if cold:
                try:
                    self.session = execrole.assume(self.code)
                except InvokeError:
                    self._active = None
                    self.close()
                    raise  # Lambda's API error, not the function's
                try:
                    self._start()
                except launch.LaunchError as exc:
                    self._active = None
                    self.close()
                    return self._result(invocation, exc.outcome, 0.0, None, b"", b"")
            self._queue.put(invocation)
            outcome = self._await(invocation)
            picked = invocation.picked_at
            ended = time.monotonic()
            init_ms = (picked - self._started_at) * 1000 if cold and picked else None
            duration_ms = (ended - picked) * 1000 if picked else 0.0
            if outcome.error_type == "Sandbox.Timedout" and picked:
                duration_ms = invocation.timeout_s * 1000
            self._sample_memory()
            output = self._read_log(log_start)
            if log_start + len(output) > MAX_LOG_FILE_BYTES and self.alive:
                os.truncate(self._log_path, 0)  # the runtime appends (O_APPEND): it goes on at the new end
            split = max(0, min(len(output), self._pickup_offset - log_start)) if cold else 0
            self._active = None
            if not self.alive or outcome.error_type == "Runtime.InitError":
                self.close()
            if not cold and picked is None and outcome.error_type == "Runtime.ExitError":
                raise SandboxGone(self.code.name)  # a warm process ended while idle: never saw this event
            return self._result(invocation, outcome, duration_ms, init_ms, output[:split], output[split:])

    def _await(self, invocation: Invocation) -> Outcome:
        init_deadline = time.monotonic() + INIT_TIMEOUT_S
        while True:
            if invocation.outcome is None and self._exit_status is not None:
                invocation.finish(self._exit_outcome(invocation))  # exited before we were waiting
            if invocation.outcome is not None:
                return invocation.outcome
            picked = invocation.picked_at
            limit = init_deadline if picked is None else picked + invocation.timeout_s
            remaining = limit - time.monotonic()
            if remaining <= 0:
                rid = invocation.request_id
                seconds = INIT_TIMEOUT_S if picked is None else invocation.timeout_s
                phase = " (the runtime never asked for an event: init phase)" if picked is None else ""
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
                text = f"Task timed out after {seconds:.2f} seconds{phase}"
                timed_out = error_outcome("Sandbox.Timedout", f"RequestId: {rid} Error: {text}",
                                          f"{stamp}Z {rid} {text}")
                if invocation.finish(timed_out):
                    self._kill_and_reap()
                return invocation.outcome or timed_out
            invocation.changed.wait(remaining)
            invocation.changed.clear()

    def _result(self, invocation: Invocation, outcome: Outcome, duration_ms: float, init_ms: float | None,
                init_output: bytes, output: bytes) -> Result:
        report = Report(invocation.request_id, self.code.version, duration_ms, self.code.memory_mb,
                        self._max_rss_mb, init_ms)
        return Result(outcome, invocation_log(report, init_output, output, outcome.log_line), self.pid)

    # -- the runtime's side (called by the Runtime API server) --------------------------------
    def next_invocation(self) -> Invocation | None:
        while self.alive:
            try:
                invocation = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            self._pickup_offset = self._log_size()
            self._sample_memory()
            invocation.pick()
            return invocation
        return None

    def current(self, request_id: str) -> Invocation | None:
        active = self._active
        if active is not None and active.request_id == request_id and active.picked_at is not None:
            return active
        return None

    def init_failed(self, outcome: Outcome) -> None:
        active = self._active
        init_error = Outcome(outcome.payload, outcome.error_type or "Runtime.InitError")
        if active is not None:
            active.finish(init_error)
        self._kill_and_reap()

    # -- process lifecycle -------------------------------------------------------------------
    def _start(self) -> None:
        self._task.mkdir()
        (self._dir / "tmp").mkdir()
        if not self.code.code:
            raise launch.LaunchError(error_outcome(
                "Runtime.InvalidEntrypoint", "the function has no code bytes (was its S3 object missing when "
                "the code was set?)"))
        try:
            unzip.extract(self.code.code, self._task)
        except unzip.UnsafeZip as exc:
            raise launch.LaunchError(error_outcome("Runtime.InvalidEntrypoint", str(exc))) from None
        argv = launch.command(self.code, self._task)
        self._server = RuntimeApiServer(self)
        self._server.start()
        env = launch.environment(self.code, self._server.address, self._task, self._dir / "tmp",
                                 self._log_stream, self.session.environment() if self.session else None)
        self._started_at = time.monotonic()
        with open(self._log_path, "ab") as log:
            for attempt in range(20):
                try:
                    self._proc = subprocess.Popen(argv, cwd=self._task, env=env, stdin=subprocess.DEVNULL,
                                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
                    break
                except OSError as exc:
                    # ETXTBSY: a child forked by another thread (another sandbox starting) still holds the
                    # inherited write handle of this freshly extracted binary until it execs. It goes away.
                    if exc.errno == errno.ETXTBSY and attempt < 19:
                        time.sleep(0.005 * (attempt + 1))
                        continue
                    message = f"fork/exec {Path(argv[-1]).name}: {exc.strerror}"
                    raise launch.LaunchError(error_outcome("Runtime.InvalidEntrypoint", message)) from None
        threading.Thread(target=self._watch, args=(self._proc,), name=f"lambda-wait-{self._proc.pid}",
                         daemon=True).start()

    def _watch(self, proc: subprocess.Popen[bytes]) -> None:
        status = proc.wait()
        self._exit_status = status
        _kill_group(proc.pid)  # whatever it left behind goes with it, as when Lambda resets a sandbox
        active = self._active
        if active is not None:
            active.finish(self._exit_outcome(active))

    def _exit_outcome(self, invocation: Invocation) -> Outcome:
        reason = _describe_exit(self._exit_status or 0)
        return error_outcome("Runtime.ExitError", f"RequestId: {invocation.request_id} Error: {reason}")

    def _kill_and_reap(self) -> None:
        proc = self._proc
        if proc is None:
            return
        _kill_group(proc.pid)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self._exit_status = proc.returncode if proc.returncode is not None else -signal.SIGKILL

    def close(self) -> None:
        """Kill the process group, stop the Runtime API server, delete the private directory."""
        self._closed = True
        self._kill_and_reap()
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._active is None:  # else the invoking thread still reads the log; the pool's dir goes later
            shutil.rmtree(self._dir, ignore_errors=True)

    # -- helpers -----------------------------------------------------------------------------
    def _log_size(self) -> int:
        try:
            return self._log_path.stat().st_size
        except OSError:
            return 0

    def _read_log(self, start: int) -> bytes:
        try:
            with open(self._log_path, "rb") as handle:
                handle.seek(start)
                return handle.read()
        except OSError:
            return b""

    def _sample_memory(self) -> None:
        if self._proc is None or self._exit_status is not None:
            return
        try:
            with open(f"/proc/{self._proc.pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        self._max_rss_mb = max(self._max_rss_mb or 0, math.ceil(int(line.split()[1]) / 1024))
        except (OSError, ValueError):
            pass


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _describe_exit(status: int) -> str:
    if status == 0:
        return "Runtime exited without providing a reason"
    if status > 0:
        return f"Runtime exited with error: exit status {status}"
    name = signal.strsignal(-status) or f"signal {-status}"
    return f"Runtime exited with error: signal: {name[0].lower()}{name[1:]}"
