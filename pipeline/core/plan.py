"""Plans: from config and observed state, the typed steps each target needs. Pure.

Every writer's decisions are made here, once: `promotion_plan` (promote), `rollback_plan`
(rollback) and `reconcile_plan` (recovery of an unfinished run, `unlock`). The engine's
executor runs a plan step by step; `--dry-run` hands the same plan to the display executor.
Idempotence lives here: a target already running the digest with a passed record gets no
step but its record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.core import records as R
from pipeline.core.function import GO_HANDLER, GO_RUNTIME, LIVE_ALIAS
from pipeline.core.observed import ObservedTarget, PendingTarget, RollbackCandidate, ServiceTarget, TargetState
from pipeline.core.steps import (
    NEW_VERSION,
    Bake,
    DeleteAlias,
    DeployCode,
    PointAlias,
    Prune,
    RecordOutcome,
    Smoke,
    Step,
    SwitchRuntime,
    VerifyCode,
)


@dataclass(frozen=True)
class TargetPlan:
    """One target's steps, what undoes them on failure, and its ledger record."""

    target: ObservedTarget | PendingTarget | ServiceTarget
    steps: tuple[Step, ...]  # a service's: core.release_plan's OnFunction, HttpSmoke, Bake
    undo: tuple[Step, ...]
    record: RecordOutcome

    @property
    def label(self) -> str:
        return self.target.label

    @property
    def writes(self) -> bool:
        return bool(self.steps)


@dataclass(frozen=True)
class Plan:
    action: str  # promote | rollback | reconcile
    env: str
    digest: str | None
    targets: tuple[TargetPlan, ...]
    wave_size: int = 1

    def waves(self) -> list[list[TargetPlan]]:
        """Targets with steps, in waves of `wave_size` (a failed target rolls back its whole wave)."""
        return waves([t for t in self.targets if t.writes], self.wave_size)

    def shown(self) -> list[TargetPlan]:
        """The targets a display lists: all of them, unless none has a step (then nothing happens at all)."""
        return list(self.targets) if any(t.writes for t in self.targets) else []

    def rows(self) -> list[list[str]]:
        """step, target, detail: what `--dry-run` shows and the executor runs."""
        return [[s.kind, s.target, s.detail] for t in self.shown() for s in (*t.steps, t.record)]

    def to_list(self) -> list[dict[str, Any]]:
        return [{"kind": s.kind, "target": s.target, "detail": s.detail,
                 **({"on_failure": [{"kind": u.kind, "target": u.target, "detail": u.detail} for u in t.undo]}
                    if s is t.record and t.undo else {})}
                for t in self.shown() for s in (*t.steps, t.record)]


