"""Rendering for people (text, tables) and for scripts (one JSON document on stdout).

JSON contract: with `--output json` every command prints exactly one JSON object on stdout,
`{"command": ..., "ok": true|false, ...}`; progress and errors go to stderr. Keys are only
ever added, never renamed, within a major version.

In CodeBuild (CODEBUILD_BUILD_ID set) the lines for people become log records instead: one JSON
object per line, `{"time", "level", "command", "message", "build_id"}` (tables add `table`), so
CloudWatch Logs Insights can filter and count them. Where they go (stdout, or stderr under
`--output json`) and the JSON document itself do not change.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO


class Output:
    def __init__(self, fmt: str = "text", stdout: TextIO | None = None, stderr: TextIO | None = None, *,
                 command: str | None = None, environ: Mapping[str, str] | None = None) -> None:
        self.json = fmt == "json"
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.command = command
        self.build_id = (os.environ if environ is None else environ).get("CODEBUILD_BUILD_ID") or None

    def progress(self, text: str) -> None:
        """A line about what is happening now (stderr in JSON mode so stdout stays parseable)."""
        stream = self.stderr if self.json else self.stdout
        if self.build_id:
            self.log(stream, "warning" if text.startswith("warning:") else "info", text)
            return
        stream.write(text + "\n")
        stream.flush()

    def text(self, text: str) -> None:
        if self.json:
            return
        if self.build_id:
            self.log(self.stdout, "info", text)
            return
        self.stdout.write(text + "\n")

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> None:
        if self.json:
            return
        if self.build_id:
            self.log(self.stdout, "info", title or "table",
                     table={"headers": list(headers), "rows": [list(row) for row in rows]})
            return
        self.stdout.write(render_table(headers, rows, title) + "\n")

    def error(self, message: str, details: Sequence[str] = ()) -> None:
        """The one error line on stderr (a level "error" record in CodeBuild)."""
        if self.build_id:
            self.log(self.stderr, "error", message, **({"details": list(details)} if details else {}))
            return
        self.stderr.write(f"pipeline: error: {message}\n")
        self.stderr.flush()

    def log(self, stream: TextIO, level: str, message: str, **extra: Any) -> None:
        """One structured log record on one line."""
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        record = {"time": now, "level": level, "command": self.command, "message": message,
                  "build_id": self.build_id, **extra}
        stream.write(json.dumps(record, default=str) + "\n")
        stream.flush()

    def document(self, command: str, ok: bool = True, **fields: Any) -> None:
        if self.json:
            json.dump({"command": command, "ok": ok, **fields}, self.stdout, indent=2, sort_keys=True, default=str)
            self.stdout.write("\n")


def render_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> str:
    from tabulate import tabulate

    body = tabulate([["-" if c is None else c for c in row] for row in rows], headers=list(headers),
                    tablefmt="simple", disable_numparse=True)
    return f"{title}\n{body}" if title else body
