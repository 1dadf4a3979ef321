"""The warm sandboxes of every function version, and their cleanup.

One sandbox per (account, region, function, version); when that version's code or settings
change (possible only for $LATEST), or its execution role's session nears expiry, the old sandbox
is discarded, as Lambda does. Everything is
killed and deleted on emulator shutdown, on reset, and when this Python process exits.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
import uuid
from pathlib import Path

from pipeline.local.execenv import Result, Sandbox, SandboxGone
from pipeline.local.resolve import FunctionCode, InvokeError, Target
from pipeline.local.runtime_api import Invocation, error_outcome


class Pool:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sandboxes: dict[tuple[str, str, str, str], Sandbox] = {}
        self._dir: Path | None = None
        self._background: set[threading.Thread] = set()

    def invoke(self, target: Target, payload: bytes, client_context: str | None = None) -> tuple[str, Result]:
        """Run one event synchronously; returns (request id, result)."""
        request_id = str(uuid.uuid4())
        invocation = Invocation(request_id, payload, target.invoked_arn, target.code.timeout_s,
                                client_context)
        return request_id, self._run(target.code, invocation)

    def invoke_later(self, target: Target, payload: bytes) -> str:
        """InvocationType=Event: queue it on a background thread; returns the request id."""
        request_id = str(uuid.uuid4())
        invocation = Invocation(request_id, payload, target.invoked_arn, target.code.timeout_s)
        thread = threading.Thread(target=self._run_background, args=(target.code, invocation),
                                  name=f"lambda-event-{request_id[:8]}", daemon=True)
        with self._lock:
            self._background.add(thread)
        thread.start()
        return request_id

    def _run_background(self, code: FunctionCode, invocation: Invocation) -> None:
        try:
            self._run(code, invocation)
        except InvokeError as exc:  # Lambda could not run the queued event (its role): it is dropped
            invocation.finish(error_outcome(exc.error_type, exc.message))
        finally:
            with self._lock:
                self._background.discard(threading.current_thread())

    def _run(self, code: FunctionCode, invocation: Invocation) -> Result:
        try:
            return self._sandbox_for(code).invoke(invocation)
        except SandboxGone:
            pass  # its warm process exited before taking the event: Lambda would start a new one
        try:
            return self._sandbox_for(code).invoke(invocation.fresh())
        except SandboxGone:
            outcome = error_outcome("Runtime.Unknown", "the execution environment was shut down")
            return Result(outcome, b"", None)

    def _sandbox_for(self, code: FunctionCode) -> Sandbox:
        stale: Sandbox | None = None
        with self._lock:
            key = code.identity()
            sandbox = self._sandboxes.get(key)
            if sandbox is None or not sandbox.alive or sandbox.fingerprint != code.fingerprint() \
                    or sandbox.expiring():
                stale = sandbox
                if self._dir is None:
                    self._dir = Path(tempfile.mkdtemp(prefix="pipeline-lambda-"))
                sandbox = self._sandboxes[key] = Sandbox(code, self._dir)
        if stale is not None:
            stale.close()
        return sandbox

    def sandboxes(self) -> list[Sandbox]:
        with self._lock:
            return list(self._sandboxes.values())

    def close_all(self) -> None:
        """Kill every process group and remove every private directory."""
        with self._lock:
            sandboxes = list(self._sandboxes.values())
            self._sandboxes.clear()
            directory, self._dir = self._dir, None
            background = list(self._background)
        closers = [threading.Thread(target=sandbox.close, daemon=True) for sandbox in sandboxes]
        for closer in closers:  # in parallel: each waits briefly for its Runtime API server to stop
            closer.start()
        for closer in closers:
            closer.join(timeout=10)
        for thread in background:
            thread.join(timeout=5)
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)


POOL = Pool()
atexit.register(POOL.close_all)
