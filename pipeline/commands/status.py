"""`pipeline status`: one row per environment target: artifact, commit, version, when, who, smoke, drift;
then a line per held lock (holder, age, lease), per canary split while a promotion runs, and per target
outside the tooling region the replica its live artifact loads from (present, missing or replaced)."""

from __future__ import annotations

import argparse

from pipeline.commands.context import Context


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", help="one environment (default: all)")


def run(args: argparse.Namespace) -> int:
    from pipeline.core.ledger import lock_state
    from pipeline.core.locks import age_seconds
    from pipeline.engine.lock import EnvLock
    from pipeline.engine.state import HEADERS, LockStatus, target_status

    ctx = Context(args)
    engine, envs = ctx.engine, ctx.config().select(args.env)
    statuses, locks = [], []
    for env in envs:
        view = engine.ledger.view(env.name)
        lock = lock_state(view.newest_first())
        if lock.held:
            locks.append(LockStatus(env.name, lock, age_seconds(lock, engine.now()), EnvLock(engine, env).dead(lock)))
        statuses += [target_status(engine, env, target, view, weights=lock.held) for target in env.targets]
    ctx.out.table(HEADERS, [s.row() for s in statuses])
    for s in statuses:
        if s.drift:
            ctx.out.text(f"drift: {s.env} {s.target.account}/{s.target.region}: {s.drift_reason()}")
    for held in locks:
        ctx.out.text(held.line())
    for s in statuses:
        if s.canary:
            ctx.out.text(f"canary: {s.env} {s.target.account}/{s.target.region}: {s.canary}")
    from pipeline.aws.replicas import Replicas

    # the copy each target outside the tooling region loads its live artifact from (one HEAD each)
    replicas = []
    for s in statuses:
        if s.live_sha256 and s.target.region != engine.config.tooling.region:
            replica = Replicas(engine.tooling, engine.config).of_artifact(s.live_sha256, s.target.region)
            replicas.append({"env": s.env, "target": f"{s.target.account}/{s.target.region}", **replica.as_dict()})
            ctx.out.text(f"replica: {s.env} {s.target.account}/{s.target.region}: {replica.where}: {replica.state}")
    ctx.out.document("status", environments=[s.to_dict() for s in statuses], locks=[h.to_dict() for h in locks],
                     replicas=replicas)
    return 0
