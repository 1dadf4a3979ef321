"""A build's log as CodeBuild keeps it: every line of the build's output, sent to its CloudWatch Logs stream
(`<group>/<build uuid>`) as the project's service role while the build runs.

CodeBuild streams the log while a phase runs (the console tails it; GetLogEvents shows lines of a command
still running): `streaming()` sends what is pending every FLUSH_S seconds, and every phase change and the
build's end send the rest. One PutLogEvents at a time (a lock), so events keep their order. A refused
PutLogEvents (the role may not write its log) is said in the kept lines, never fails the build.
"""

from __future__ import annotations

import contextlib
import io
import threading
import time
from collections.abc import Iterator
from typing import Any

FLUSH_S = 0.25


class BuildLog(io.TextIOBase):
    """The build's output, line by line, kept and sent to CloudWatch Logs as it comes."""

    def __init__(self, build: Any) -> None:
        self.build = build
        self.client: Any = None
        self._partial = ""
        self._pending: list[dict[str, Any]] = []
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self._sending = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._partial += text
            *done, self._partial = self._partial.split("\n")
            for line in done:
                self.lines.append(line)
                self._pending.append({"timestamp": int(time.time() * 1000), "message": line})
        return len(text)

    def line(self, text: str) -> None:
        self.write(text.rstrip("\n") + "\n")

    def send(self) -> None:
        """PutLogEvents of what is pending (as the service role); a refusal is said in the log itself."""
        with self._sending:
            with self._lock:
                events, self._pending = self._pending, []
            if not events or self.client is None or not self.build.log_group:
                return
            from botocore.exceptions import ClientError

            try:
                self.client.put_log_events(logGroupName=self.build.log_group, logStreamName=self.build.uuid,
                                           logEvents=events)
            except ClientError as exc:
                self.lines.append(f"[Container] could not write the log: {exc}")

    @contextlib.contextmanager
    def streaming(self) -> Iterator[None]:
        """Send the pending lines every FLUSH_S seconds for as long as the block runs, then the rest."""
        done = threading.Event()

        def flush() -> None:
            while not done.wait(FLUSH_S):
                self.send()

        thread = threading.Thread(target=flush, name=f"codebuild-log {self.build.uuid[:8]}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join(timeout=5)
            self.send()
