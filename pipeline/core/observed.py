"""What the read phase saw, as plain frozen values: the input of every decision. Pure.

The engine builds these once per command (through the adapters, before any write); the core
turns them, with the config, into gate results and plans. Unit tests build them by hand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from pipeline.core.function import GO_RUNTIME
from pipeline.core.ledger import LockState


@dataclass(frozen=True)
class ObservedTarget:
    """One target (account/region) before anything is written."""

    account: str
    region: str
    runtime: str | None
    alias_version: str | None
    alias_sha256: str | None  # hex
    passed_here: bool  # the ledger's newest PASSED outcome for this target is for the digest in question

    @property
    def label(self) -> str:
        return f"{self.account}/{self.region}"

    def is_current(self, digest: str) -> bool:
        """Already runs `digest` with a passed record: nothing to do here."""
        return self.alias_sha256 == digest and self.passed_here

    @property
    def on_stub(self) -> bool:
        return self.runtime != GO_RUNTIME


TargetState = ObservedTarget  # the name the first plan used


@dataclass(frozen=True)
class ServiceTarget:
    """One target of a multi-function service: every function's `live` alias (each an ObservedTarget of that
    function, in the service's order) and whether the ledger's newest PASSED release here is the digest."""

    account: str
    region: str
    functions: tuple[tuple[str, ObservedTarget], ...]
    passed_here: bool

    @property
    def label(self) -> str:
        return f"{self.account}/{self.region}"

    def is_current(self, digest: str) -> bool:
        """Every function runs `digest` and the release passed here: nothing to do."""
        return self.passed_here and all(f.alias_sha256 == digest for _, f in self.functions)

    def function(self, key: str) -> ObservedTarget:
        return dict(self.functions)[key]


@dataclass(frozen=True)
class GateFacts:
    """Everything the gates decide on, read before any write."""

    requires: str | None
    passed_in_requires: bool
    approval_required: bool
    approver: str | None
    reason: str | None
    dirty: bool
    freeze: tuple[str, ...]
    timezone: str
    now: dt.datetime
    alarm_states: dict[str, str | None]
    digest: str
    staged_sha256: str | None  # hex, "(no checksum recorded)" or None when not staged
    staged_where: str
    lock_holder: str | None
    lock_age_seconds: float | None
    lock_key: str
    clean_required: bool = False  # gates.clean
    # each other region the promotion touches: (region, s3 URL, replica's hex sha256 or None when absent)
    replicas: tuple[tuple[str, str, str | None], ...] = ()


@dataclass(frozen=True)
class RollbackCandidate:
    """For one target: the version the chosen artifact passed under, and what that version holds now."""

    target: ObservedTarget
    version: str | None  # None: no passed version of the artifact recorded for this target
    holds_sha256: str | None  # hex of the version's code now (None: the version is gone)


@dataclass(frozen=True)
class PendingTarget:
    """A target of an unfinished run that has no outcome yet (what reconcile must put right)."""

    account: str
    region: str
    before: str | None  # the alias's version before the run (None: there was no alias)
    live: str | None  # the alias's version now (None: no alias)

    @property
    def label(self) -> str:
        return f"{self.account}/{self.region}"


@dataclass(frozen=True)
class ObservedEnv:
    """One env's lock and targets, as the read phase found them."""

    env: str
    lock: LockState
    targets: tuple[ObservedTarget, ...] = field(default_factory=tuple)
