"""A multi-function service's release plans: every function of a target moves as one release. Pure.

The one-function form keeps `core.plan` (its plans, calls and records are unchanged). For a service
(`functions:`), each target's plan is, in order:

1. every function still on the bootstrap stub switches to the Go runtime, then every function's code is
   deployed and published, and its CodeSha256 checked (invariant 1, per function);
2. the invoke-style smoke cases run against the NEW versions (qualifier = the published version), each
   case on its `function`: nothing users reach has moved yet;
3. only then every function's `live` alias moves (with a canary: a weight per alias; a function with no
   release yet, no alias or an alias on the stub version, goes straight to the new version);
4. the `http:` cases go over real HTTP to the env's HTTP API (they reach only `live`); with a canary they
   run during the split, then the bake, then every alias goes to 100%;
5. with `prune_keep`, a Prune step per function (run only once every wave passed, as for one function):
   the newest `prune_keep` versions stay, and every alias's versions, the ledger's last good and rollback
   target of that function (`protect`, per function key), and its alias's version from before.

A failure anywhere puts every function of the target back (`undo`: each alias to its version from before,
the stub's version included) and, as for any target, its whole wave. Steps on a function are wrapped in
`OnFunction`; consecutive `OnFunction` steps of one kind (`phases`) are one phase the executor runs in
parallel, one thread per function.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pipeline.core import records as R
from pipeline.core.function import GO_HANDLER, LIVE_ALIAS
from pipeline.core.observed import ObservedTarget, ServiceTarget
from pipeline.core.plan import Plan, TargetPlan, prune_after, restore
from pipeline.core.steps import (
    NEW_VERSION,
    Bake,
    DeployCode,
    PointAlias,
    RecordOutcome,
    Smoke,
    Step,
    SwitchRuntime,
    VerifyCode,
)


@dataclass(frozen=True)
class OnFunction:
    """`step` done on the service's function `function` of the plan's target."""

    function: str
    step: Step

    @property
    def kind(self) -> str:
        return self.step.kind

    @property
    def target(self) -> str:
        return self.step.target

    @property
    def detail(self) -> str:
        return self.step.detail


@dataclass(frozen=True)
class HttpSmoke:
    """The env's `http:` smoke cases, sent to its HTTP API (ApiEndpoint): they reach the `live` aliases."""

    target: str
    cases: int
    kind = "http-smoke"

    @property
    def detail(self) -> str:
        return f"{self.cases} http case(s) against the HTTP API (live aliases)"


ServiceStep = OnFunction | HttpSmoke | Bake | RecordOutcome


def function_label(target: str, key: str) -> str:
    """How a plan row names one function of a target: `111111111111/us-east-1 api`."""
    return f"{target} {key}"


def released(state: ObservedTarget) -> bool:
    """The function's `live` alias is on a release (not absent, not on the bootstrap stub's version)."""
    return state.alias_version is not None and not state.on_stub


def phases(steps: tuple[object, ...] | list[object]) -> list[list[object]]:
    """The steps in phases: consecutive OnFunction steps of one kind on different functions are one phase
    (run at once); every other step is a phase of its own."""
    out: list[list[object]] = []
    for step in steps:
        last = out[-1] if out else None
        if (isinstance(step, OnFunction) and last and isinstance(last[0], OnFunction)
                and last[0].kind == step.kind and step.function not in {s.function for s in last}):
            last.append(step)
        else:
            out.append([step])
    return out


def service_target_steps(state: ServiceTarget, digest: str, *, invoke_cases: Mapping[str, int], http_cases: int,
                         canary_percent: int | None, bake_seconds: int, handlers: Mapping[str, str] | None = None,
                         prune_keep: int | None = None, protect: Mapping[str, Mapping[str, str]] | None = None
                         ) -> list[OnFunction | HttpSmoke | Bake]:
    """One target's release steps (none when every function is current and the release passed here).
    `handlers`: each function's Go handler (`_HANDLER`: which of the binary's handlers it serves);
    `protect`: per function key, the versions its Prune step keeps (version -> why)."""
    if state.is_current(digest):
        return []
    fns = state.functions
    at = {key: function_label(state.label, key) for key, _ in fns}
    steps: list[OnFunction | HttpSmoke | Bake] = []
    steps += [OnFunction(k, SwitchRuntime(at[k], s.runtime, handler=(handlers or {}).get(k) or GO_HANDLER))
              for k, s in fns if s.on_stub]
    steps += [OnFunction(k, DeployCode(at[k], digest)) for k, _ in fns]
    steps += [OnFunction(k, VerifyCode(at[k], digest)) for k, _ in fns]
    steps += [OnFunction(k, Smoke(at[k], (NEW_VERSION,), invoke_cases[k])) for k, _ in fns if invoke_cases.get(k)]
    canary = bool(canary_percent) and any(released(s) for _, s in fns)
    for k, s in fns:
        if canary and released(s):
            assert canary_percent and s.alias_version
            steps.append(OnFunction(k, PointAlias(at[k], s.alias_version, kind="alias-canary", extra=NEW_VERSION,
                                                  weight=canary_percent / 100)))
        else:
            steps.append(OnFunction(k, PointAlias(at[k], NEW_VERSION, create=s.alias_version is None,
                                                  previous=s.alias_version)))
    if http_cases:
        steps.append(HttpSmoke(state.label, http_cases))
    if canary:
        steps.append(Bake(state.label, bake_seconds))
        steps += [OnFunction(k, PointAlias(at[k], NEW_VERSION, kind="alias-full")) for k, s in fns if released(s)]
    if prune_keep is not None:
        steps += [OnFunction(k, prune_after(at[k], prune_keep, (protect or {}).get(k), s.alias_version))
                  for k, s in fns]
    return steps


