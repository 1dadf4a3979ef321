"""`pipeline promote --to E [--artifact SHA] [--approve [--reason TEXT]] [--dry-run]`."""

from __future__ import annotations

import argparse

from pipeline.commands.context import Context
from pipeline.errors import EXIT_FAILED, EXIT_OK


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to", required=True, metavar="ENV", help="environment to promote into")
    parser.add_argument("--artifact", metavar="SHA256", help="artifact digest (default: what passed in the "
                        "predecessor; for the first stage, the newest staged)")
    parser.add_argument("--approve", action="store_true", help="approve (recorded with your STS identity)")
    parser.add_argument("--reason", help="why (recorded with the approval)")
    parser.add_argument("--dry-run", action="store_true", help="print gates and plan; write nothing")


def run(args: argparse.Namespace) -> int:
    ctx = Context(args)
    config = ctx.config()
    env = config.env(args.to)  # exit 2 before any AWS call
    if args.reason and not args.approve:
        from pipeline.errors import InputError

        raise InputError("--reason goes with --approve")
    from pipeline.engine.promote import Promotion

    result = Promotion(config, ctx.accounts, ctx.out).promote(
        env.name, args.artifact, approve=args.approve, reason=args.reason, dry_run=args.dry_run)
    ctx.out.document("promote", ok=result.ok, dry_run=args.dry_run, **result.to_dict())
    if not result.ok:
        failed = [f"{r.label}: {r.outcome}: {r.reason}" for r in result.runs if r.outcome != "PASSED"]
        import sys

        sys.stderr.write(f"pipeline: error: promotion of {result.artifact[:12]} to {env.name} failed: "
                         f"{'; '.join(failed)}\n")
        return EXIT_FAILED
    return EXIT_OK
