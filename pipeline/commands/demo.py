"""`pipeline demo` (and `make demo`): the whole flow on the embedded emulator.

Today: validate the repo's environments, start the emulator, assume a role into every
configured account and show the table. It grows with the product into the full promotion.
"""

from __future__ import annotations

import argparse
import os

from pipeline.commands import accounts, validate
from pipeline.commands.context import Context


def configure(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    from pipeline.local.emulator import Emulator

    ctx = Context(args)
    ctx.out.progress("== 1. validate environments (offline)")
    validate.run(argparse.Namespace(**{**vars(args), "env": None}))
    with Emulator() as emulator:
        emulator.export_environment(os.environ)
        ctx.out.progress(f"\n== 2. embedded AWS emulator at {emulator.endpoint_url}")
        ctx.out.progress("\n== 3. assume a role into every configured account")
        accounts.run(argparse.Namespace(**{**vars(args), "env": None}))
    return 0