def service_undo(state: ServiceTarget) -> tuple[OnFunction, ...]:
    """Every function's alias back to its version from before (the stub's too); removed when it had none."""
    return tuple(OnFunction(k, restore(function_label(state.label, k), s.alias_version)) for k, s in state.functions)


def previous_of(state: ServiceTarget) -> str:
    """`api v3, worker v1`: what the record's `on_failure` shows."""
    return ", ".join(f"{k} {'v' + s.alias_version if s.alias_version else 'none'}" for k, s in state.functions)


def service_promotion_plan(env: str, digest: str, targets: list[ServiceTarget], *, invoke_cases: Mapping[str, int],
                           http_cases: int, canary_percent: int | None, bake_seconds: int, wave_size: int,
                           handlers: Mapping[str, str] | None = None, prune_keep: int | None = None,
                           protect: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None) -> Plan:
    """The release of `digest` to every target of a service (waves as for one function). `protect`: per
    target label, per function key, the versions its Prune step keeps besides the newest `prune_keep`."""
    plans = []
    for state in targets:
        steps = service_target_steps(state, digest, invoke_cases=invoke_cases, http_cases=http_cases,
                                     canary_percent=canary_percent, bake_seconds=bake_seconds, handlers=handlers,
                                     prune_keep=prune_keep, protect=(protect or {}).get(state.label))
        if steps:
            plans.append(TargetPlan(state, tuple(steps), service_undo(state),
                                    RecordOutcome(state.label, None, "smoke passed", previous_of(state))))
        else:
            plans.append(TargetPlan(state, (), (), RecordOutcome(state.label, R.PASSED,
                                                                 "already live and passed")))
    return Plan("promote", env, digest, tuple(plans), wave_size)


@dataclass(frozen=True)
class ServiceRollback:
    """For one target: each function's version under which the chosen release passed, and what it holds now."""

    target: ServiceTarget
    versions: tuple[tuple[str, str | None, str | None], ...]  # (function, recorded version, its hex sha now)


def service_rollback_plan(env: str, digest: str, candidates: list[ServiceRollback], *,
                          invoke_cases: Mapping[str, int], http_cases: int) -> Plan:
    """Every function's alias back to the release `digest` (its recorded version), then smoke; else back."""
    plans = []
    for c in candidates:
        state, label = c.target, c.target.label
        problems = [f"{k}: no passed version of {digest[:12]} recorded" if not v else
                    f"{k}: version {v} no longer holds {digest[:12]} (has {sha or 'nothing'})"
                    for k, v, sha in c.versions if not v or sha != digest]
        if problems:
            plans.append(TargetPlan(state, (), (), RecordOutcome(label, R.FAILED,
                                                                 f"{label}: " + "; ".join(problems))))
            continue
        steps: list[OnFunction | HttpSmoke] = []
        for k, v, _ in c.versions:
            assert v is not None
            now = state.function(k).alias_version
            steps.append(OnFunction(k, PointAlias(function_label(label, k), v, create=now is None, previous=now)))
        steps += [OnFunction(k, Smoke(function_label(label, k), (LIVE_ALIAS,), invoke_cases[k]))
                  for k, _, _ in c.versions if invoke_cases.get(k)]
        if http_cases:
            steps.append(HttpSmoke(label, http_cases))
        plans.append(TargetPlan(state, tuple(steps), service_undo(state),
                                RecordOutcome(label, None, f"rolled back to {digest[:12]}", previous_of(state))))
    return Plan("rollback", env, digest, tuple(plans), wave_size=1)
