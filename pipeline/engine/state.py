"""What runs where, and whether the ledger agrees: shared by `status` and `verify` (read-only: no writer here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.artifact.manifest import hex_sha256 as hex_sha
from pipeline.aws.ledger import LedgerView
from pipeline.aws.session import AssumeDenied
from pipeline.config.merged import Environment, Target
from pipeline.core import live as L
from pipeline.core import records as R
from pipeline.core.function import GO_RUNTIME, LIVE_ALIAS
from pipeline.core.ledger import LockState, Record, find_outcome, key_for
from pipeline.engine.context import EngineContext


@dataclass(frozen=True)
class TargetStatus:
    env: str
    target: Target
    live_sha256: str | None
    live_version: str | None
    record: Record | None  # the newest PASSED outcome: what should run here
    last: Record | None  # the newest outcome of any kind (a failed attempt shows here)
    expected_sha256: str | None
    weights: dict[str, float] = field(default_factory=dict)  # a canary split on the live alias: {version: share}
    lock_held: bool = False
    lock_dead: str | None = None  # the held lock's holder is gone (why)
    dirty: bool | None = None  # the running artifact was built from a dirty work tree (None: not known)
    lock_artifact: str | None = None  # what the lock's holder deploys
    function_missing: bool = False  # no function at all: the env is not bootstrapped
    function: str = ""  # the service's function key (`functions:`); "" in the one-function service

    @property
    def where(self) -> str:
        """`111111111111/us-east-1`, with the function's key in a service: `111111111111/us-east-1 api`."""
        return f"{self.target.account}/{self.target.region}" + (f" {self.function}" if self.function else "")

    @property
    def facts(self) -> L.LiveFacts:
        return L.LiveFacts(self.env, self.where, self.live_version,
                           self.live_sha256, self.weights, self.expected_sha256, self.lock_held, self.lock_dead,
                           self.lock_artifact)

    @property
    def canary(self) -> str | None:
        """`live: 90% v1, 10% v2` while the alias splits traffic."""
        return L.split(self.live_version, self.weights)

    @property
    def findings(self) -> list[L.Finding]:
        """Drift and a leftover canary weight: what is live but not a finished, verified release."""
        return L.findings(self.facts)

    @property
    def drift(self) -> bool:
        return self.live_sha256 != self.expected_sha256

    def drift_reason(self) -> str:
        found = L.drift(self.facts)
        return found.message if found else ""

    def row(self) -> list[Any]:
        data = self.record.data if self.record else {}
        actor = R.actor(self.record) if self.record else ""
        summary = R.smoke_summary(self.record) if self.record else None
        commit = str(data.get("commit") or "")[:12]
        if self.dirty:
            commit = f"{commit or '?'} (dirty)"
        return [self.env, self.where, _short(self.live_sha256),
                commit or None, self.live_version, str(data.get("time", ""))[:19] or None,
                actor.rsplit("/", 1)[-1] if actor else None,
                (f"{summary or '0/0'} passed") if data else None,
                self.last_attempt(), L.label(self.facts)]

    def last_attempt(self) -> str | None:
        """The newest outcome when it is not the one that describes what runs (e.g. a rolled-back release)."""
        if self.last is None or self.last is self.record or (self.record and self.last.seq == self.record.seq):
            return None
        return f"{R.outcome_of(self.last)} {(R.artifact(self.last) or '')[:12]}"

    def to_dict(self) -> dict[str, Any]:
        data = self.record.data if self.record else {}
        return {"env": self.env, "account": self.target.account, "region": self.target.region,
                **({"function": self.function} if self.function else {}),
                "artifact": self.live_sha256, "version": self.live_version, "commit": data.get("commit"),
                "when": data.get("time"), "who": data.get("actor"),
                "outcome": R.outcome_of(self.record) if self.record else None,
                "smoke": data.get("smoke"), "ledger_artifact": self.expected_sha256, "drift": self.drift,
                "drift_reason": self.drift_reason() or None,
                "last_attempt": ({"outcome": R.outcome_of(self.last), "artifact": R.artifact(self.last),
                                  "reason": self.last.get("reason"), "when": self.last.get("time")}
                                 if self.last_attempt() else None),
                "dirty": self.dirty,
                "canary": ({"weights": self.weights, "split": self.canary, "running": L.canary_running(self.facts)}
                           if self.weights else None),
                "findings": [{"kind": f.kind, "message": f.message, "fix": f.fix} for f in self.findings]}


