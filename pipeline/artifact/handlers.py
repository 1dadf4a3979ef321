"""Which handlers a built binary serves, and whether the handlers a configuration wants are among them.

One binary serves several Lambda functions; each function's Handler (`_HANDLER` at run time) picks
one. The build asks the binary: run with `PIPELINE_HANDLERS=list`, it prints `{"handlers": [...]}`
on stdout and exits 0 without starting the Lambda loop. A binary that does not answer that way
(an older module, a crash, a hang) serves "unknown" handlers: nothing is checked then.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from pipeline.errors import InputError

LIST_ENV = "PIPELINE_HANDLERS"
LIST_VALUE = "list"
LIST_TIMEOUT = 5.0  # seconds; a binary without the listing mode may wait for a Runtime API forever
HANDLER_RE = re.compile(r"^\S{1,128}$")  # Lambda's Handler: up to 128 characters, no whitespace

# `_HANDLER` values a binary serving the target also serves, though its listing does not name them:
# `bootstrap` is the Handler every function of the one-function releases is configured with.
ALIASES: Mapping[str, str] = {"bootstrap": "api"}


def parse_listing(stdout: str) -> tuple[str, ...] | None:
    """The sorted handler names of a listing's stdout, or None when it is not a listing."""
    try:
        data = json.loads(stdout)
    except ValueError:
        return None
    names = data.get("handlers") if isinstance(data, dict) else None
    if not isinstance(names, list) or not all(isinstance(n, str) and HANDLER_RE.match(n) for n in names):
        return None
    return tuple(sorted(set(names)))


def ask_binary(binary: Path, timeout: float | None = None) -> tuple[str, ...] | None:
    """Run `binary` in listing mode and return what it serves; None when it does not answer.

    The binary gets an environment of its own (no credentials, no Runtime API address), so one
    that ignores the listing mode fails or waits instead of reaching anything; it is killed after
    `timeout` seconds.
    """
    env = {LIST_ENV: LIST_VALUE, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    try:
        res = subprocess.run(
            [str(binary)], env=env, cwd=Path(binary).parent, stdin=subprocess.DEVNULL, capture_output=True,
            timeout=LIST_TIMEOUT if timeout is None else timeout, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if res.returncode != 0:
        return None
    return parse_listing(res.stdout.decode("utf-8", "replace"))


def accepted(served: Sequence[str]) -> set[str]:
    """Every Handler value a binary serving `served` accepts: the names and their aliases."""
    names = set(served)
    return names | {alias for alias, target in ALIASES.items() if target in names}


def check_handlers(served: Sequence[str] | None, wanted: Mapping[str, tuple[str, str]]) -> None:
    """Check each wanted handler is served; raise InputError (exit 2) naming the first one that is not.

    `wanted` maps a function key to (handler, where), `where` being the configuration location
    (e.g. "environments/pipeline.yml:12 functions.worker.handler"). With `served` None (the
    binary did not answer) nothing can be checked and nothing is raised. The error is one line,
    `<where>: handler 'x' is not served by the binary (it serves: api, worker)`; with several
    problems the others follow as " (and N more)" and every line is in `details`.
    """
    if served is None:
        return
    ok = accepted(served)
    shown = ", ".join(sorted(set(served))) or "nothing"
    problems = [
        f"{where}: handler {handler!r} is not served by the binary (it serves: {shown})"
        for handler, where in wanted.values()
        if handler not in ok
    ]
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InputError(problems[0] + more, details=problems)
