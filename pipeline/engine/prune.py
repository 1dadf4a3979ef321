"""Version pruning: observe -> decide -> act -> record, after a promotion and for `pipeline prune`.

Observe: the function's versions [ListVersionsByFunction, every page], its aliases with their routing
weights [ListAliases], and what the env's ledger names (the last good version per target and the one
`rollback` would go back to; already read by a promotion). Decide: `core.prune.decide` (pure).
Act: DeleteFunction with a Qualifier, one per version to delete; each failure is kept, none stops
the others. Record: after a promotion, the target's outcome record carries the result (`prune`);
`pipeline prune` writes one `prune` record per target, in a `finally`, partial failures included.

After a promotion nothing is listed while the new version's number is <= keep (there cannot be more
versions than that), so the first `keep` promotions of a function cost no call at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pipeline.aws.functions import FunctionAdapter
from pipeline.config.merged import Environment
from pipeline.core import prune as P
from pipeline.core import records as R
from pipeline.core.steps import Prune
from pipeline.engine.context import EngineContext
from pipeline.engine.lock import EnvLock
from pipeline.engine.observe import window
from pipeline.engine.recorder import Recorder
from pipeline.errors import PipelineError

if TYPE_CHECKING:
    from pipeline.engine.executor import TargetRun


@dataclass
class PruneRun:
    """One target's prune: the decision (None when nothing was listed), what was deleted, what failed."""

    label: str
    keep: int
    decision: P.PruneDecision | None = None
    deleted: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    problem: str | None = None  # listing failed: nothing was decided or deleted
    skipped: str | None = None  # nothing to do without asking (too few versions can exist)

    def summary(self) -> dict[str, Any]:
        if self.decision is None:
            return {"keep": self.keep, "deleted": [], "failed": {}, "kept": [],
                    **({"error": self.problem} if self.problem else {}), **({"skipped": self.skipped}
                                                                              if self.skipped else {})}
        return P.summary(self.decision, self.deleted, self.failed)

    def warning(self) -> str | None:
        if self.problem:
            return f"warning: {self.label}: prune failed, nothing deleted: {self.problem}"
        if self.failed:
            return (f"warning: {self.label}: prune deleted {len(self.deleted)} version(s), could not delete "
                    + "; ".join(f"v{v}: {why}" for v, why in self.failed.items()))
        return None

    def line(self) -> str:
        if self.skipped or self.problem:
            return f"prune: {self.skipped or 'failed: ' + str(self.problem)}"
        return (f"prune: deleted {', '.join('v' + v for v in self.deleted) or 'nothing'}"
                f"{f' ({len(self.failed)} failed)' if self.failed else ''}; kept {len(self.decision.kept)}"
                if self.decision else "prune: nothing decided")


def observe_decide(fn: FunctionAdapter, label: str, keep: int, protect: Mapping[str, str],
                   newest: str | None = None) -> PruneRun:
    """List and decide (reads only). `newest`: the version just published, when known (no call if <= keep)."""
    run = PruneRun(label, keep)
    if newest is not None and newest.isdigit() and int(newest) <= keep:
        run.skipped = f"v{newest} is the newest: at most {keep} versions exist, nothing to delete"
        return run
    try:
        versions, aliases = fn.versions(), fn.aliases()
    except PipelineError as exc:
        run.problem = exc.message
        return run
    run.decision = P.decide(versions, keep, {**dict(protect), **P.alias_protection(aliases)})
    return run


def act(fn: FunctionAdapter, run: PruneRun) -> None:
    """Delete what the decision says; each failure is kept, none stops the others."""
    for version in run.decision.delete if run.decision else ():
        try:
            fn.delete_version(version)
            run.deleted.append(version)
        except PipelineError as exc:
            run.failed[version] = exc.message


def prune_step(run: TargetRun, step: Prune) -> str:
    """The executor's Prune step: never raises (a promotion that passed stays passed); warns instead."""
    newest = run.published.version if run.published else None
    try:
        pruned = observe_decide(run.fn, run.label, step.keep, dict(step.protect), newest)
        act(run.fn, pruned)
    except Exception as exc:  # whatever broke, the promotion stands
        pruned = PruneRun(run.label, step.keep, problem=f"unexpected error: {type(exc).__name__}: {exc}")
    run.prune = pruned.summary()
    warning = pruned.warning()
    if warning:
        run.warnings.append(warning)
    return pruned.line()


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
        fn = ctx.function(env, target)
        live = fn.version("live")
        protect = P.ledger_protection(window(view), ref.to_dict(), None if live is None else _digest(live))
        pruned = observe_decide(fn, ref.label, keep, protect)
        if pruned.problem:
            raise PipelineError(f"prune of {env.name}: {ref.label}: {pruned.problem}")
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
            recorder.append(R.prune(target=ref, actor=ctx.actor, summary=pruned.summary()))
    return [p for _, _, p in runs]


def _digest(live: Any) -> str | None:
    from pipeline.artifact.manifest import hex_sha256

    return hex_sha256(live.code_sha256)
