"""What the live alias of one target says beyond "runs the released code": one judgement for `status`,
`verify` and `doctor`, so the three never disagree. Pure.

A target is `ok` only when its alias runs, with no extra weight, the artifact of the ledger's newest
PASSED outcome there. A canary weight on the alias belongs to a promotion that is running (a live
lock); with no lock held, or a dead one (its holder was killed during the bake), it is left over:
part of the traffic goes to a version nothing verified, and it stays so until someone acts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pipeline.core.doctor import Check, failed, passed
from pipeline.core.function import LIVE_ALIAS


@dataclass(frozen=True)
class LiveFacts:
    """One target as read: the alias, its weights, the ledger's word, the env's lock."""

    env: str
    label: str  # account/region
    live_version: str | None
    live_sha256: str | None  # hex of what the alias's primary version runs
    weights: Mapping[str, float]  # the alias's AdditionalVersionWeights: {version: share}
    expected_sha256: str | None  # the artifact of the newest PASSED outcome for this target
    lock_held: bool = False
    lock_dead: str | None = None  # why the held lock's holder is gone (None: alive, or no lock)
    lock_artifact: str | None = None  # what the holder of the lock is deploying

    @property
    def promoting(self) -> bool:
        """A live promotion holds the lock (its holder may still be at work)."""
        return self.lock_held and self.lock_dead is None


@dataclass(frozen=True)
class Finding:
    kind: str  # drift | leftover-canary
    message: str
    fix: str  # a command that runs as printed


def split(live_version: str | None, weights: Mapping[str, float]) -> str | None:
    """`live: 90% v1, 10% v2` while the alias splits traffic (None: it does not)."""
    if not weights or live_version is None:
        return None
    extra = ", ".join(f"{round(w * 100)}% v{v}" for v, w in sorted(weights.items()))
    return f"{LIVE_ALIAS}: {round((1 - sum(weights.values())) * 100)}% v{live_version}, {extra}"


def canary_running(facts: LiveFacts) -> bool:
    """A split that belongs to a promotion still at work (its lock is held and its holder alive)."""
    return bool(facts.weights) and facts.promoting


def leftover_canary(facts: LiveFacts) -> Finding | None:
    shown = split(facts.live_version, facts.weights)
    if shown is None or canary_running(facts):
        return None
    why = (f"its promotion's lock is dead ({facts.lock_dead})" if facts.lock_held
           else "no promotion holds the lock")
    if facts.lock_held:
        fix = f"pipeline unlock --env {facts.env} --force"
    elif facts.live_sha256:
        fix = f"pipeline rollback --env {facts.env} --artifact {facts.live_sha256}"
    else:
        fix = f"pipeline unlock --env {facts.env} --force"
    return Finding("leftover-canary", f"a canary weight is left on the alias ({shown}) while {why}: "
                                      f"{_share(facts.weights)} of the traffic runs an unverified version", fix)


def deploying(facts: LiveFacts) -> bool:
    """The alias already runs what a live promotion deploys (its outcome is not recorded yet): no drift."""
    return facts.promoting and facts.live_sha256 is not None and facts.live_sha256 == facts.lock_artifact


def drift(facts: LiveFacts) -> Finding | None:
    if facts.live_sha256 == facts.expected_sha256 or deploying(facts):
        return None
    if facts.expected_sha256 is None:
        message = f"runs {_short(facts.live_sha256)} but the ledger records no passed deploy (out-of-band?)"
        fix = f"pipeline promote --to {facts.env}"
    else:
        message = (f"runs {_short(facts.live_sha256)} but the ledger says {_short(facts.expected_sha256)} "
                   "(out-of-band deploy?)")
        fix = f"pipeline rollback --env {facts.env} --artifact {facts.expected_sha256}"
    if facts.lock_held and facts.lock_dead:  # a run that died left it: breaking its lock puts the alias back
        fix = f"pipeline unlock --env {facts.env} --force"
    return Finding("drift", message, fix)


def findings(facts: LiveFacts) -> list[Finding]:
    """Every way the target is not on a finished, verified release (empty: all is well)."""
    return [f for f in (drift(facts), leftover_canary(facts)) if f is not None]


def label(facts: LiveFacts) -> str:
    """The status table's drift column: ok, DRIFT, LEFTOVER CANARY, or canary running."""
    words = [w for f in findings(facts) for w in [{"drift": "DRIFT", "leftover-canary": "LEFTOVER CANARY"}[f.kind]]]
    if canary_running(facts):
        words.append("canary running")
    elif deploying(facts) and facts.live_sha256 != facts.expected_sha256:
        words.append("promotion running")
    return ", ".join(words) or "ok"


def _share(weights: Mapping[str, float]) -> str:
    return f"{round(sum(weights.values()) * 100)}%"


def _short(sha: str | None) -> str | None:
    return sha[:12] if sha else None


def live_check(where: str, facts: LiveFacts, dirty: bool | None = None) -> Check:
    """`doctor`'s "live alias" check: fails on drift or a leftover canary weight, naming the command that fixes it."""
    found = findings(facts)
    if found:
        return failed("live alias", where, "; ".join(f.message for f in found), f"run {found[0].fix}")
    if facts.live_version is None:
        return passed("live alias", where, f"no {LIVE_ALIAS} alias yet: nothing promoted here")
    running = " (a running promotion's canary split: " + str(split(facts.live_version, facts.weights)) + ")"
    built = "; built from a dirty work tree: an approval env refuses it" if dirty else ""
    return passed("live alias", where, f"{LIVE_ALIAS} -> v{facts.live_version} runs {_short(facts.live_sha256)}, "
                                       "the ledger's newest passed release" + (running if facts.weights else "")
                  + built)


def lock_check(env: str, where: str, held: bool, line: str, dead: str | None) -> Check:
    """`doctor`'s "lock" check: a lock whose holder is gone fails (it blocks every writer until reconciled)."""
    if not held:
        return passed("lock", where, "free")
    if dead:
        return failed("lock", where, line, f"run pipeline unlock --env {env} --force")
    return passed("lock", where, f"{line} (a promotion is running)")
