"""`pipeline local up`: keep the embedded AWS emulator running in the foreground for other shells;
and `--local` for any verb (`emulated`). The only doors from the product into `pipeline.local`,
with `demo`: nothing else imports the emulator.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator

from pipeline.commands.context import Context


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="local_command", metavar="ACTION", required=True)
    up = sub.add_parser("up", help="start the emulator and print the export lines for other shells")
    up.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")


def run(args: argparse.Namespace) -> int:
    from pipeline.local.emulator import Emulator

    ctx = Context(args)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with Emulator(port=args.port) as emulator:
        env = emulator.environment()
        ctx.out.document("local", endpoint_url=emulator.endpoint_url, environment=env)
        ctx.out.text(f"# emulator running at {emulator.endpoint_url} (Ctrl-C stops it). In another shell:")
        for key, value in env.items():
            ctx.out.text(f"export {key}={value}")
        ctx.out.stdout.flush()
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
    return 0


@contextlib.contextmanager
def emulated() -> Iterator[None]:
    """A fresh in-process emulator for one command, this process's AWS variables pointed at it."""
    from pipeline.local.emulator import Emulator

    with Emulator() as emulator:
        emulator.export_environment(os.environ)
        # said every time: state made here is gone when the command ends (a second --local starts empty)
        sys.stderr.write("pipeline: --local: a fresh, empty emulator for this command only; to keep state across "
                         "commands run `pipeline local up` and paste its export lines\n")
        yield
