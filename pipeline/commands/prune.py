"""`pipeline prune --env E [--keep N] [--dry-run]`: delete old versions of the env's function (a service's
every function), recorded.

Keeps the newest N (default: the env's `keep_versions`) and every version an alias points at or routes
a weight to, or that the ledger names as last good or as the rollback target. `--dry-run` prints the
same plan and deletes nothing.
"""

from __future__ import annotations

import argparse
import sys

from pipeline.commands.context import Context
from pipeline.inputs import positive_int


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True)
    parser.add_argument("--keep", type=positive_int, metavar="N",
                        help="versions to keep besides those in use (default: the env's keep_versions)")
    parser.add_argument("--dry-run", action="store_true", help="print what would be deleted; delete nothing")


def run(args: argparse.Namespace) -> int:
    ctx = Context(args)
    env = ctx.config().env(args.env)
    keep = args.keep if args.keep is not None else env.keep_versions
    from pipeline.engine.prune import prune_env

    runs = prune_env(ctx.engine, env, keep, dry_run=args.dry_run)
    failed = [w for w in (r.warning() for r in runs) if w]
    for r in runs:
        ctx.out.text(f"{r.label}: {'would delete' if args.dry_run else 'deleted'} "
                     + (", ".join(f"v{v}" for v in (r.decision.delete if args.dry_run and r.decision else r.deleted))
                        or "nothing"))
    ctx.out.document("prune", ok=not failed, env=env.name, keep=keep, dry_run=args.dry_run,
                     targets=[{"target": r.label.removesuffix(f" {r.function}"),
                               **({"function": r.function} if r.function else {}),
                               "delete": r.decision.delete if r.decision else [],
                               "verdicts": [v.to_dict() for v in r.decision.verdicts] if r.decision else [],
                               **({} if args.dry_run else r.summary())} for r in runs])
    if failed:
        sys.stderr.write("".join(f"pipeline: error: {w.removeprefix('warning: ')}\n" for w in failed))
        return 1
    return 0
