"""`pipeline verify`: every ledger chain recomputed, live code compared to the ledger, staged bytes checked.

Exit 1 when anything was tampered with or deployed out of band.
"""

from __future__ import annotations

import argparse

from pipeline.commands.context import Context


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", help="one environment (default: all)")


def run(args: argparse.Namespace) -> int:
    from pipeline.core.ledger import verify_chain
    from pipeline.engine.state import target_status
    from pipeline.engine.targets import hex_sha

    ctx = Context(args)
    config = ctx.config()
    promotion, envs = ctx.promotion, config.select(args.env)
    problems: list[str] = []
    rows = []
    for env in envs:
        view = promotion.ledger.view(env.name)
        records = view.all()
        chain = verify_chain(env.name, records)
        problems += [f"{env.name}: ledger: {p}" for p in chain]
        live_problems: list[str] = []
        for target in env.targets:
            status = target_status(promotion, env, target, view)
            if status.drift:
                live_problems.append(f"{env.name} {target.account}/{target.region}: {status.drift_reason()}")
            if status.live_sha256:
                staged = promotion.store.head(status.live_sha256)
                got = hex_sha(staged.code_sha256) if staged else None
                if got != status.live_sha256:
                    live_problems.append(f"{env.name}: staged artifact {status.live_sha256[:12]} "
                                         + ("is missing" if staged is None else f"now has sha256 {got}"))
        problems += live_problems
        rows.append([env.name, len(records), "ok" if not chain else f"{len(chain)} problem(s)",
                     "ok" if not live_problems else f"{len(live_problems)} problem(s)"])
    ctx.out.table(["env", "records", "chain", "live vs ledger"], rows)
    for problem in problems:
        ctx.out.text(f"  {problem}")
    ctx.out.document("verify", ok=not problems, problems=problems)
    if problems:
        import sys

        sys.stderr.write(f"pipeline: error: verify found {len(problems)} problem(s): {problems[0]}\n")
        return 1
    return 0
