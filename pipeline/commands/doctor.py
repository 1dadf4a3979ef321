"""`pipeline doctor --env E`: preflight checks, each pass/fail with a fix hint; exit 1 if any fails."""

from __future__ import annotations

import argparse

from pipeline.commands.context import Context
from pipeline.errors import EXIT_FAILED, EXIT_OK


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True, help="the environment to check")


def run(args: argparse.Namespace) -> int:
    ctx = Context(args)
    config = ctx.config()
    env = config.env(args.env)

    from pipeline.engine.doctor import Doctor

    checks = Doctor(config, ctx.sessions, ctx.accounts, ctx.engine).run(env)
    failures = [c for c in checks if c.failed]
    ctx.out.table(["check", "where", "result", "detail", "fix"], [c.row() for c in checks],
                  title=f"doctor: {env.name}")
    ctx.out.text(f"{len(failures)} check(s) failed" if failures else "all checks passed")
    ctx.out.document("doctor", ok=not failures, env=env.name, checks=[c.as_dict() for c in checks])
    return EXIT_FAILED if failures else EXIT_OK
