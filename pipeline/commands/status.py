"""`pipeline status`: one row per environment target: artifact, commit (and whether it was built dirty),
version, when, who, smoke, drift, and what the next `promote --to E` would do (ready, waiting for an
approval, blocked by which gate, or the artifact that was just rolled back); then a line per finding
(drift, a leftover canary weight, with its fix), per held lock (holder, since, lease), per canary
split of a running promotion, and per target outside the tooling region the replica its live
artifact loads from (present, missing or replaced)."""

from __future__ import annotations

import argparse

from pipeline.commands.context import Context


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", help="one environment (default: all)")


def run(args: argparse.Namespace) -> int:
    from pipeline.core.ledger import lock_state
    from pipeline.core.locks import age_seconds
    from pipeline.engine.lock import EnvLock
    from pipeline.engine.nextstep import next_step
    from pipeline.engine.state import HEADERS, LockStatus, target_status

    ctx = Context(args)
    engine, envs = ctx.engine, ctx.config().select(args.env)
    statuses, locks, nexts, views = [], [], {}, {}
    for env in envs:
        view = views[env.name] = engine.ledger.view(env.name)
        lock = lock_state(view.newest_first())
        dead = EnvLock(engine, env).dead(lock) if lock.held else None
        if lock.held:
            locks.append(LockStatus(env.name, lock, age_seconds(lock, engine.now()), dead))
        rows = [target_status(engine, env, target, view, lock=lock, dead=dead, key=f.key)
                for target in env.targets for f in env.functions]  # a service: one row per function
        statuses += rows
        nexts[env.name] = next_step(engine, env, views, lock, dead, rows)
    ctx.out.table(HEADERS, [[*s.row(), nexts[s.env].text] for s in statuses])
    for s in statuses:
        where = f"{s.env} {s.where}"
        for finding in s.findings:
            ctx.out.text(f"{'drift' if finding.kind == 'drift' else 'canary'}: {where}: {finding.message}; "
                         f"fix: {finding.fix}")
    for held in locks:
        ctx.out.text(held.line())
    for s in statuses:
        if s.canary and not any(f.kind == "leftover-canary" for f in s.findings):
            ctx.out.text(f"canary: {s.env} {s.where}: {s.canary} (promotion running)")
    for step in nexts.values():
        if step.detail and step.kind not in ("up to date",):
            ctx.out.text(f"next: {step.env}: {step.text}: {step.detail}")
    endpoints = []
    if engine.config.service_functions:  # a service's HTTP API: where its http smoke cases and users go
        from pipeline.engine.service_promote import endpoint_of

        for env in envs:
            if env.http_functions:
                for target in env.targets:
                    url, why = endpoint_of(engine, env, target)
                    endpoints.append({"env": env.name, "target": f"{target.account}/{target.region}",
                                      "endpoint": url, "problem": why})
                    ctx.out.text(f"endpoint: {env.name} {target.account}/{target.region}: {url or why}")
    from pipeline.aws.replicas import Replicas

    # the copy each target outside the tooling region loads its live artifact from (one HEAD each)
    replicas = []
    for s in statuses:
        if s.live_sha256 and s.target.region != engine.config.tooling.region and s.function == next(
                (f.key for f in engine.config.env(s.env).functions), ""):  # one HEAD per target
            replica = Replicas(engine.tooling, engine.config).of_artifact(s.live_sha256, s.target.region)
            replicas.append({"env": s.env, "target": f"{s.target.account}/{s.target.region}", **replica.as_dict()})
            ctx.out.text(f"replica: {s.env} {s.target.account}/{s.target.region}: {replica.where}: {replica.state}")
    ctx.out.document("status", environments=[s.to_dict() for s in statuses], locks=[h.to_dict() for h in locks],
                     next=[step.to_dict() for step in nexts.values()], replicas=replicas,
                     **({"endpoints": endpoints} if engine.config.service_functions else {}))
    return 0
