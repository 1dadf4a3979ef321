"""One function's prune, shared by a promotion's Prune step and `pipeline prune` (engine/prune.py).

Observe: the versions [ListVersionsByFunction, every page] and the aliases with their routing weights
[ListAliases]. Decide: `core.prune.decide` (pure). Act: DeleteFunction with a Qualifier per version to
delete; each failure is kept and none stops the others. After a promotion nothing is listed while the new
version's number is <= keep (no more versions than that can exist): the first `keep` promotions of a
function cost no call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipeline.aws.functions import FunctionAdapter
from pipeline.core import prune as P
from pipeline.core.steps import Prune
from pipeline.errors import PipelineError


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
    function: str = ""  # a multi-function service's function key ("" the one function)

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


def prune_step(fn: FunctionAdapter, label: str, step: Prune, published: str | None) -> PruneRun:
    """The executor's Prune step: never raises (a promotion that passed stays passed); the run's
    `warning()` says what went wrong. `published`: the version the run published (None: unknown)."""
    try:
        pruned = observe_decide(fn, label, step.keep, dict(step.protect), published)
        act(fn, pruned)
    except Exception as exc:  # whatever broke, the promotion stands
        pruned = PruneRun(label, step.keep, problem=f"unexpected error: {type(exc).__name__}: {exc}")
    return pruned
