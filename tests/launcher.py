"""Run `pipeline <args>` in this process with test hooks on every AWS call (for crash and race tests).

    python tests/launcher.py [--kill SERVICE:Operation:N:PHASE] [--ready FILE --go FILE]
                             [--hold FILE] -- promote --to dev ...

--kill   SIGKILL this process at the Nth call (1-based, retries count) of SERVICE:Operation:
         PHASE `before` (the request is not sent), `after` (it took effect, the answer is not
         processed) or `during` (killed ~20 ms after the request went out, e.g. mid-Invoke).
--ready/--go  a barrier across processes: touch FILE `--ready` right before the ledger's
         `started` PutObject (the lock write), then wait until `--go` exists.
--start  with --ready/--go: wait at the start of the command instead (before any AWS call).
--hold   after this process's `started` record was written (it holds the lock), wait until
         FILE exists before going on.

The command's exit code is this process's exit code.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

WAIT_LIMIT = 120.0


def wait_for(path: str) -> None:
    deadline = time.monotonic() + WAIT_LIMIT
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            sys.stderr.write(f"launcher: gave up waiting for {path}\n")
            os._exit(99)
        time.sleep(0.005)


def is_started_put(model, params) -> bool:
    """Is this the ledger write of a `started` record (the lock)?"""
    if model.name != "PutObject" or "/ledger/" not in str(params.get("url", "")):
        return False
    body = params.get("body")
    data = body.getvalue() if hasattr(body, "getvalue") else body
    return isinstance(data, bytes) and b'"type":"started"' in data


def hooks(args: argparse.Namespace) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    if args.kill:
        service, operation, nth, phase = args.kill.split(":")
        seen = [0]

        def kill_before(model, context, **_):
            if model.service_model.service_name == service and model.name == operation:
                seen[0] += 1
                if seen[0] == int(nth):
                    if phase == "before":
                        os.kill(os.getpid(), signal.SIGKILL)
                    if phase == "during":
                        threading.Timer(0.02, os.kill, (os.getpid(), signal.SIGKILL)).start()
                    context["launcher_kill"] = phase

        def kill_after(context, **_):
            phase = context.get("launcher_kill")
            if phase == "after":
                os.kill(os.getpid(), signal.SIGKILL)
            if phase == "during":  # the answer came before the timer: go no further than this call
                time.sleep(WAIT_LIMIT)

        out += [("before-call", kill_before), ("after-call", kill_after)]
    if args.ready and not args.start:
        def barrier(model, params, **_):
            if is_started_put(model, params):
                Path(args.ready).touch()
                wait_for(args.go)

        out.append(("before-call", barrier))
    if args.hold:
        def mark(model, params, context, **_):
            if is_started_put(model, params):
                context["launcher_started_put"] = True

        def hold(http_response, context, **_):
            if context.get("launcher_started_put") and http_response.status_code == 200:
                wait_for(args.hold)

        out += [("before-call", mark), ("after-call", hold)]
    return out


def main() -> int:
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser()
    parser.add_argument("--kill")
    parser.add_argument("--ready")
    parser.add_argument("--go")
    parser.add_argument("--start", action="store_true")
    parser.add_argument("--hold")
    args = parser.parse_args(argv[:split])
    command = argv[split + 1:]

    from pipeline.aws import session as session_module
    from pipeline.cli import main as pipeline_main

    extra = hooks(args)
    original = session_module.SessionFactory.__init__

    def patched(self, *a, **kw):
        kw["event_hooks"] = [*(kw.get("event_hooks") or []), *extra]
        original(self, *a, **kw)

    session_module.SessionFactory.__init__ = patched
    if args.ready and args.start:
        Path(args.ready).touch()
        wait_for(args.go)
    return pipeline_main(command)


if __name__ == "__main__":
    sys.exit(main())
