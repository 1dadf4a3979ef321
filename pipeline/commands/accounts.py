"""`pipeline accounts`: assume the role into every configured account and show who we are there."""

from __future__ import annotations

import argparse

from pipeline.commands.context import Context


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", help="only this environment (and the tooling account)")


def run(args: argparse.Namespace) -> int:
    ctx = Context(args)
    config = ctx.config()
    accounts = ctx.accounts
    tooling = accounts.tooling()
    rows = [["tooling", config.tooling.account, config.tooling.region, config.tooling.role or "(base)",
             tooling.identity.arn]]
    envs = config.select(args.env)
    for env in envs:
        for target in env.targets:
            session = accounts.target(env, target)
            rows.append([env.name, target.account, target.region, env.deploy_role, session.identity.arn])
    ctx.out.table(["env", "account", "region", "role", "caller"], rows,
                  title=f"accounts (base identity {ctx.sessions.base().identity.arn})")
    ctx.out.document("accounts", base=ctx.sessions.base().identity.arn,
                     accounts=[dict(zip(("env", "account", "region", "role", "caller"), r, strict=True))
                               for r in rows])
    return 0
