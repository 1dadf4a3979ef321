"""`pipeline prune`: observe -> decide -> act -> record, for every target of one env.

Observe: the env's lock (a dead one is reconciled; a held one refuses, exit 3 naming the holder), the
live alias of each function (a multi-function service's every function), what the ledger names for it
(each target's last good version and the one `rollback` would go back to), then the versions and
aliases (engine/pruning.py). Decide: `core.prune.decide`. `--dry-run` shows the verdicts and stops.
Act: the deletions. Record: one `prune` record per target (a service: per target and function, naming
its `function`) that deleted (or failed to delete) anything, written in a `finally`, partial failures
included. After a promotion, the executor's Prune step does the same for its target (a service's, for
each function) and the outcome record carries the result.
"""

from __future__ import annotations

from typing import Any

from pipeline.aws.functions import FunctionAdapter
from pipeline.config.merged import Environment
from pipeline.core import prune as P
from pipeline.core import records as R
from pipeline.engine.context import EngineContext
from pipeline.engine.lock import EnvLock
from pipeline.engine.observe import window
from pipeline.engine.pruning import PruneRun, act, observe_decide
from pipeline.engine.recorder import Recorder
from pipeline.errors import PipelineError


def prune_env(ctx: EngineContext, env: Environment, keep: int, *, dry_run: bool = False) -> list[PruneRun]:
    """`pipeline prune`: refuses while the env is locked (exit 3 naming the holder); one record per target."""
    lock = EnvLock(ctx, env)
    view, held = lock.observe()
    if not dry_run:
        view, held = lock.clear_dead(view, held)
    lock.refuse_held(held)
    lock.refuse_tampered(f"prune of {env.name}")  # the ledger's last good decides what stays
    runs: list[tuple[FunctionAdapter, R.TargetRef, PruneRun]] = []
    for target in env.targets:
        ref = R.TargetRef(target.account, target.region)
        for key in (f.key for f in env.functions):  # a service's every function; "" the one function
            fn = ctx.function(env, target, key)
            live = fn.version("live")
            protect = P.ledger_protection(window(view), ref.to_dict(), None if live is None else _digest(live), key)
            pruned = observe_decide(fn, f"{ref.label} {key}".rstrip(), keep, protect)
            pruned.function = key
            if pruned.problem:
                raise PipelineError(f"prune of {env.name}: {pruned.label}: {pruned.problem}")
            runs.append((fn, ref, pruned))
    ctx.out.table(["target", "version", "action", "why"],
                  [[p.label, f"v{v.version}", v.action, v.why] for _, _, p in runs
                   for v in (p.decision.verdicts if p.decision else ())],
                  title=f"prune plan for {env.name}, keep {keep}" + (" (dry run: nothing deleted)" if dry_run else ""))
    if dry_run:
        return [p for _, _, p in runs]
    recorder = Recorder(ctx.ledger, view, ctx.now)
    for fn, ref, pruned in runs:
        if pruned.decision is None or not pruned.decision.delete:
            continue  # nothing deleted: nothing to record
        try:
            act(fn, pruned)
        finally:  # partial work is recorded too
            recorder.append(R.prune(target=ref, actor=ctx.actor, summary=pruned.summary(),
                                    function=pruned.function or None))
    return [p for _, _, p in runs]


def _digest(live: Any) -> str | None:
    from pipeline.artifact.manifest import hex_sha256

    return hex_sha256(live.code_sha256)
