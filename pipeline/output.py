"""Rendering for people (text, tables) and for scripts (one JSON document on stdout).

JSON contract: with `--output json` every command prints exactly one JSON object on stdout,
`{"command": ..., "ok": true|false, ...}`; progress and errors go to stderr. Keys are only
ever added, never renamed, within a major version.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO


class Output:
    def __init__(self, fmt: str = "text", stdout: TextIO | None = None, stderr: TextIO | None = None) -> None:
        self.json = fmt == "json"
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr

    def progress(self, text: str) -> None:
        """A line about what is happening now (stderr in JSON mode so stdout stays parseable)."""
        stream = self.stderr if self.json else self.stdout
        stream.write(text + "\n")
        stream.flush()

    def text(self, text: str) -> None:
        if not self.json:
            self.stdout.write(text + "\n")

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> None:
        if self.json:
            return
        self.stdout.write(render_table(headers, rows, title) + "\n")

    def document(self, command: str, ok: bool = True, **fields: Any) -> None:
        if self.json:
            json.dump({"command": command, "ok": ok, **fields}, self.stdout, indent=2, sort_keys=True, default=str)
            self.stdout.write("\n")


def render_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> str:
    from tabulate import tabulate

    body = tabulate([["-" if c is None else c for c in row] for row in rows], headers=list(headers),
                    tablefmt="simple", disable_numparse=True)
    return f"{title}\n{body}" if title else body