HEADERS = ["env", "target", "artifact", "commit", "version", "when", "who", "smoke", "last attempt", "drift", "next"]


def target_status(ctx: EngineContext, env: Environment, target: Target, view: LedgerView, *,
                  lock: LockState | None = None, dead: str | None = None, key: str = "") -> TargetStatus:
    """The live alias (its version and its canary split: two calls) against the ledger and the env's lock;
    `key`: one function of a service (a `live` alias still on the bootstrap stub reads as no release yet)."""
    try:
        fn = ctx.function(env, target, key)
        live = fn.version(LIVE_ALIAS)
        if key and live is not None and live.runtime != GO_RUNTIME:  # the stub bootstrap pointed `live` at
            live = None
        split = (fn.alias_weights(LIVE_ALIAS) or {}) if live else {}
        missing = live is None and fn.version() is None  # (one more call only before the first promotion)
    except AssumeDenied:  # AWS's answer for a deploy role that does not exist: the env is not bootstrapped
        live, split, missing = None, {}, True
    where = {"account": target.account, "region": target.region}
    # What should run: the newest outcome that left the alias on its artifact (PASSED), for this target
    # (a service's release records each function's CodeSha256; the one-function shape, its artifact).
    record = find_outcome(view.newest_first(), target=where, outcome=R.PASSED)
    newest = find_outcome(view.newest_first(), target=where)
    expected = R.function_sha256s(record).get(key) if record else None
    running = hex_sha(live.code_sha256) if live else None
    return TargetStatus(env.name, target, running, live.version if live else None, record, newest, expected, split,
                        bool(lock and lock.held), dead,
                        dirty_of(view, record) if running == expected else None,
                        R.artifact(lock.started) if lock and lock.started else None, missing, key)


def dirty_of(view: LedgerView, record: Record | None) -> bool | None:
    """Whether the artifact of a PASSED `record` was built from a dirty work tree, as the `started` record
    of its promotion here says (copied from the staged manifest); None when that is not recorded."""
    if record is None:
        return None
    if record.get("dirty") is not None:  # outcome records carry it since issue 17
        return bool(record.get("dirty"))
    digest, seq = R.artifact(record), record.get("started_seq")
    if R.action(record) == "promote" and isinstance(seq, int) and key_for(view.env, seq) in view.keys:
        started = view.record(key_for(view.env, seq))
        return bool(started.get("dirty")) if started.get("dirty") is not None else None
    for i, other in enumerate(view.newest_first()):  # a rollback's record: find the artifact's promotion
        if i >= 200:
            break
        if other.type == R.STARTED and R.action(other) == "promote" and R.artifact(other) == digest:
            return bool(other.get("dirty")) if other.get("dirty") is not None else None
    return None


@dataclass(frozen=True)
class LockStatus:
    env: str
    lock: LockState
    age_seconds: float | None
    dead: str | None  # why the holder is gone (None: it may still be working)

    def line(self) -> str:
        assert self.lock.started is not None
        holder = R.holder(self.lock.started)
        lease = self.lock.lease_expires.isoformat()[:19] + "Z" if self.lock.lease_expires else "?"
        age = f"{self.age_seconds:.0f}s" if self.age_seconds is not None else "?"
        since = str(self.lock.started.get("time") or "?")[:19]
        state = f"; DEAD: {self.dead}" if self.dead else ""
        where = f" on {holder.host} pid {holder.pid}" if holder.host else ""
        return (f"lock: {self.env} held by {holder.actor} for {age} ({R.action(self.lock.started)}, "
                f"{self.lock.started.key}, since {since}Z{where}, lease until {lease}{state})")

    def to_dict(self) -> dict[str, Any]:
        assert self.lock.started is not None
        return {"env": self.env, "key": self.lock.started.key, "holder": R.holder(self.lock.started).to_dict(),
                "action": R.action(self.lock.started), "age_seconds": self.age_seconds,
                "since": self.lock.started.get("time"),
                "lease_expires": self.lock.lease_expires.isoformat() if self.lock.lease_expires else None,
                "dead": self.dead}


def _short(sha: str | None) -> str | None:
    return sha[:12] if sha else None
