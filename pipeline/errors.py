"""The product's error types, each carrying the exit code the CLI contract gives it.

0 ok; 1 operation failed; 2 bad usage or invalid config/input; 3 refused by a gate or a lock.
Every layer raises these; only the CLI turns them into a stderr line and an exit code.
"""

from __future__ import annotations

import re
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3


def one_line(text: str) -> str:
    """`text` with its line breaks folded: an error is one line, whatever an AWS message or exception held."""
    return re.sub(r"\s*[\r\n]+\s*", " ", text).strip()


class PipelineError(Exception):
    """An operation failed (AWS error, smoke failure rolled back): exit 1."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, details: list[str] | None = None,
                 fields: dict[str, Any] | None = None) -> None:
        message = one_line(message)
        super().__init__(message)
        self.message = message
        self.details = details or []
        self.fields = fields or {}  # structured facts for the `--output json` error document (e.g. `gates`)


class InputError(PipelineError):
    """Bad usage or invalid config/input: exit 2, and nothing was written to AWS."""

    exit_code = EXIT_USAGE


class ConfigError(InputError):
    """One or more configuration problems; each detail is one `file:line: key: message` line."""

    def __init__(self, problems: list[str]) -> None:
        first = problems[0] if problems else "invalid configuration"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(first + more, details=problems)
        self.problems = problems


class RefusedError(PipelineError):
    """Refused by a gate, a lock or a guard: exit 3."""

    exit_code = EXIT_REFUSED
