"""`pipeline status`: one row per environment target: artifact, commit, version, when, who, smoke, drift."""

from __future__ import annotations

import argparse

from pipeline.commands.context import Context


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", help="one environment (default: all)")


def run(args: argparse.Namespace) -> int:
    from pipeline.engine.state import HEADERS, target_status

    ctx = Context(args)
    config = ctx.config()
    promotion, envs = ctx.promotion, config.select(args.env)
    statuses = []
    for env in envs:
        view = promotion.ledger.view(env.name)
        statuses += [target_status(promotion, env, target, view) for target in env.targets]
    ctx.out.table(HEADERS, [s.row() for s in statuses])
    for s in statuses:
        if s.drift:
            ctx.out.text(f"drift: {s.env} {s.target.account}/{s.target.region}: {s.drift_reason()}")
    ctx.out.document("status", environments=[s.to_dict() for s in statuses])
    return 0
