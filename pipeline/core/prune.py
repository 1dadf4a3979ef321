"""Version pruning, decided: which published versions of one function go, and why each one stays. Pure.

Inputs are what was observed: the versions listed (`$LATEST` is never one of them), every alias with
its target and its routing weights' additional versions, the versions the env's ledger names (the last
good one per target and the one `rollback` would go back to), the versions a run still needs (the
alias's version before a promotion: what its undo restores), and `keep`. The newest `keep` versions
stay; so does every protected one, however old. Everything else is deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.core import records as R
from pipeline.core.ledger import Record, target_key

KEEP, DELETE = "keep", "delete"


@dataclass(frozen=True)
class Verdict:
    version: str
    action: str  # keep | delete
    why: str

    def to_dict(self) -> dict[str, str]:
        return {"version": self.version, "action": self.action, "why": self.why}


@dataclass(frozen=True)
class PruneDecision:
    keep: int
    verdicts: tuple[Verdict, ...]  # newest first

    @property
    def delete(self) -> list[str]:
        return [v.version for v in self.verdicts if v.action == DELETE]

    @property
    def kept(self) -> list[str]:
        return [v.version for v in self.verdicts if v.action == KEEP]


def numbered(versions: Iterable[str]) -> list[str]:
    """The published versions, newest first (`$LATEST` and anything not a number left out)."""
    return sorted({v for v in versions if v.isdigit()}, key=int, reverse=True)


def alias_protection(aliases: Mapping[str, tuple[str, Iterable[str]]]) -> dict[str, str]:
    """Version -> why, for every alias: name -> (its version, the versions its routing weights add)."""
    out: dict[str, str] = {}
    for name, (version, extra) in sorted(aliases.items()):
        out.setdefault(str(version), f"alias {name} points at it")
        for other in extra:
            out.setdefault(str(other), f"alias {name} routes a weight to it")
    return out


def decide(versions: Iterable[str], keep: int, protected: Mapping[str, str]) -> PruneDecision:
    """Keep the newest `keep` versions and every protected one (version -> why); delete the rest."""
    if keep < 1:
        raise ValueError(f"keep must be a positive integer, got {keep}")
    verdicts = []
    for i, version in enumerate(numbered(versions)):
        if version in protected:
            verdicts.append(Verdict(version, KEEP, protected[version]))
        elif i < keep:
            verdicts.append(Verdict(version, KEEP, f"one of the newest {keep}"))
        else:
            verdicts.append(Verdict(version, DELETE, f"older than the newest {keep}, no alias, not in the ledger"))
    return PruneDecision(keep, tuple(verdicts))


def ledger_protection(newest_first: Iterable[Record], target: Mapping[str, str], live_artifact: str | None,
                      key: str = "") -> dict[str, str]:
    """Version -> why, from the env's ledger for one target: the newest PASSED version (last good) and
    the version `rollback` without --artifact would go back to (the newest artifact that passed in the env
    other than `live_artifact`, at the version it passed under on this target). `key`: one function of a
    multi-function service (its version in a release's `functions`); "" the one-function shape's `version`.
    Walks back only as far as it must (records are fetched lazily)."""
    where = target_key(dict(target))
    last: Record | None = None
    back: str | None = None
    chosen: Record | None = None
    for record in newest_first:
        if record.type != R.OUTCOME or record.get("outcome") != R.PASSED or not _version(record, key):
            continue
        mine = target_key(record.get("target")) == where
        if last is None and mine:
            last = record
        if back is None and R.artifact(record) != live_artifact:
            back = R.artifact(record)
        if back is not None and mine and R.artifact(record) == back:
            chosen = record
        if last is not None and chosen is not None:
            break
    out: dict[str, str] = {}
    if last is not None:
        out[str(_version(last, key))] = f"last good in the ledger ({str(R.artifact(last))[:12]})"
    if chosen is not None:
        out.setdefault(str(_version(chosen, key)), f"rollback target in the ledger ({str(back)[:12]})")
    return out


def _version(record: Record, key: str) -> str | None:
    """The version an outcome records for the function `key` ("" the one-function shape)."""
    return R.function_versions(record).get(key)


def summary(decision: PruneDecision, deleted: Iterable[str], failed: Mapping[str, str]) -> dict[str, Any]:
    """What the ledger keeps of one target's prune: the verdicts and what really happened to each deletion."""
    return {"keep": decision.keep, "deleted": list(deleted), "failed": dict(failed),
            "kept": [v.to_dict() for v in decision.verdicts if v.action == KEEP]}
