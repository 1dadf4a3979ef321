"""`pipeline unlock --env E --force`: break a promotion lock, put the env back on verified code, record it."""

from __future__ import annotations

import argparse

from pipeline.commands.context import Context
from pipeline.errors import InputError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True)
    parser.add_argument("--force", action="store_true", help="required: you are breaking someone's lock")


def run(args: argparse.Namespace) -> int:
    ctx = Context(args)
    env = ctx.config().env(args.env)
    if not args.force:
        raise InputError("unlock breaks a lock that may still be in use: add --force to confirm")
    from pipeline.core.records import holder
    from pipeline.engine.lock import EnvLock

    lock = EnvLock(ctx.engine, env)
    view, state = lock.observe()
    if state.started is None:
        ctx.out.text(f"{env.name}: not locked")
        ctx.out.document("unlock", env=env.name, broken=None)
        return 0
    who = holder(state.started).actor
    notes = lock.break_lock(view, state)
    ctx.out.text(f"{env.name}: lock {state.started.key} of {who} broken and recorded")
    ctx.out.document("unlock", env=env.name, broken=state.started.key, holder=who, notes=notes)
    return 0
