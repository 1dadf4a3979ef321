"""What runs where, and whether the ledger agrees: shared by `status` and `verify`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.aws.ledger import LedgerView
from pipeline.config.model import Environment, Target
from pipeline.core.ledger import Record, find_outcome
from pipeline.core.plan import LIVE_ALIAS
from pipeline.engine.promote import Promotion
from pipeline.engine.targets import hex_sha


@dataclass(frozen=True)
class TargetStatus:
    env: str
    target: Target
    live_sha256: str | None
    live_version: str | None
    record: Record | None  # the newest outcome that should describe what runs here
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
                (f"{data.get('outcome')} {sum(1 for s in smoke if s.get('passed'))}/{len(smoke)}" if data else None),
                "DRIFT" if self.drift else "ok"]

    def to_dict(self) -> dict[str, Any]:
        data = self.record.data if self.record else {}
        return {"env": self.env, "account": self.target.account, "region": self.target.region,
                "artifact": self.live_sha256, "version": self.live_version, "commit": data.get("commit"),
                "when": data.get("time"), "who": data.get("actor"), "outcome": data.get("outcome"),
                "smoke": data.get("smoke"), "ledger_artifact": self.expected_sha256, "drift": self.drift,
                "drift_reason": self.drift_reason() or None}


HEADERS = ["env", "target", "artifact", "commit", "version", "when", "who", "smoke", "drift"]


def target_status(promotion: Promotion, env: Environment, target: Target, view: LedgerView) -> TargetStatus:
    fn = promotion.function(env, target)
    live = fn.version(LIVE_ALIAS)
    where = {"account": target.account, "region": target.region}
    # What should run: the newest outcome that left the alias on its artifact (PASSED), for this target.
    record = find_outcome(view.newest_first(), target=where, outcome="PASSED")
    newest = find_outcome(view.newest_first(), target=where)
    expected = str(record.get("artifact")) if record else None
    return TargetStatus(env.name, target, hex_sha(live.code_sha256) if live else None,
                        live.version if live else None, newest or record, expected)


def _short(sha: str | None) -> str | None:
    return sha[:12] if sha else None
