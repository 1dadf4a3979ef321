"""`pipeline validate [--env E]`: every config file and template checked offline, no AWS call."""

from __future__ import annotations

import argparse

from pipeline.commands.context import Context


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", help="only report on this environment (all files are still checked)")


def run(args: argparse.Namespace) -> int:
    from pipeline.infra.render import render_all  # here, not at import: building the parser stays light

    ctx = Context(args)
    config = ctx.config()
    # every template, every env (a multi-function service's own): a render error is exit 2 before any output
    rendered = render_all(config)
    if config.sandbox is not None:
        from pipeline.core.sandbox_guard import allowed_services

        allowed_services(config)  # a sandbox boundary that would block the tool's own calls is exit 2
    envs = config.select(args.env)
    rows = []
    for env in envs:
        strategy = (f"canary {env.strategy.canary.percent}% / {env.strategy.canary.bake_seconds}s"
                    if env.strategy.canary else "all_at_once")
        rows.append([env.name, ", ".join(f"{t.account}/{t.region}" for t in env.targets),
                     env.gates.requires, "yes" if env.gates.approval else "no", strategy, len(env.smoke)])
    ctx.out.table(["env", "account/region", "requires", "approval", "strategy", "smoke cases"], rows,
                  title=f"{config.directory}: valid ({config.name}, tooling {config.tooling.account})")
    ctx.out.text(f"templates: {len(rendered)} rendered")
    ctx.out.document("validate", directory=str(config.directory), name=config.name,
                     environments=[{"name": r[0], "targets": r[1], "requires": r[2], "approval": r[3] == "yes",
                                    "strategy": r[4], "smoke_cases": r[5]} for r in rows],
                     templates=[{"kind": r.kind, "stack": r.stack_name, "account": r.account, "region": r.region,
                                 "env": r.env, "version": r.version} for r in rendered])
    return 0
