"""`pipeline verify`: every ledger chain recomputed, live code compared to the ledger, staged bytes checked
(and the replica each target's region loads from, when it is not the tooling region),
and what an unfinished run can leave behind: a dead lock (lease expired or holder gone) and a canary
weight left on the live alias while no promotion holds the lock.

Exit 1 when anything was tampered with, deployed out of band or left behind.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from pipeline.commands.context import Context

if TYPE_CHECKING:
    from pipeline.engine.context import EngineContext


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", help="one environment (default: all)")


def replica_problems(engine: EngineContext, where: str, region: str, sha256: str) -> list[str]:
    """The replica of the live artifact in `region` (one HEAD): missing or replaced is a problem."""
    from pipeline.aws.replicas import Replicas

    replica = Replicas(engine.tooling, engine.config).of_artifact(sha256, region)
    if replica.state == "missing":
        return [f"{where}: replica {replica.where} of {sha256[:12]} is missing: `pipeline stage` copies it again"]
    if replica.state == "replaced":
        return [f"{where}: replica {replica.where} now has sha256 {replica.sha256}, expected {sha256}"]
    return []


def run(args: argparse.Namespace) -> int:
    from pipeline.artifact.manifest import hex_sha256
    from pipeline.core import records as R
    from pipeline.core.ledger import lock_state, verify_chain
    from pipeline.engine.lock import EnvLock
    from pipeline.engine.state import target_status

    ctx = Context(args)
    engine, envs = ctx.engine, ctx.config().select(args.env)
    problems: list[str] = []
    rows = []
    for env in envs:
        view = engine.ledger.view(env.name)
        records = view.all()
        chain = verify_chain(env.name, records)
        problems += [f"{env.name}: ledger: {p}" for p in chain]
        lock = lock_state(view.newest_first())
        live_problems: list[str] = []
        dead = EnvLock(engine, env).dead(lock) if lock.started else None
        for target, key in ((t, f.key) for t in env.targets for f in env.functions):  # every function
            status = target_status(engine, env, target, view, lock=lock, dead=dead, key=key)
            where = f"{env.name} {status.where}"
            live_problems += [f"{where}: {f.message} (fix: {f.fix})" for f in status.findings]
            if status.live_sha256:
                staged = engine.store.head(status.live_sha256)
                got = hex_sha256(staged.code_sha256) if staged else None
                if got != status.live_sha256:
                    live_problems.append(f"{env.name}: staged artifact {status.live_sha256[:12]} "
                                         + ("is missing" if staged is None else f"now has sha256 {got}"))
                if target.region != ctx.config().tooling.region:  # the copy this target's region loads from
                    live_problems += replica_problems(engine, where, target.region, status.live_sha256)
        if lock.started and dead:  # after what it left live: that is what the first line must name
            live_problems.append(f"{env.name}: lock {lock.started.key} of {R.holder(lock.started).actor} is dead "
                                 f"({dead}): the next promote or rollback reconciles it, or "
                                 f"`pipeline unlock --env {env.name} --force`")
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
