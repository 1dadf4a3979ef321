"""The log text Lambda writes around a function's own output, and the 4 KB tail `LogType=Tail` returns.

Real Lambda frames each invocation's output with START / END / REPORT lines (the REPORT line has
the duration, memory and, on a cold start, the init duration). Callers and humans read these,
so the emulator writes the same lines.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass

TAIL_BYTES = 4096


@dataclass(frozen=True)
class Report:
    request_id: str
    version: str
    duration_ms: float
    memory_mb: int
    max_memory_mb: int | None
    init_duration_ms: float | None


def invocation_log(report: Report, init_output: bytes, output: bytes, note: str = "") -> bytes:
    """The whole log of one invocation (init output first on a cold start, like the log stream)."""
    rid = report.request_id
    parts = [init_output, f"START RequestId: {rid} Version: {report.version}\n".encode(), output]
    if output and not output.endswith(b"\n"):
        parts.append(b"\n")
    if note:
        parts.append(note.rstrip("\n").encode() + b"\n")
    parts.append(f"END RequestId: {rid}\n".encode())
    fields = [
        f"REPORT RequestId: {rid}",
        f"Duration: {report.duration_ms:.2f} ms",
        f"Billed Duration: {max(1, math.ceil(report.duration_ms))} ms",
        f"Memory Size: {report.memory_mb} MB",
    ]
    if report.max_memory_mb is not None:
        fields.append(f"Max Memory Used: {report.max_memory_mb} MB")
    if report.init_duration_ms is not None:
        fields.append(f"Init Duration: {report.init_duration_ms:.2f} ms")
    parts.append(("\t".join(fields) + "\t\n").encode())
    return b"".join(parts)


def tail(log: bytes) -> str:
    """Base64 of the last 4 KB, as in the X-Amz-Log-Result header."""
    return base64.b64encode(log[-TAIL_BYTES:]).decode()
