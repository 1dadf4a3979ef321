"""Bootstrap the accounts: observe, plan (`pipeline.core.bootstrap_plan`), execute, record the outcomes.

Which credentials deploy what:
- tooling stack: the tooling session (or `role` when given);
- target stack (creates the deploy role, so cannot use it): the env's `admin_role`
  (default OrganizationAccountAccessRole; `role` overrides), assumed from the base credentials;
- function stack: the env's deploy role, with the target stack's CloudFormation role as RoleARN,
  and code/runtime parameters that describe the LIVE function so nothing is reverted.

`--dry-run` is the same plan through the same executor, each change set previewed and discarded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.aws.accounts import Accounts
from pipeline.aws.livefunction import read_live_function
from pipeline.aws.retry import FreshRoleWait
from pipeline.aws.session import AccountSession, AssumeDenied, SessionFactory
from pipeline.aws.stubstage import object_present, stage_stub
from pipeline.config.merged import Environment, PipelineConfig, Target
from pipeline.core.bootstrap import FunctionCode, LiveFunction
from pipeline.core.bootstrap_plan import (
    BootstrapPlan,
    DeployStack,
    FunctionAfterTarget,
    LiveAliases,
    Observed,
    StageStub,
    TargetSeen,
    function_step,
    plan_bootstrap,
    service_function_step,
    target_key,
)
from pipeline.core.stacks import Health, Poll, StackSpec
from pipeline.engine.service_bootstrap import make_aliases, read_service
from pipeline.engine.stacks import StackEngine, StackResult
from pipeline.infra import naming
from pipeline.infra.render import Rendered, render_target
from pipeline.infra.service_context import is_service
from pipeline.infra.stub import stub_sha256

Progress = Callable[[str], None]
FRESH_ROLE_WAIT = 60.0  # IAM: a role created seconds ago may not be assumable yet (usually a few seconds)
TOOLING_ADMIN_ROLE = "OrganizationAccountAccessRole"  # the tooling account's admin, like an env's admin_role


@dataclass(frozen=True)
class StackOutcome:
    kind: str
    stack: str
    env: str | None
    account: str
    region: str
    action: str
    version: str
    status: str = ""
    result: StackResult | None = None
    notes: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.action not in ("unchanged",)

    def row(self) -> list[str]:
        return [self.stack, self.account, self.region, self.action, self.version]

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "stack": self.stack, "env": self.env, "account": self.account,
                               "region": self.region, "action": self.action, "version": self.version,
                               "status": self.status, "notes": list(self.notes)}
        if self.result is not None:
            out["outputs"] = dict(self.result.outputs)
            out["changes"] = [c.as_dict() for c in self.result.changes]
        return out


@dataclass
class Bootstrapper:
    config: PipelineConfig
    factory: SessionFactory
    accounts: Accounts
    progress: Progress = field(default=lambda _line: None)
    role: str | None = None  # overrides the role for the tooling / target stacks
    poll: Poll | None = None
    sleep: Callable[[float], None] = time.sleep
    _tooling: AccountSession | None = field(default=None, init=False, repr=False)

    # -- sessions ---------------------------------------------------------------------------
    def tooling_session(self) -> AccountSession:
        """The tooling stack's deployer: an admin of the tooling account, never the promoter (the tooling stack
        makes the promoter). `role` when given; else the base credentials when they act in the tooling account;
        else TOOLING_ADMIN_ROLE assumed from them (as the env stacks use their `admin_role`)."""
        where = f"{self.config.directory}/pipeline.yml tooling.account"
        tooling = self.config.tooling
        if self.role:
            return self.factory.assume(tooling.account, self.role, expected_by=where)
        if self._tooling is None:
            base = self.factory.base()
            if tooling.role is None:
                self._tooling = self.accounts.tooling()
            elif base.identity.account == tooling.account:
                self._tooling = base
            else:
                self._tooling = self.factory.assume(tooling.account, TOOLING_ADMIN_ROLE, expected_by=where)
        return self._tooling

    def admin_session(self, env: Environment, target: Target) -> AccountSession:
        return self.factory.assume(target.account, self.role or env.admin_role, expected_by=f"{env.source} account")

    def deploy_session(self, env: Environment, target: Target, *, fresh: bool = False) -> AccountSession:
        """The env's deploy role; when the target stack just created it, STS may refuse it until IAM has
        propagated it: retried with growing intervals for up to FRESH_ROLE_WAIT seconds (aws/retry.py)."""
        if not fresh:
            return self.accounts.target(env, target)
        wait = FreshRoleWait(timeout=FRESH_ROLE_WAIT, sleep=self.sleep)
        return wait.call(lambda: self.accounts.target(env, target), pending=lambda e: isinstance(e, AssumeDenied))

    def engine(self, session: AccountSession, region: str) -> StackEngine:
        return StackEngine(session.client("cloudformation", region), self.progress, poll=self.poll)

    # -- observe ----------------------------------------------------------------------------
    def observe(self, envs: Sequence[Environment]) -> Observed:
        """One read phase: the stub object, each target stack, and (through the deploy role, when the
        target stack is healthy) each live function and its artifact object."""
        if not envs:
            return Observed()
        stub_key = naming.artifact_key(self.config, stub_sha256())
        stub_present = all(object_present(self.tooling_session(), self.config, stub_key, region)
                           for region in naming.artifact_regions(self.config))
        seen: dict[tuple[str, str, str], TargetSeen] = {}
        for env in envs:
            for target in env.targets:
                state = self.engine(self.admin_session(env, target), target.region).describe(
                    naming.target_stack_name(self.config, env))
                health = state.health if state is not None else Health.ABSENT
                if health is not Health.HEALTHY:
                    seen[target_key(env, target)] = TargetSeen(health)
                    continue
                if is_service(self.config):
                    # a service's deploy role names every function: one the target stack does not name yet (a
                    # function just added) is read after the target step updated the role
                    current = state.tags.get(naming.BOOTSTRAP_VERSION_TAG) == render_target(self.config, env,
                                                                                              target).version
                    seen[target_key(env, target)] = TargetSeen(health, service=read_service(
                        self.config, self.deploy_session(env, target), self.tooling_session, env, target)
                        if current else None)
                    continue
                live, present = self.read_function(env, target, fresh=False)
                seen[target_key(env, target)] = TargetSeen(health, live, present)
        return Observed(stub_present, seen)

    def read_function(self, env: Environment, target: Target, *, fresh: bool) -> tuple[LiveFunction | None, bool]:
        """The live function through the deploy role, and whether its artifact object is still staged."""
        session = self.deploy_session(env, target, fresh=fresh)
        live = read_live_function(session, target.region, naming.function_name(self.config, env),
                                  follow_alias=True)
        if live is None or not live.promoted:
            return live, True
        return live, object_present(self.tooling_session(), self.config,
                                    naming.artifact_key(self.config, live.sha256), target.region)

    # -- decide -----------------------------------------------------------------------------
    def plan(self, *, tooling: bool, envs: Sequence[Environment]) -> BootstrapPlan:
        return plan_bootstrap(self.config, envs, tooling, self.observe(envs))

    # -- act and record ---------------------------------------------------------------------
    def run(self, *, tooling: bool = False, envs: Sequence[Environment] = (), dry_run: bool = False,
            force: bool = False) -> list[StackOutcome]:
        return self.execute(self.plan(tooling=tooling, envs=envs), dry_run=dry_run, force=force)

    def execute(self, plan: BootstrapPlan, *, dry_run: bool = False, force: bool = False) -> list[StackOutcome]:
        """Run every step in order; one outcome per stack step."""
        outcomes: list[StackOutcome] = []
        targets: dict[tuple[str, str, str], StackResult] = {}
        for step in plan.steps:
            if isinstance(step, StageStub):
                self.progress(f"stub s3://{step.bucket}/{step.key}: " + ("would upload" if dry_run else "uploading"))
                if not dry_run:  # staged like any artifact: by the promoter (the key lets only it encrypt)
                    stage_stub(self.accounts.tooling() if self.config.tooling.role
                               else self.tooling_session(), self.config)
            elif isinstance(step, LiveAliases):
                outcomes += self.live_aliases(step, targets[target_key(step.env, step.target)], dry_run=dry_run)
            elif isinstance(step, DeployStack):
                if (dry_run and step.rendered.kind == "frontdoor" and step.env is not None and step.target is not None
                        and targets[target_key(step.env, step.target)].action == "would create"):
                    r = step.rendered
                    outcomes.append(StackOutcome("frontdoor", r.stack_name, r.env, r.account, r.region, "would create",
                                                 r.version, notes=("planned after the target stack and the aliases",)))
                    continue
                result = self.converge(step, dry_run=dry_run, force=force)
                if step.rendered.kind == "target" and step.env is not None and step.target is not None:
                    targets[target_key(step.env, step.target)] = result
                outcomes.append(_outcome(step.rendered, result, _code_notes(step.code, step.codes)))
            else:
                outcomes.append(self.function_after_target(step, targets[target_key(step.env, step.target)],
                                                           dry_run=dry_run, force=force))
        return outcomes

    def converge(self, step: DeployStack, *, dry_run: bool, force: bool) -> StackResult:
        """One stack onto its spec through a change set (previewed and discarded in a dry run)."""
        for note in [*(step.code.notes if step.code is not None else ()), *(n for _, c in step.codes for n in c.notes)]:
            self.progress(f"warning: {note}")
        return self.engine(self.session_for(step), step.rendered.region).deploy(step.spec, dry_run=dry_run,
                                                                               force=force)

    def function_after_target(self, step: FunctionAfterTarget, target_result: StackResult, *, dry_run: bool,
                              force: bool) -> StackOutcome:
        """Decide the function stack now that its target stack ran (the deploy role may be seconds old)."""
        if dry_run and target_result.action == "would create":
            r = step.rendered
            return StackOutcome("function", r.stack_name, r.env, r.account, r.region, "would create", r.version,
                                notes=("planned after the target stack (its deploy role does not exist yet)",))
        fresh = target_result.action in ("created", "recreated")
        if is_service(self.config):
            seen = read_service(self.config, self.deploy_session(step.env, step.target, fresh=fresh),
                                self.tooling_session, step.env, step.target,
                                denied_is_absent=dry_run and target_result.action != "unchanged")
            decided = service_function_step(self.config, step.env, step.target, seen)
        else:
            live, present = self.read_function(step.env, step.target, fresh=fresh)
            decided = function_step(self.config, step.env, step.target, live, present)
        result = self.converge(decided, dry_run=dry_run, force=force)
        return _outcome(decided.rendered, result, _code_notes(decided.code, decided.codes))

    def live_aliases(self, step: LiveAliases, target_result: StackResult, *, dry_run: bool) -> list[StackOutcome]:
        """The `live` aliases a service's front door needs, made through the deploy role (Lambda API)."""
        unborn = dry_run and target_result.action == "would create"  # no deploy role to ask yet
        session = None if unborn else self.deploy_session(step.env, step.target)
        made = make_aliases(step, session, dry_run=dry_run, progress=self.progress, sleep=self.sleep)
        t = step.target
        return [StackOutcome("alias", f"{m.function}:live", step.env.name, t.account, t.region, m.action, m.version,
                             notes=(f"{m.function}: live alias on the stub's version {m.version}".rstrip(),))
                for m in made]

    def session_for(self, step: DeployStack) -> AccountSession:
        if step.via == "tooling" or step.env is None or step.target is None:
            return self.tooling_session()
        if step.via == "admin":
            return self.admin_session(step.env, step.target)
        return self.deploy_session(step.env, step.target)

    def function_spec(self, env: Environment, target: Target,
                      live: LiveFunction | None) -> tuple[Rendered, StackSpec, FunctionCode]:
        """The function stack's desired state given what the function runs now."""
        step = function_step(self.config, env, target, live)
        assert step.code is not None
        return step.rendered, step.spec, step.code


def _code_notes(code: FunctionCode | None, codes: tuple[tuple[str, FunctionCode], ...] = ()) -> tuple[str, ...]:
    if codes:
        return tuple(note for key, c in codes for note in (f"{key}: " + _code_notes(c)[0], *c.notes))
    if code is None:
        return ()
    source = "stub" if code.is_stub else f"live artifact {code.sha256[:12]} ({code.runtime})"
    return (f"code: {source}", *code.notes)


def _outcome(rendered: Rendered, result: StackResult, notes: tuple[str, ...] = ()) -> StackOutcome:
    return StackOutcome(rendered.kind, rendered.stack_name, rendered.env, rendered.account, rendered.region,
                        result.action, rendered.version, result.status, result, notes)
