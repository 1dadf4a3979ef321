"""What the next `promote --to E` would do, in one phrase for `status`'s "next" column. Pure.

The gates are not decided here: `core.gates.evaluate` decides them, on the same facts `promote` reads;
this module only says what their results mean for a person looking at the board (ready, waiting
for an approval, blocked by which gate), and recognises the one case the gates allow but a person
would not want: promoting again the artifact that was just rolled back (or rolled itself back) here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pipeline.core import gates as G
from pipeline.core import records as R
from pipeline.core.ledger import Record

READY, WAITING, BLOCKED, ROLLED_BACK, CURRENT, NOTHING, UNBOOTSTRAPPED = (
    "ready", "waiting for approval", "blocked", "rolled back", "up to date", "nothing to promote", "not bootstrapped")
WINDOW = 200  # records walked back


@dataclass(frozen=True)
class RolledBack:
    """The newest time `artifact` was taken off this env: by `rollback`, or by its own failed smoke/bake."""

    artifact: str
    how: str  # "rollback" | "ROLLED_BACK"
    record: Record

    def sentence(self, env: str) -> str:
        who = R.actor(self.record).rsplit("/", 1)[-1] or "someone"
        when = str(self.record.get("time") or "")[:19]
        if self.how == "rollback":
            return f"{self.artifact[:12]} was rolled back in {env} by {who} at {when}Z ({self.record.key})"
        reason = self.record.get("reason") or "its checks failed"
        return f"{self.artifact[:12]} rolled itself back in {env} at {when}Z ({reason}; {self.record.key})"


def rolled_back(records: Iterable[Record], digest: str) -> RolledBack | None:
    """Was `digest` taken off this env since it last passed here? (records newest first)"""
    for i, record in enumerate(records):
        if i >= WINDOW:
            return None
        if record.type == R.OUTCOME and R.artifact(record) == digest and R.action(record) == "promote":
            if R.outcome_of(record) == R.PASSED:
                return None  # promoted (again) since
            if R.outcome_of(record) == R.ROLLED_BACK:
                return RolledBack(digest, R.ROLLED_BACK, record)
        if record.type == R.OUTCOME and R.action(record) == "promote" and R.outcome_of(record) == R.PASSED:
            return None  # another artifact passed here since: nothing older is read (a promotion's call budget)
        if record.type == R.STARTED and R.action(record) == "rollback":
            previous = record.get("previous") or {}
            if any(isinstance(p, dict) and p.get("sha256") == digest for p in previous.values()):
                return RolledBack(digest, "rollback", record)
    return None


@dataclass(frozen=True)
class NextStep:
    env: str
    kind: str
    text: str
    artifact: str | None = None
    gates: tuple[G.GateResult, ...] = field(default_factory=tuple)
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"env": self.env, "kind": self.kind, "text": self.text, "artifact": self.artifact,
                "detail": self.detail or None, "gates": [g.to_dict() for g in self.gates]}


def nothing(env: str, requires: str | None) -> NextStep:
    why = f"no artifact has passed smoke in {requires} yet" if requires else "no staged artifact"
    return NextStep(env, NOTHING, NOTHING, detail=why)


def not_bootstrapped(env: str) -> NextStep:
    return NextStep(env, UNBOOTSTRAPPED, UNBOOTSTRAPPED, detail=f"no function yet: pipeline bootstrap --env {env}")


def decide(env: str, candidate: str, *, current: bool, back: RolledBack | None,
           gates: list[G.GateResult]) -> NextStep:
    """The next promotion into `env` of `candidate` (what `promote --to env` would pick)."""
    short = candidate[:12]
    if current:
        return NextStep(env, CURRENT, CURRENT, candidate, detail=f"{short} is live here and passed")
    if back is not None:
        return NextStep(env, ROLLED_BACK, f"rolled back {short}: promote a newer artifact", candidate, tuple(gates),
                        f"{back.sentence(env)}; `promote --to {env}` would deploy it again")
    failed = G.failing(gates)
    if not failed:
        return NextStep(env, READY, f"ready for {env}: {short}", candidate, tuple(gates))
    # an approval not given yet is what is expected of an approval env: waiting, not blocked
    pending = [g for g in failed if g.name == "approval" and "dirty" not in g.reason]
    hard = [g for g in failed if g not in pending]
    if not hard:
        return NextStep(env, WAITING, f"waiting for approval of {short}", candidate, tuple(gates),
                        f"pipeline promote --to {env} --approve")
    then = " (then an approval)" if pending else ""
    return NextStep(env, BLOCKED, f"{short} blocked by {', '.join(g.name for g in hard)}{then}", candidate,
                    tuple(gates), "; ".join(f"{g.name}: {g.reason}" for g in hard))
