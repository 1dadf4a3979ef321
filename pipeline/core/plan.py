"""The promotion plan: from config and observed state, the steps each target needs. Pure.

`--dry-run` prints it; the engine executes it. Idempotence lives here: a target already
running the digest with a passed record needs no step at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.core.function import GO_HANDLER, GO_RUNTIME, LIVE_ALIAS


@dataclass(frozen=True)
class TargetState:
    """What is observed in one target before anything is written."""

    account: str
    region: str
    runtime: str | None
    alias_version: str | None
    alias_sha256: str | None  # hex
    passed_here: bool  # the ledger's newest outcome for this target is PASSED for the digest

    @property
    def label(self) -> str:
        return f"{self.account}/{self.region}"


@dataclass(frozen=True)
class Step:
    kind: str
    target: str
    detail: str


def target_is_current(state: TargetState, digest: str) -> bool:
    return state.alias_sha256 == digest and state.passed_here


def target_steps(state: TargetState, digest: str, canary_percent: int | None, bake_seconds: int,
                 smoke_cases: int) -> list[Step]:
    if target_is_current(state, digest):
        return []
    t = state.label
    steps: list[Step] = []
    if state.runtime != GO_RUNTIME:
        steps.append(Step("switch-runtime", t, f"{state.runtime} -> {GO_RUNTIME} (handler {GO_HANDLER})"))
    steps.append(Step("deploy-code", t, f"update code to {digest[:12]} and publish a version"))
    steps.append(Step("verify-code", t, "published CodeSha256 must equal the artifact's"))
    previous = f"v{state.alias_version}" if state.alias_version else "none"
    if canary_percent and state.alias_version:
        steps.append(Step("alias-canary", t, f"{LIVE_ALIAS}: {100 - canary_percent}% {previous}, "
                                             f"{canary_percent}% new"))
        steps.append(Step("smoke", t, f"{smoke_cases} case(s) against the new version and {LIVE_ALIAS}"))
        steps.append(Step("bake", t, f"{bake_seconds}s watching alarms"))
        steps.append(Step("alias-full", t, f"{LIVE_ALIAS}: 100% new"))
    else:
        steps.append(Step("alias", t, f"{LIVE_ALIAS}: {previous} -> new version"))
        steps.append(Step("smoke", t, f"{smoke_cases} case(s) against {LIVE_ALIAS}"))
    steps.append(Step("record", t, "ledger outcome; on failure the alias goes back to " + previous))
    return steps


def waves(items: list[TargetState], size: int) -> list[list[TargetState]]:
    return [items[i:i + size] for i in range(0, len(items), size)]