def waves(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def is_noop(targets: tuple[ObservedTarget, ...] | list[ObservedTarget], digest: str, lock_held: bool) -> bool:
    """Re-promoting what already runs everywhere and passed there: nothing to write."""
    return not lock_held and all(t.is_current(digest) for t in targets)


def restore(target: str, previous: str | None, *, alias_exists: bool = True) -> Step:
    """The step that puts the alias back on `previous` (clearing weights), or removes it."""
    if previous is None:
        return DeleteAlias(target)
    return PointAlias(target, previous, kind="restore-alias", create=not alias_exists)


def target_steps(state: ObservedTarget, digest: str, canary_percent: int | None, bake_seconds: int,
                 smoke_cases: int, prune_keep: int | None = None, protect: Mapping[str, str] | None = None
                 ) -> list[Step]:
    """A promotion's steps for one target (none when it is current); with `prune_keep`, a last Prune step
    keeping `protect` (version -> why) and the alias's version from before (what a later undo restores)."""
    if state.is_current(digest):
        return []
    t, previous = state.label, state.alias_version
    steps: list[Step] = []
    if state.on_stub:
        steps.append(SwitchRuntime(t, state.runtime))
    steps += [DeployCode(t, digest), VerifyCode(t, digest)]
    if canary_percent and previous:
        steps += [PointAlias(t, previous, kind="alias-canary", extra=NEW_VERSION, weight=canary_percent / 100),
                  Smoke(t, (NEW_VERSION, LIVE_ALIAS), smoke_cases), Bake(t, bake_seconds),
                  PointAlias(t, NEW_VERSION, kind="alias-full")]
    else:
        steps += [PointAlias(t, NEW_VERSION, create=previous is None, previous=previous),
                  Smoke(t, (LIVE_ALIAS,), smoke_cases)]
    if prune_keep is not None:
        steps.append(prune_after(t, prune_keep, protect, previous))
    return steps


def prune_after(target: str, keep: int, protect: Mapping[str, str] | None, previous: str | None) -> Prune:
    """A passed promotion's last step: keep the newest `keep`, `protect` (version -> why) and the alias's
    version from before (`previous`: what a later undo restores, the bootstrap stub's included)."""
    kept = dict(protect or {})
    if previous:
        kept.setdefault(previous, "the alias's version before this promotion")
    return Prune(target, keep, tuple(sorted(kept.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0,
                                            reverse=True)))


def promotion_plan(env: str, digest: str, targets: tuple[ObservedTarget, ...] | list[ObservedTarget], *,
                   canary_percent: int | None, bake_seconds: int, smoke_cases: int, wave_size: int,
                   prune_keep: int | None = None, protect: Mapping[str, Mapping[str, str]] | None = None) -> Plan:
    """`protect`: per target label, the versions its Prune step keeps besides the newest `prune_keep`."""
    plans = []
    for state in targets:
        steps = target_steps(state, digest, canary_percent, bake_seconds, smoke_cases, prune_keep,
                             (protect or {}).get(state.label))
        previous = f"v{state.alias_version}" if state.alias_version else "none"
        if steps:
            record = RecordOutcome(state.label, None, "smoke passed", previous)
            plans.append(TargetPlan(state, tuple(steps), (restore(state.label, state.alias_version),), record))
        else:
            # its record names the live version too: a later rollback to this release looks it up there
            plans.append(TargetPlan(state, (), (), RecordOutcome(state.label, R.PASSED, "already live and passed")))
    return Plan("promote", env, digest, tuple(plans), wave_size)


def rollback_plan(env: str, digest: str, candidates: list[RollbackCandidate], smoke_cases: int) -> Plan:
    """Each target's alias to the version under which `digest` passed there, then smoke; on failure, back."""
    plans = []
    for c in candidates:
        state, label = c.target, c.target.label
        if not c.version:
            plans.append(TargetPlan(state, (), (), RecordOutcome(
                label, R.FAILED, f"no passed version of {digest[:12]} recorded for {label}")))
        elif c.holds_sha256 != digest:
            plans.append(TargetPlan(state, (), (), RecordOutcome(
                label, R.FAILED, f"version {c.version} no longer holds {digest[:12]} "
                                 f"(has {c.holds_sha256 if c.holds_sha256 else 'nothing'})")))
        else:
            steps = (PointAlias(label, c.version, create=state.alias_version is None, previous=state.alias_version),
                     Smoke(label, (LIVE_ALIAS,), smoke_cases))
            plans.append(TargetPlan(state, steps, (restore(label, state.alias_version),),
                                    RecordOutcome(label, None, f"rolled back to {digest[:12]}",
                                                  f"v{state.alias_version}" if state.alias_version else "none")))
    return Plan("rollback", env, digest, tuple(plans), wave_size=1)


def reconcile_plan(env: str, digest: str | None, pending: list[PendingTarget], reason: str) -> Plan:
    """Every target an unfinished run left without an outcome goes back to its alias from before; ABORTED."""
    plans = []
    for p in pending:
        if p.before is None:
            steps: tuple[Step, ...] = (DeleteAlias(p.label),) if p.live is not None else ()
            note = (f"removed alias {LIVE_ALIAS} (v{p.live}, never verified)" if p.live is not None
                    else "no alias, nothing to undo")
        else:
            steps = (PointAlias(p.label, p.before, kind="restore-alias", previous=p.live),)  # also clears weights
            note = (f"alias {LIVE_ALIAS} " + (f"moved back v{p.live} -> v{p.before}"
                                              if p.live is not None and p.live != p.before
                                              else f"kept at v{p.before} (weights cleared)"))
        plans.append(TargetPlan(p, steps, (), RecordOutcome(p.label, R.ABORTED, f"{reason}; {p.label}: {note}")))
    return Plan("reconcile", env, digest, tuple(plans), wave_size=1)


def lease_seconds(canary_bake_seconds: int | None, smoke_cases: int) -> int:
    """How long a lock holds without renewal: the work a run may do, with room to spare."""
    return 300 + (canary_bake_seconds or 0) + 60 * smoke_cases


__all__ = ["GO_HANDLER", "GO_RUNTIME", "LIVE_ALIAS", "NEW_VERSION", "Plan", "Step", "TargetPlan", "TargetState",
           "is_noop", "lease_seconds", "promotion_plan", "reconcile_plan", "restore", "rollback_plan", "target_steps",
           "waves"]
