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
    from pipeline.core.ledger import lock_state
    from pipeline.engine.reconcile import reconcile

    promotion = ctx.promotion
    view = promotion.ledger.view(env.name)
    lock = lock_state(view.newest_first())
    if not lock.held:
        ctx.out.text(f"{env.name}: not locked")
        ctx.out.document("unlock", env=env.name, broken=None)
        return 0
    assert lock.started is not None
    holder = (lock.started.get("holder") or {}).get("actor", "unknown")
    notes = reconcile(promotion, env, view, lock, why=f"lock of {holder} ({lock.started.key}) broken by "
                                                       f"{promotion.actor} with --force")
    ctx.out.text(f"{env.name}: lock {lock.started.key} of {holder} broken and recorded")
    ctx.out.document("unlock", env=env.name, broken=lock.started.key, holder=holder, notes=notes)
    return 0
