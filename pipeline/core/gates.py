"""Promotion gates as pure functions of observed facts. Every gate is evaluated before any write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any
from zoneinfo import ZoneInfo

from pipeline.config.values import FREEZE_RE
from pipeline.core.observed import GateFacts

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEK = 7 * 24 * 60


@dataclass(frozen=True)
class GateResult:
    name: str
    passed: bool
    reason: str
    until: str | None = None  # freeze: when the freeze ends (ISO 8601, in the env's timezone)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.until is None:
            del data["until"]
        return data


def evaluate(facts: GateFacts) -> list[GateResult]:
    """Every gate, in the order they are printed: all of them are decided before any write."""
    return [predecessor(facts.requires, facts.digest, facts.passed_in_requires),
            approval(facts.approval_required, facts.approver, facts.reason, facts.dirty),
            clean(facts.clean_required, facts.dirty),
            freeze(list(facts.freeze), facts.timezone, facts.now),
            alarms(facts.alarm_states),
            integrity(facts.digest, facts.staged_sha256, facts.staged_where, facts.replicas),
            lock(facts.lock_holder, facts.lock_age_seconds, facts.lock_key)]


def refusal(results: list[GateResult]) -> tuple[str, list[str]] | None:
    """(one-line message naming each failing gate once, with its reason; those lines) when any gate failed."""
    failed = failing(results)
    if not failed:
        return None
    lines = [f"{g.name}: {g.reason}" for g in failed]
    return "refused: " + "; ".join(lines), lines


def dirty_warning(digest: str, dirty: bool, env: str, refusing: list[str], first: str) -> str | None:
    """The warning for a dirty build that passes here but that a later env will refuse (None: nothing to say)."""
    refusing = [n for n in refusing if n != env]
    if not dirty or not refusing:
        return None
    return (f"warning: {digest[:12]} was built from a dirty work tree: {', '.join(refusing)} will refuse it; to "
            "release this change, commit it, then `pipeline build`, `pipeline stage` and start again with "
            f"`pipeline promote --to {first}`")


def failing(results: list[GateResult]) -> list[GateResult]:
    return [r for r in results if not r.passed]


def predecessor(requires: str | None, digest: str, passed_in_requires: bool) -> GateResult:
    if requires is None:
        return GateResult("predecessor", True, "first stage: no predecessor required")
    if passed_in_requires:
        return GateResult("predecessor", True, f"{digest[:12]} passed smoke in {requires}")
    return GateResult("predecessor", False, f"{digest[:12]} has no passed smoke record in {requires}: "
                                            f"promote it to {requires} first")


def approval(required: bool, approver: str | None, reason: str | None, dirty: bool) -> GateResult:
    if not required:
        return GateResult("approval", True, "not required")
    if dirty:
        return GateResult("approval", False, "artifact was built from a dirty work tree: approval envs refuse it; "
                                             "commit, `pipeline build`, `pipeline stage`, then promote the new "
                                             "artifact from the first stage")
    if approver is None:
        return GateResult("approval", False, "this environment needs an approval: rerun with --approve "
                                             "(or approve the pipeline's manual approval action)")
    return GateResult("approval", True, f"approved by {approver}" + (f": {reason}" if reason else ""))


def clean(required: bool, dirty: bool) -> GateResult:
    if not required:
        return GateResult("clean", True, "not required" + (" (the artifact is a dirty build)" if dirty else ""))
    if dirty:
        return GateResult("clean", False, "artifact was built from a dirty work tree and this env has gates.clean: "
                                          "commit, `pipeline build`, `pipeline stage`, then promote the new "
                                          "artifact from the first stage")
    return GateResult("clean", True, "built from a clean work tree")


def parse_window(text: str) -> tuple[int, int]:
    """'Fri 15:00-Mon 08:00' -> (start, end) in minutes since Monday 00:00."""
    m = FREEZE_RE.match(text)
    if not m:
        raise ValueError(f"not a freeze window: {text!r}")
    d1, h1, m1, d2, h2, m2 = m.groups()
    return DAYS.index(d1) * 1440 + int(h1) * 60 + int(m1), DAYS.index(d2) * 1440 + int(h2) * 60 + int(m2)


def in_window(window: str, local: dt.datetime) -> bool:
    start, end = parse_window(window)
    t = local.weekday() * 1440 + local.hour * 60 + local.minute
    if start <= end:
        return start <= t < end
    return t >= start or t < end  # wraps over the week's end


def freeze_until(windows: list[str], local: dt.datetime) -> dt.datetime | None:
    """When the freeze holding at `local` ends (None: not frozen): the end of its window, or of the next
    windows it runs into (Fri 15:00-Mon 08:00 then Mon 08:00-Mon 10:00 ends Monday 10:00). Wall-clock
    times in `local`'s zone."""
    until = local.replace(second=0, microsecond=0)
    if not any(in_window(w, until) for w in windows):
        return None
    for _ in range(len(windows) + 1):
        holding = [w for w in windows if in_window(w, until)]
        if not holding:
            return until
        t = until.weekday() * 1440 + until.hour * 60 + until.minute
        ahead = max((parse_window(w)[1] - t) % WEEK or WEEK for w in holding)
        naive = until.replace(tzinfo=None) + dt.timedelta(minutes=ahead)  # wall-clock minutes, then the zone
        until = naive.replace(tzinfo=local.tzinfo)
    return until  # windows covering the whole week: frozen for good; the last end found


