"""`pipeline local up`: keep the embedded AWS emulator running in the foreground for other shells."""

from __future__ import annotations

import argparse
import signal
import threading

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
