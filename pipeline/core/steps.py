"""The typed, frozen steps a plan is made of. Pure.

A step says what to do to one target and nothing else; the executor (engine/executor.py) does
it through the adapters, the display executor prints it. `NEW_VERSION` stands for the version
the target's `DeployCode` step publishes (its number is known only once it ran).
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.core.function import GO_HANDLER, GO_RUNTIME, LIVE_ALIAS

NEW_VERSION = "<new>"


def _v(version: str) -> str:
    return "new version" if version == NEW_VERSION else f"v{version}"


@dataclass(frozen=True)
class SwitchRuntime:
    """A function still on the bootstrap stub's runtime goes to the Go runtime (and waits for the update)."""

    target: str
    current: str | None
    runtime: str = GO_RUNTIME
    handler: str = GO_HANDLER
    kind = "switch-runtime"

    @property
    def detail(self) -> str:
        return f"{self.current} -> {self.runtime} (handler {self.handler})"


@dataclass(frozen=True)
class DeployCode:
    """update_function_code from the staged object, publishing a version (NEW_VERSION)."""

    target: str
    digest: str
    kind = "deploy-code"

    @property
    def detail(self) -> str:
        return f"update code to {self.digest[:12]} and publish a version"


@dataclass(frozen=True)
class VerifyCode:
    """The published version's CodeSha256 must equal the artifact's, or the alias is not moved."""

    target: str
    digest: str
    kind = "verify-code"

    @property
    def detail(self) -> str:
        return "published CodeSha256 must equal the artifact's"


@dataclass(frozen=True)
class PointAlias:
    """`alias` -> `version` (created when `create`), with `weight` of the traffic on `extra` (canary)."""

    target: str
    version: str
    kind: str = "alias"  # alias | alias-canary | alias-full | restore-alias
    extra: str | None = None
    weight: float = 0.0
    create: bool = False
    previous: str | None = None  # what the alias points at before this step (display only)
    alias: str = LIVE_ALIAS

    @property
    def weights(self) -> dict[str, float]:
        """Version -> share of the traffic after this step."""
        if self.extra is None:
            return {self.version: 1.0}
        return {self.version: round(1.0 - self.weight, 6), self.extra: self.weight}

    @property
    def detail(self) -> str:
        if self.extra is not None:
            percent = round(self.weight * 100)
            return f"{self.alias}: {100 - percent}% {_v(self.version)}, {percent}% {_v(self.extra)}"
        if self.kind == "alias-full":
            return f"{self.alias}: 100% {_v(self.version)}"
        if self.kind == "restore-alias" and self.previous is None:
            return f"{self.alias} back to {_v(self.version)} (weights cleared)"
        before = _v(self.previous) if self.previous else "none"
        return f"{self.alias}: {before} -> {_v(self.version)}"


@dataclass(frozen=True)
class DeleteAlias:
    """The alias goes away (a first deploy that failed, or an alias only an unfinished run created)."""

    target: str
    alias: str = LIVE_ALIAS
    kind = "remove-alias"

    @property
    def detail(self) -> str:
        return f"{self.alias} removed (nothing verified ran here before)"


@dataclass(frozen=True)
class Smoke:
    """Every smoke case of the env against each qualifier, in order."""

    target: str
    qualifiers: tuple[str, ...]
    cases: int
    kind = "smoke"

    @property
    def detail(self) -> str:
        names = " and ".join("the new version" if q == NEW_VERSION else q for q in self.qualifiers)
        return f"{self.cases} case(s) against {names}"


@dataclass(frozen=True)
class Bake:
    """Wait `seconds` watching the env's alarms (the lock's lease is renewed meanwhile)."""

    target: str
    seconds: int
    kind = "bake"

    @property
    def detail(self) -> str:
        return f"{self.seconds}s watching alarms"


@dataclass(frozen=True)
class Prune:
    """Delete the function's versions beyond the newest `keep`, never one an alias or `protect` names
    (version -> why: the ledger's last good and rollback target, the alias's version before the run).
    Runs after the alias moved and smoke passed; a failure is a warning, never the run's failure."""

    target: str
    keep: int
    protect: tuple[tuple[str, str], ...] = ()
    kind = "prune"

    @property
    def detail(self) -> str:
        kept = "".join(f", v{v} ({why})" for v, why in self.protect)
        return f"delete versions older than the newest {self.keep} (kept: every alias's versions{kept})"


@dataclass(frozen=True)
class RecordOutcome:
    """The target's outcome record in the ledger (the last one closes the lock)."""

    target: str
    outcome: str | None = None  # fixed (e.g. ABORTED for a reconcile); None: however the target's steps end
    reason: str = ""  # the fixed outcome's reason, or the reason recorded when every step succeeded
    on_failure: str = ""  # what the alias goes back to when a step fails (display)
    kind = "record"

    @property
    def detail(self) -> str:
        if self.outcome:
            return f"ledger outcome {self.outcome}: {self.reason}"
        return f"ledger outcome; on failure the alias goes back to {self.on_failure or 'none'}"


Step = SwitchRuntime | DeployCode | VerifyCode | PointAlias | DeleteAlias | Smoke | Bake | Prune | RecordOutcome