def freeze(windows: list[str], timezone: str, now: dt.datetime) -> GateResult:
    local = now.astimezone(ZoneInfo(timezone))
    for window in windows:
        if in_window(window, local):
            until = freeze_until(windows, local)
            assert until is not None
            return GateResult("freeze", False, f"frozen until {until:%a %Y-%m-%d %H:%M} {timezone} "
                                               f"(window {window}; now {local:%a %H:%M})",
                              until=until.isoformat(timespec="minutes"))
    if not windows:
        return GateResult("freeze", True, "no freeze windows")
    return GateResult("freeze", True, f"outside {', '.join(windows)} ({timezone}; now {local:%a %H:%M})")


def alarms(states: dict[str, str | None]) -> GateResult:
    if not states:
        return GateResult("alarms", True, "no alarms configured")
    missing = sorted(name for name, state in states.items() if state is None)
    firing = sorted(name for name, state in states.items() if state == "ALARM")
    if missing or firing:
        parts = []
        if firing:
            parts.append(f"in ALARM: {', '.join(firing)}")
        if missing:
            parts.append(f"not found: {', '.join(missing)}")
        return GateResult("alarms", False, "; ".join(parts))
    return GateResult("alarms", True, f"{len(states)} quiet ({', '.join(sorted(states))})")


def integrity(digest: str, staged_sha256: str | None, where: str,
              replicas: Sequence[tuple[str, str, str | None]] = ()) -> GateResult:
    """The staged bytes, and the replica in every other region the promotion touches, match the digest."""
    if staged_sha256 is None:
        return GateResult("integrity", False, f"{digest[:12]} is not staged at {where}: run `pipeline stage`")
    if staged_sha256 != digest:
        return GateResult("integrity", False, f"{where} has sha256 {staged_sha256}, expected {digest}")
    for region, replica_where, found in replicas:
        if found is None:
            return GateResult("integrity", False, f"{digest[:12]} has no replica in {region} ({replica_where}): "
                                                  "run `pipeline stage` again (it copies the missing replicas)")
        if found != digest:
            return GateResult("integrity", False, f"replica in {region} {replica_where} has sha256 {found}, "
                                                  f"expected {digest}: replaced after staging")
    regions = f" and its replicas in {', '.join(r for r, _, _ in replicas)}" if replicas else ""
    return GateResult("integrity", True, f"staged bytes{regions} match {digest[:12]}")


def lock(holder: str | None, age_seconds: float | None, where: str) -> GateResult:
    if holder is None:
        return GateResult("lock", True, "free")
    return GateResult("lock", False, f"held by {holder} for {_age(age_seconds or 0)} ({where})")


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"
