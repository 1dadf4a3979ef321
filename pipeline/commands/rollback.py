"""`pipeline rollback --env E [--to SHA]`: alias back to the last good (or named) artifact, recorded."""

from __future__ import annotations

import argparse
import sys

from pipeline.commands.context import Context
from pipeline.inputs import require_sha256


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True)
    parser.add_argument("--to", metavar="SHA256", help="an artifact that passed smoke in this env")


def run(args: argparse.Namespace) -> int:
    ctx = Context(args)
    env = ctx.config().env(args.env)
    to = require_sha256(args.to, "--to") if args.to is not None else None  # exit 2 before any AWS call
    from pipeline.engine.rollback import rollback

    result = rollback(ctx.promotion, env, to)
    ctx.out.document("rollback", ok=result.ok, **result.to_dict())
    if not result.ok:
        sys.stderr.write(f"pipeline: error: rollback of {env.name} failed: "
                         + "; ".join(f"{r.label}: {r.reason}" for r in result.runs if r.outcome != "PASSED") + "\n")
        return 1
    return 0
