"""`pipeline rollback --env E [--artifact SHA]`: alias back to the last good (or named) artifact, recorded.

`--to SHA` is the old name of `--artifact` (it read like `promote --to ENV`); it still works for
one release, with a deprecation line on stderr.
"""

from __future__ import annotations

import argparse
import sys

from pipeline.commands.context import Context
from pipeline.errors import InputError
from pipeline.inputs import require_sha_prefix


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True)
    parser.add_argument("--artifact", metavar="SHA", help="an artifact that passed smoke in this env: its sha256 or "
                                                          "a unique prefix (>= 7 hex characters)")
    parser.add_argument("--to", metavar="SHA", help=argparse.SUPPRESS)  # deprecated name of --artifact
    parser.add_argument("--dry-run", action="store_true", help="print the rollback plan; write nothing")


def run(args: argparse.Namespace) -> int:
    ctx = Context(args)
    env = ctx.config().env(args.env)
    flag, value = "--artifact", args.artifact
    if args.to is not None:
        if args.artifact is not None:
            raise InputError("--to is the old name of --artifact: give only --artifact")
        flag, value = "--to", args.to
    artifact = require_sha_prefix(value, flag) if value is not None else None  # exit 2 before any AWS call
    if args.to is not None:  # after the check: bad input stays one error line
        sys.stderr.write("pipeline: warning: `rollback --to` is deprecated: use `rollback --artifact` (same value)\n")
    if ctx.config().service_functions:  # every function back to the last good release
        from pipeline.engine.service_rollback import rollback_service as rollback
    else:
        from pipeline.engine.rollback import rollback

    result = rollback(ctx.engine, env, artifact, flag, dry_run=args.dry_run)
    ctx.out.document("rollback", ok=result.ok, dry_run=args.dry_run, **result.to_dict())
    if not result.ok:
        sys.stderr.write(f"pipeline: error: rollback of {env.name} failed: "
                         + "; ".join(f"{r.label}: {r.reason}" for r in result.runs if r.outcome != "PASSED") + "\n")
        return 1
    return 0
