"""`pipeline rollback --env E [--to SHA]`: alias back to the last good (or named) artifact, recorded."""

from __future__ import annotations

import argparse
import sys

from pipeline.commands.context import Context


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True)
    parser.add_argument("--to", metavar="SHA256", help="an artifact that passed smoke in this env")


def run(args: argparse.Namespace) -> int:
    ctx = Context(args)
    env = ctx.config().env(args.env)
    from pipeline.engine.promote import Promotion
    from pipeline.engine.rollback import rollback

    result = rollback(Promotion(ctx.config(), ctx.accounts, ctx.out), env, args.to)
    ctx.out.document("rollback", ok=result.ok, **result.to_dict())
    if not result.ok:
        sys.stderr.write(f"pipeline: error: rollback of {env.name} failed: "
                         + "; ".join(f"{r.label}: {r.reason}" for r in result.runs if r.outcome != "PASSED") + "\n")
        return 1
    return 0
