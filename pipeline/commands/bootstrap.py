"""`pipeline bootstrap --tooling | --env E | --all [--dry-run] [--force] [--role R]`: deploy the stacks."""

from __future__ import annotations

import argparse

from pipeline.commands.context import Context


def configure(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--tooling", action="store_true", help="the tooling account's stacks (artifacts + pipeline)")
    which.add_argument("--env", help="one environment: its target stack, the stub, its function stack")
    which.add_argument("--all", action="store_true", help="tooling, then every environment in order")
    parser.add_argument("--dry-run", action="store_true", help="show each change set's diff; change nothing")
    parser.add_argument("--force", action="store_true",
                        help="in protected envs: allow deleting a stuck stack or replacing the function")
    parser.add_argument("--role", help="role to assume for the tooling / target stacks (default: the tooling "
                                       "session, and each env's admin_role)")


def run(args: argparse.Namespace) -> int:
    ctx = Context(args)
    config = ctx.config()
    envs = [config.env(args.env)] if args.env else (list(config.environments.values()) if args.all else [])

    from pipeline.core.bootstrap import render_scope

    render_scope(config, envs, args.tooling or args.all)  # bad templates/config: exit 2 before any AWS call

    from pipeline.engine.bootstrap import Bootstrapper

    boot = Bootstrapper(config, ctx.sessions, ctx.accounts, ctx.out.progress, role=args.role)
    plan = boot.plan(tooling=args.tooling or args.all, envs=envs)  # observe, then decide
    ctx.out.progress("plan:" + ("" if plan.steps else " nothing to deploy"))
    for line in plan.lines():
        ctx.out.progress(f"  {line}")
    outcomes = boot.execute(plan, dry_run=args.dry_run, force=args.force)  # the same plan, previewed or run

    title = "bootstrap (dry run: nothing changed)" if args.dry_run else "bootstrap"
    ctx.out.table(["stack", "account", "region", "action", "version"], [o.row() for o in outcomes], title=title)
    for o in outcomes:
        for note in o.notes:
            ctx.out.text(f"  {o.stack}: {note}")
    changed = any(o.changed for o in outcomes)
    if not changed:
        ctx.out.text("no changes")
    ctx.out.document("bootstrap", dry_run=args.dry_run, changed=changed, plan=plan.as_list(),
                     stacks=[o.as_dict() for o in outcomes])
    return 0
