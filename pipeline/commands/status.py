"""`pipeline status`: one row per environment target: artifact, commit, version, when, who, smoke, drift;
then a line per held lock (holder, age, lease) and per canary split while a promotion runs."""

from __future__ import annotations

import argparse

from pipeline.commands.context import Context


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", help="one environment (default: all)")


def run(args: argparse.Namespace) -> int:
    from pipeline.core.ledger import lock_state
    from pipeline.core.locks import age_seconds
    from pipeline.engine.lock import EnvLock
    from pipeline.engine.state import HEADERS, LockStatus, target_status

    ctx = Context(args)
    engine, envs = ctx.engine, ctx.config().select(args.env)
    statuses, locks = [], []
    for env in envs:
        view = engine.ledger.view(env.name)
        lock = lock_state(view.newest_first())
        dead = EnvLock(engine, env).dead(lock) if lock.held else None
        if lock.held:
            locks.append(LockStatus(env.name, lock, age_seconds(lock, engine.now()), dead))
        statuses += [target_status(engine, env, target, view, lock=lock, dead=dead) for target in env.targets]
    ctx.out.table(HEADERS, [s.row() for s in statuses])
    for s in statuses:
        where = f"{s.env} {s.target.account}/{s.target.region}"
        for finding in s.findings:
            ctx.out.text(f"{'drift' if finding.kind == 'drift' else 'canary'}: {where}: {finding.message}; "
                         f"fix: {finding.fix}")
    for held in locks:
        ctx.out.text(held.line())
    for s in statuses:
        if s.canary and not any(f.kind == "leftover-canary" for f in s.findings):
            ctx.out.text(f"canary: {s.env} {s.target.account}/{s.target.region}: {s.canary} (promotion running)")
    ctx.out.document("status", environments=[s.to_dict() for s in statuses], locks=[h.to_dict() for h in locks])
    return 0
