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
    up.add_argument("--timing", choices=("aws", "instant"), default=None,
                    help="how long AWS's asynchronous states last and what a call costs "
                         "(default: $PIPELINE_EMULATOR_TIMING, else aws)")
    up.add_argument("--time-scale", type=float, default=None, metavar="F",
                    help="multiply every modelled duration and latency by F (default: "
                         "$PIPELINE_EMULATOR_TIME_SCALE, else 1)")


def run(args: argparse.Namespace) -> int:
    from pipeline.local import timing
    from pipeline.local.emulator import Emulator

    ctx = Context(args)
    chosen = timing.from_env(name=args.timing, scale=args.time_scale)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with Emulator(port=args.port, timing=chosen) as emulator:
        env = emulator.environment()
        ctx.out.document("local", endpoint_url=emulator.endpoint_url, environment=env, timing=chosen.describe())
        ctx.out.text(f"# emulator running at {emulator.endpoint_url}, timing {chosen.describe()} "
                     "(Ctrl-C stops it). In another shell:")
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
