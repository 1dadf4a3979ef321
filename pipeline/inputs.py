"""Checks on command-line input, run before any AWS call: argparse `type=` callables and file readers.

An argparse type that raises ArgumentTypeError becomes one `pipeline: error: argument ...` line and
exit 2 (commands.usage.Parser), so a bad value never reaches a session, let alone a write.
"""

from __future__ import annotations

import argparse
import json
import re
import stat
from pathlib import Path
from typing import Any

from pipeline.errors import InputError

_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
MAX_EVENT_BYTES = 6 * 1024 * 1024  # Lambda's synchronous invocation payload limit


def require_sha_prefix(value: str, option: str) -> str:
    """A full sha256 or a prefix of one (core.shas.normalise), checked before any AWS call: exit 2 naming
    the option. The command resolves a prefix against what is staged or recorded (observe phase)."""
    from pipeline.core.shas import normalise

    try:
        return normalise(value)
    except ValueError as exc:
        raise InputError(f"{option}: {exc}") from None


def region_arg(value: str) -> str:
    if not _REGION.match(value):
        shown = value if len(value) <= 40 else value[:37] + "..."
        raise argparse.ArgumentTypeError(f"not an AWS region name (like us-east-1): {shown!r}")
    return value


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {number}")
    return number


def read_event(path: Path, option: str = "--event") -> dict[str, Any]:
    """A JSON object from a file: one clear InputError for a missing, special, huge or non-JSON file."""
    where = f"{option} {path}"
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError(f"{where}: file not found") from None
    except OSError as exc:
        raise InputError(f"{where}: cannot read ({exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{where}: is a directory, expected a JSON file")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{where}: is not a regular file (a device, FIFO or socket?)")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_EVENT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{where}: cannot read ({exc.strerror})") from None
    if len(raw) > MAX_EVENT_BYTES:
        raise InputError(f"{where}: larger than Lambda's 6 MB payload limit")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{where}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        raise InputError(f"{where}: JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise InputError(f"{where}: must be a JSON object, got {type(data).__name__}")
    return data
