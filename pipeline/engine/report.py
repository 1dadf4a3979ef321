"""What a promote or rollback reports: the result document and the summary tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.core import gates as G
from pipeline.core.records import PASSED
from pipeline.engine.executor import TargetRun
from pipeline.output import Output, render_table


@dataclass
class Result:
    env: str
    artifact: str
    noop: bool = False
    gates: list[G.GateResult] = field(default_factory=list)
    plan: list[dict[str, Any]] = field(default_factory=list)
    runs: list[TargetRun] = field(default_factory=list)
    ledger: list[str] = field(default_factory=list)
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)  # what a person must know before this runs (e.g. a re-deploy)
    warnings: list[str] = field(default_factory=list)  # what went wrong without failing it (a failed prune)

    @property
    def ok(self) -> bool:
        return self.noop or self.dry_run or all(r.outcome == PASSED for r in self.runs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env, "artifact": self.artifact, "noop": self.noop,
            "gates": [g.to_dict() for g in self.gates], "plan": self.plan,
            "targets": [{"target": r.label, "outcome": r.outcome, "reason": r.reason,
                         "version": r.published.version if r.published else None,
                         "previous_version": r.previous.version if r.previous else None,
                         "smoke": [s.to_dict() for s in r.smoke], "timings": r.timings,
                         # the plan's steps as carried out (undo steps included): compare with "plan"
                         "steps": [{"kind": s.kind, "target": s.target, "detail": s.detail} for s in r.executed],
                         # a service's release: every function's version, CodeSha256 and version before
                         **({"functions": r.functions()} if callable(getattr(r, "functions", None)) else {})}
                        for r in self.runs],
            "ledger": self.ledger,
            "notes": self.notes,
            "warnings": self.warnings,
        }


def print_summary(out: Output, env: str, digest: str, runs: list[TargetRun]) -> None:
    rows = [[s.name, s.qualifier, "pass" if s.passed else "FAIL", s.status, f"{s.duration_ms:.0f}", s.reason]
            for r in runs for s in r.smoke]
    if rows:
        out.table(["smoke", "qualifier", "result", "status", "ms", "detail"], rows)
    out.text(render_table(["target", "outcome", "version", "previous", "detail"],
                          [[r.label, r.outcome, r.published.version if r.published else None,
                            r.previous.version if r.previous else None, r.reason] for r in runs],
                          title=f"{env}: {digest[:12]}"))
