"""The promotion board's model: what `pipeline board` shows, decided from what `status`, `history` and
`verify` already compute (the engine observes; this module only words and colours it). Pure.

Every flag carries words and a tone (ok, warn, bad, idle, error): the page colours the tone but always
prints the words, so nothing is said by colour alone. The timeline holds the stored records as read: a
record that does not parse is shown as unreadable, never filled in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from pipeline.core import records as R
from pipeline.core.ledger import Record, seq_of

OK, WARN, BAD, IDLE, ERROR = "ok", "warn", "bad", "idle", "error"


@dataclass(frozen=True)
class Cell:
    """One env x function x target of the matrix."""

    env: str
    target: str
    function: str
    artifact: str | None = None
    commit: str | None = None
    version: str | None = None
    when: str | None = None
    who: str | None = None
    smoke: str | None = None
    canary: str | None = None
    state: str = "ok"  # status's drift column, in words
    tone: str = OK
    findings: tuple[str, ...] = ()
    cases: tuple[str, ...] = ()  # each smoke case of the release: `name: passed`, `name: FAILED (why)`
    error: str | None = None  # the read failed (e.g. AccessDenied): the reason, the rest of the board still drawn

    @property
    def sha12(self) -> str:
        return self.artifact[:12] if self.artifact else "-"


@dataclass(frozen=True)
class Mark:
    """One ledger record on the timeline (and one row of the table below it)."""

    seq: int
    key: str
    kind: str  # started | lease | outcome | unlock | prune | unreadable
    action: str
    outcome: str | None
    time: str | None
    artifact: str | None
    actor: str
    approver: str | None
    seconds: float | None  # an outcome: how long since its started record
    tone: str
    words: str
    tampered: bool = False

    @property
    def title(self) -> str:
        """The hover text of the mark: what, when, how long, who, approved by whom."""
        parts = [f"#{self.seq} {self.words}", self.time or "no time"]
        if self.seconds is not None:
            parts.append(f"took {self.seconds:.1f}s")
        parts.append(f"by {self.actor or 'unknown'}")
        if self.approver:
            parts.append(f"approved by {self.approver}")
        if self.tampered:
            parts.append("FAILS VERIFICATION")
        return " | ".join(parts)


@dataclass(frozen=True)
class Verdict:
    """The ledger verification of one env, as `verify` words it."""

    state: str  # ok | TAMPERED | findings | unreadable
    tone: str
    checked: str  # which records the verdict covers
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class EnvBoard:
    name: str
    cells: tuple[Cell, ...]
    next: Mapping[str, Any]  # NextStep.to_dict(): kind, text, artifact, detail, gates
    next_tone: str
    lock: Mapping[str, Any] | None  # LockStatus.to_dict() plus `progress` while a promotion runs
    marks: tuple[Mark, ...]
    records: int  # how many the ledger holds
    verdict: Verdict
    error: str | None = None


@dataclass(frozen=True)
class Board:
    name: str
    generated: str
    envs: tuple[EnvBoard, ...]
    path: tuple[str, ...]
    running: bool = False  # a promotion holds a live lock somewhere: the served page refreshes itself
    refresh_seconds: int | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        def env(e: EnvBoard) -> dict[str, Any]:
            data = asdict(e)
            data["cells"] = [{**asdict(c), "sha12": c.sha12, "findings": list(c.findings), "cases": list(c.cases)}
                             for c in e.cells]
            data["marks"] = [{**asdict(m), "title": m.title} for m in e.marks]
            data["verdict"]["problems"] = list(e.verdict.problems)
            return data

        return {"name": self.name, "generated": self.generated, "path": list(self.path), "running": self.running,
                "environments": [env(e) for e in self.envs], "notes": list(self.notes)}


def cell(status: Mapping[str, Any], state: str) -> Cell:
    """A matrix cell from `TargetStatus.to_dict()` and its drift label (`core.live.label`)."""
    smoke = status.get("smoke")
    passed = sum(1 for s in smoke if isinstance(s, Mapping) and s.get("passed")) if isinstance(smoke, list) else 0
    total = len(smoke) if isinstance(smoke, list) else 0
    commit = str(status.get("commit") or "")[:12] or None
    if status.get("dirty"):
        commit = f"{commit or '?'} (dirty)"
    canary = status.get("canary") or {}
    findings = tuple(f"{f['message']} (fix: {f['fix']})" for f in status.get("findings") or ())
    cases = tuple(f"{s.get('name')}: " + ("passed" if s.get("passed") else f"FAILED ({s.get('reason') or '?'})")
                  for s in (smoke if isinstance(smoke, list) else ()) if isinstance(s, Mapping))
    when = status.get("when")
    who = str(status.get("who") or "")
    return Cell(str(status.get("env")), f"{status.get('account')}/{status.get('region')}", str(status.get("function")
                or ""), status.get("artifact"), commit, status.get("version"), str(when)[:19] if when else None,
                _who(who) or None, f"{passed}/{total} passed" if status.get("when") else None,
                canary.get("split"), _state_words(status, state), _state_tone(status, state), findings, cases)


def _state_words(status: Mapping[str, Any], state: str) -> str:
    if status.get("artifact") is None and status.get("ledger_artifact") is None:
        return "no release yet" if state == "ok" else state
    return state


def _state_tone(status: Mapping[str, Any], state: str) -> str:
    if "DRIFT" in state or "LEFTOVER" in state:
        return BAD
    if "running" in state:
        return WARN
    if status.get("artifact") is None:
        return IDLE
    return OK


def missing_cell(env: str, target: str, function: str) -> Cell:
    return Cell(env, target, function, state="not bootstrapped", tone=IDLE)


def failed_cell(env: str, target: str, function: str, reason: str) -> Cell:
    return Cell(env, target, function, state="cannot read", tone=ERROR, error=reason)


def next_tone(kind: str) -> str:
    return {"ready": OK, "up to date": OK, "waiting for approval": WARN, "blocked": BAD, "rolled back": BAD,
            "nothing to promote": IDLE, "not bootstrapped": IDLE}.get(kind, ERROR)


def marks(window: Sequence[Record], suspect: Sequence[str] = ()) -> list[Mark]:
    """The timeline of `window` (records oldest first); `suspect`: keys verification names."""
    started = {r.seq: r for r in window if r.type == R.STARTED}
    found = []
    for record in window:
        seq = seq_of(record.key)
        tampered = record.key in suspect
        if not record.data:
            found.append(Mark(seq if seq is not None else -1, record.key, "unreadable", "", None, None, None, "",
                              None, None, BAD, "unreadable record (not JSON: edited?)", True))
            continue
        outcome = R.outcome_of(record)
        begun = started.get(record.get("started_seq")) if record.type == R.OUTCOME else None
        seconds = (record.time - begun.time).total_seconds() if begun and begun.time and record.time else None
        approval = record.get("approval")
        approver = str(approval.get("approver") or "") if isinstance(approval, Mapping) else ""
        digest = R.artifact(record)
        words = " ".join(w for w in (R.action(record), record.type if record.type != R.OUTCOME else "",
                                     outcome or "", digest[:12] if digest else "") if w)
        found.append(Mark(record.seq, record.key, record.type or "unknown", R.action(record), outcome,
                          str(record.get("time") or "")[:23] or None, digest, _who(R.actor(record)),
                          _who(approver) or None, seconds, BAD if tampered else _record_tone(record), words, tampered))
    return found


def _record_tone(record: Record) -> str:
    outcome = R.outcome_of(record)
    if outcome == R.PASSED:
        return OK
    if outcome in (R.FAILED, R.ROLLED_BACK):
        return BAD
    if outcome == R.ABORTED or record.type == R.UNLOCK:
        return WARN
    return IDLE


def _who(arn: str) -> str:
    """`role/session` of an assumed role, the user name of a user; anything else as written."""
    if ":assumed-role/" in arn:
        return arn.split(":assumed-role/", 1)[1]
    return arn.rsplit("/", 1)[-1] if ":user/" in arn else arn


def verdict(problems: Sequence[str], findings: Sequence[str], checked: str) -> Verdict:
    """`verify`'s judgement: chain problems are tampering; live findings (drift, leftovers, a dead lock) next."""
    if problems:
        return Verdict("TAMPERED", BAD, checked, tuple(problems) + tuple(findings))
    if findings:
        return Verdict("findings", WARN, checked, tuple(findings))
    return Verdict("ok", OK, checked)


def progress(lock: Mapping[str, Any], after: Sequence[Record], canaries: Sequence[str], now: dt.datetime) -> dict:
    """What a running promotion is doing: targets done (their outcome records), the ones it still works
    on, a canary split being baked, and the lease it renews."""
    done = [f"{(R.target_of(r) or R.TargetRef('?', '?')).label} {R.outcome_of(r)}" for r in after
            if r.type == R.OUTCOME]
    leases = [r for r in after if r.type == R.LEASE]
    targets = [t.get("account", "?") + "/" + t.get("region", "?") for t in lock.get("targets") or ()]
    waiting = [t for t in targets if not any(d.startswith(t) for d in done)]
    if canaries:
        step = f"baking the canary ({'; '.join(canaries)})"
    elif waiting:
        step = f"deploying and smoke testing {', '.join(waiting)}"
    else:
        step = "recording the outcome"
    return {"step": step, "done": done, "waiting_for": waiting, "leases": len(leases),
            "in_flight": [r.key for r in after], "as_of": now.isoformat(timespec="seconds")}
