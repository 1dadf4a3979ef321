"""What runs where, and whether the ledger agrees: shared by `status` and `verify`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.aws.ledger import LedgerView
from pipeline.config.merged import Environment, Target
from pipeline.core.function import LIVE_ALIAS
from pipeline.core.ledger import Record, find_outcome
from pipeline.engine.promote import Promotion
from pipeline.engine.targets import hex_sha


@dataclass(frozen=True)
class TargetStatus:
    env: str
    target: Target
    live_sha256: str | None
    live_version: str | None
    record: Record | None  # the newest PASSED outcome: what should run here
    last: Record | None  # the newest outcome of any kind (a failed attempt shows here)
    expected_sha256: str | None

    @property
    def drift(self) -> bool:
        return self.live_sha256 != self.expected_sha256

    def drift_reason(self) -> str:
        if not self.drift:
            return ""
        if self.expected_sha256 is None:
            return f"runs {_short(self.live_sha256)} but the ledger records no passed deploy (out-of-band?)"
        return (f"runs {_short(self.live_sha256)} but the ledger says {_short(self.expected_sha256)} "
                "(out-of-band deploy?)")

    def row(self) -> list[Any]:
        data = self.record.data if self.record else {}
        smoke = data.get("smoke") or []
        actor = str(data.get("actor") or "")
        return [self.env, f"{self.target.account}/{self.target.region}", _short(self.live_sha256),
                str(data.get("commit") or "")[:12] or None, self.live_version, str(data.get("time", ""))[:19] or None,
                actor.rsplit("/", 1)[-1] if actor else None,
                f"{sum(1 for s in smoke if s.get('passed'))}/{len(smoke)} passed" if data else None,
                self.last_attempt(), "DRIFT" if self.drift else "ok"]

    def last_attempt(self) -> str | None:
        """The newest outcome when it is not the one that describes what runs (e.g. a rolled-back release)."""
        if self.last is None or self.last is self.record or (self.record and self.last.seq == self.record.seq):
            return None
        return f"{self.last.get('outcome')} {str(self.last.get('artifact') or '')[:12]}"

    def to_dict(self) -> dict[str, Any]:
        data = self.record.data if self.record else {}
        return {"env": self.env, "account": self.target.account, "region": self.target.region,
                "artifact": self.live_sha256, "version": self.live_version, "commit": data.get("commit"),
                "when": data.get("time"), "who": data.get("actor"), "outcome": data.get("outcome"),
                "smoke": data.get("smoke"), "ledger_artifact": self.expected_sha256, "drift": self.drift,
                "drift_reason": self.drift_reason() or None,
                "last_attempt": ({"outcome": self.last.get("outcome"), "artifact": self.last.get("artifact"),
                                  "reason": self.last.get("reason"), "when": self.last.get("time")}
                                 if self.last_attempt() else None)}


HEADERS = ["env", "target", "artifact", "commit", "version", "when", "who", "smoke", "last attempt", "drift"]


def target_status(promotion: Promotion, env: Environment, target: Target, view: LedgerView) -> TargetStatus:
    fn = promotion.function(env, target)
    live = fn.version(LIVE_ALIAS)
    where = {"account": target.account, "region": target.region}
    # What should run: the newest outcome that left the alias on its artifact (PASSED), for this target.
    record = find_outcome(view.newest_first(), target=where, outcome="PASSED")
    newest = find_outcome(view.newest_first(), target=where)
    expected = str(record.get("artifact")) if record else None
    return TargetStatus(env.name, target, hex_sha(live.code_sha256) if live else None,
                        live.version if live else None, record, newest, expected)


def _short(sha: str | None) -> str | None:
    return sha[:12] if sha else None
