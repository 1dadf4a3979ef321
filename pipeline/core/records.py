"""The ledger's record schema: typed constructors and accessors for every record type. Pure.

Five record types exist: `started` (a promotion or rollback takes the env's lock), `lease`
(the holder renews the lock), `outcome` (one per target; the last one `closes` the lock),
`unlock` (closes a lock that has no target left to record) and `prune` (`pipeline prune` deleted
old versions of one target; a promotion's own prune goes in its outcome record's `prune` field).
Only this module spells their fields; everything else builds records through these functions and reads them through
the accessors, so the schema has one home.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.core.ledger import Record

STARTED, LEASE, OUTCOME, UNLOCK, PRUNE = "started", "lease", "outcome", "unlock", "prune"
PASSED, FAILED, ROLLED_BACK, ABORTED, SKIPPED = "PASSED", "FAILED", "ROLLED_BACK", "ABORTED", "SKIPPED"


@dataclass(frozen=True)
class Holder:
    """Who holds a lock: the actor ARN, and where its process runs (host, pid, CodeBuild build id)."""

    actor: str
    host: str | None = None
    pid: int | None = None
    run: str | None = None  # tells two holders apart even in one process (threads)
    build_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"actor": self.actor, "host": self.host, "pid": self.pid, "run": self.run}
        if self.build_id:
            data["build_id"] = self.build_id
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Holder:
        if not isinstance(data, Mapping):
            return cls("unknown")
        pid = data.get("pid")
        return cls(str(data.get("actor") or "unknown"), _str(data.get("host")), pid if isinstance(pid, int) else None,
                   _str(data.get("run")), _str(data.get("build_id")))


@dataclass(frozen=True)
class TargetRef:
    account: str
    region: str

    @property
    def label(self) -> str:
        return f"{self.account}/{self.region}"

    def to_dict(self) -> dict[str, str]:
        return {"account": self.account, "region": self.region}


def started(*, action: str, artifact: str, commit: str | None, actor: str, holder: Holder,
            targets: Sequence[TargetRef], lease_expires: dt.datetime, previous: Mapping[str, tuple[str | None,
                                                                                                 str | None]],
            dirty: bool | None = None, approval: Mapping[str, Any] | None = None,
            gates: Sequence[Mapping[str, Any]] = (),
            functions: Mapping[str, Mapping[str, tuple[str | None, str | None]]] | None = None) -> dict[str, Any]:
    """A `started` record (the lock). `previous`: per target label, (alias version, its sha256) before.
    A multi-function service's release also names every function (`functions`: per target label, function
    key -> (alias version, its sha256) before): `previous.<label>.functions`, and the keys in `functions`."""
    fields: dict[str, Any] = {
        "type": STARTED, "action": action, "artifact": artifact, "commit": commit, "actor": actor,
        "holder": holder.to_dict(), "targets": [t.to_dict() for t in targets],
        "lease_expires": lease_expires.isoformat(),
        "previous": {label: {"version": v, "sha256": s} for label, (v, s) in previous.items()}}
    if functions is not None:
        fields["functions"] = list(dict.fromkeys(k for per in functions.values() for k in per))
        for label, per in functions.items():
            fields["previous"].setdefault(label, {"version": None, "sha256": None})["functions"] = {
                k: {"version": v, "sha256": sh} for k, (v, sh) in per.items()}
    if action == "promote":
        fields.update(dirty=dirty, approval=dict(approval) if approval is not None else None,
                      gates=[dict(g) for g in gates])
    return fields


def lease(*, started_seq: int, lease_expires: dt.datetime, actor: str) -> dict[str, Any]:
    return {"type": LEASE, "started_seq": started_seq, "lease_expires": lease_expires.isoformat(), "actor": actor}


def outcome(*, action: str, started_seq: int, target: TargetRef, artifact: str | None, commit: str | None,
            outcome: str, reason: str, version: str | None, previous_version: str | None, actor: str,
            closes: bool, build_id: str | None = None, approval: Mapping[str, Any] | None = None,
            gates: Sequence[Mapping[str, Any]] | None = None, smoke: Sequence[Mapping[str, Any]] | None = None,
            timings: Mapping[str, float] | None = None, dirty: bool | None = None,
            prune: Mapping[str, Any] | None = None,
            functions: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """One target's outcome. A service's release records every function (`functions`: key -> {version,
    sha256 (hex, equal to the artifact's when it passed), previous_version}); its `version` is then None."""
    fields: dict[str, Any] = {
        "type": OUTCOME, "action": action, "started_seq": started_seq, "target": target.to_dict(),
        "account": target.account, "region": target.region, "artifact": artifact, "commit": commit,
        "outcome": outcome, "reason": reason, "version": version, "previous_version": previous_version,
        "actor": actor, "closes": closes}
    if action == "promote" and outcome != ABORTED:
        fields.update(build_id=build_id, approval=dict(approval) if approval is not None else None,
                      gates=[dict(g) for g in gates or ()])
        if dirty is not None:  # the staged manifest's word, so `status` need not read the started record
            fields["dirty"] = dirty
    if smoke is not None:
        fields["smoke"] = [dict(s) for s in smoke]
    if timings is not None:
        fields["timings"] = dict(timings)
    if prune is not None:  # the versions this promotion's prune deleted (and failed to), after the alias moved
        fields["prune"] = dict(prune)
    if functions is not None:
        fields["functions"] = {k: dict(v) for k, v in functions.items()}
    return fields


def unlock(*, started_seq: int, actor: str, reason: str) -> dict[str, Any]:
    return {"type": UNLOCK, "started_seq": started_seq, "actor": actor, "reason": reason}


def prune(*, target: TargetRef, actor: str, summary: Mapping[str, Any], function: str | None = None
          ) -> dict[str, Any]:
    """A `prune` record: what `pipeline prune` deleted on one target, what failed, what it kept and why.
    `function`: a multi-function service's function key (one record per function that deleted anything)."""
    return {"type": PRUNE, "action": "prune", "target": target.to_dict(), "account": target.account,
            "region": target.region, "actor": actor, **({"function": function} if function else {}),
            **dict(summary)}


# -- accessors ---------------------------------------------------------------------------------------
def holder(record: Record) -> Holder:
    """The holder of a `started` record (a record without one reads as an unknown holder)."""
    return Holder.from_dict(record.get("holder"))


def action(record: Record) -> str:
    return str(record.get("action") or "promote")


def artifact(record: Record) -> str | None:
    return _str(record.get("artifact"))


def commit(record: Record) -> str | None:
    return _str(record.get("commit"))


def outcome_of(record: Record) -> str | None:
    return _str(record.get("outcome"))


def version(record: Record) -> str | None:
    value = record.get("version")
    return str(value) if value not in (None, "") else None


def is_service(record: Record) -> bool:
    """A multi-function service's record (`functions`), as opposed to the one-function shape."""
    return bool(record.get("functions"))


def function_versions(record: Record) -> dict[str, str | None]:
    """Function key -> version an outcome records: a service's every function; the one-function shape's
    `version` under the key "" (both shapes stay readable: the ledger is never rewritten)."""
    found = record.get("functions")
    if isinstance(found, Mapping) and found:
        return {str(k): _str(v.get("version")) if isinstance(v, Mapping) else None for k, v in found.items()}
    return {"": version(record)}


def function_sha256s(record: Record) -> dict[str, str | None]:
    """Function key -> the hex CodeSha256 an outcome records for it (the one-function shape: its artifact)."""
    found = record.get("functions")
    if isinstance(found, Mapping) and found:
        return {str(k): _str(v.get("sha256")) if isinstance(v, Mapping) else None for k, v in found.items()}
    return {"": artifact(record)}


def previous_versions(record: Record, label: str) -> dict[str, str | None]:
    """What a `started` record says each function's alias pointed at before on one target (key "" for the
    one-function shape; None: no alias)."""
    entry = (record.get("previous") or {}).get(label) or {}
    per = entry.get("functions") if isinstance(entry, Mapping) else None
    if isinstance(per, Mapping) and per:
        return {str(k): _str(v.get("version")) if isinstance(v, Mapping) else None for k, v in per.items()}
    return {"": previous_version(record, label)}


def targets(record: Record) -> list[TargetRef]:
    """The targets a `started` record names."""
    found = record.get("targets") or []
    return [TargetRef(str(t.get("account")), str(t.get("region"))) for t in found if isinstance(t, Mapping)]


def target_of(record: Record) -> TargetRef | None:
    value = record.get("target")
    return TargetRef(str(value.get("account")), str(value.get("region"))) if isinstance(value, Mapping) else None


def previous_version(record: Record, label: str) -> str | None:
    """What a `started` record says the alias pointed at before, for one target (None: no alias)."""
    entry = (record.get("previous") or {}).get(label) or {}
    value = entry.get("version") if isinstance(entry, Mapping) else None
    return str(value) if value not in (None, "") else None


def smoke(record: Record) -> list[Mapping[str, Any]]:
    return [s for s in record.get("smoke") or [] if isinstance(s, Mapping)]


def smoke_summary(record: Record) -> str | None:
    cases = smoke(record)
    return f"{sum(1 for s in cases if s.get('passed'))}/{len(cases)}" if cases else None


def actor(record: Record) -> str:
    return str(record.get("actor") or "")


def _str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
