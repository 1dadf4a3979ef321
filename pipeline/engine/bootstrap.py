"""Bootstrap the accounts: tooling stack; per env target the stub, the target stack, the function stack.

Which credentials deploy what:
- tooling stack: the tooling session (or `role` when given);
- target stack (creates the deploy role, so cannot use it): the env's `admin_role`
  (default OrganizationAccountAccessRole; `role` overrides), assumed from the base credentials;
- function stack: the env's deploy role, with the target stack's CloudFormation role as RoleARN,
  and code/runtime parameters that describe the LIVE function so nothing is reverted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from pipeline.aws.accounts import Accounts
from pipeline.aws.livefunction import read_live_function
from pipeline.aws.session import AccountSession, SessionFactory
from pipeline.aws.stubstage import StubObject, ensure_stub
from pipeline.config.merged import Environment, PipelineConfig, Target
from pipeline.core.bootstrap import FunctionCode, LiveFunction, function_code, stack_spec
from pipeline.core.stacks import Poll, StackSpec
from pipeline.engine.stacks import StackEngine, StackResult
from pipeline.errors import PipelineError
from pipeline.infra import naming
from pipeline.infra.render import Rendered, render_function, render_pipeline, render_target, render_tooling

Progress = Callable[[str], None]
FRESH_ROLE_WAIT = 30.0  # IAM: a role created seconds ago may not be assumable yet


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

    # -- sessions ---------------------------------------------------------------------------
    def tooling_session(self) -> AccountSession:
        if self.role:
            return self.factory.assume(self.config.tooling.account, self.role,
                                       expected_by=f"{self.config.directory}/pipeline.yml tooling.account")
        return self.accounts.tooling()

    def admin_session(self, env: Environment, target: Target) -> AccountSession:
        return self.factory.assume(target.account, self.role or env.admin_role, expected_by=f"{env.source} account")

    def deploy_session(self, env: Environment, target: Target, *, fresh: bool = False) -> AccountSession:
        """The env's deploy role; when the target stack just created it, retry briefly (IAM propagation)."""
        delay, waited = 1.0, 0.0
        while True:
            try:
                return self.accounts.target(env, target)
            except PipelineError as exc:
                if not fresh or "AccessDenied" not in exc.message or waited >= FRESH_ROLE_WAIT:
                    raise
                self.sleep(delay)
                waited += delay
                delay = min(delay * 2, 8.0)

    def engine(self, session: AccountSession, region: str) -> StackEngine:
        return StackEngine(session.client("cloudformation", region), self.progress, poll=self.poll)

    # -- stacks -----------------------------------------------------------------------------
    def tooling(self, *, dry_run: bool = False, force: bool = False) -> StackOutcome:
        rendered = render_tooling(self.config)
        session = self.tooling_session()
        # The tooling stack holds the artifact bucket and the ledger: always protected.
        result = self.engine(session, rendered.region).deploy(stack_spec(rendered, protect=True), dry_run=dry_run,
                                                              force=force)
        return _outcome(rendered, result)

    def pipeline(self, *, dry_run: bool = False, force: bool = False) -> StackOutcome:
        """The CodePipeline stack, after the tooling stack (it uses the artifact bucket and key).

        Not termination-protected: it holds no data and is recreated from config at will.
        """
        rendered = render_pipeline(self.config)
        result = self.engine(self.tooling_session(), rendered.region).deploy(stack_spec(rendered, protect=False),
                                                                             dry_run=dry_run, force=force)
        return _outcome(rendered, result)

    def environment(self, env: Environment, *, dry_run: bool = False, force: bool = False) -> list[StackOutcome]:
        """Per target: stub staged (fails early when the tooling bucket is missing), target, function."""
        outcomes: list[StackOutcome] = []
        stub = ensure_stub(self.tooling_session(), self.config, dry_run=dry_run)
        if stub.action != "present":
            self.progress(f"stub s3://{stub.bucket}/{stub.key}: {stub.action}")
        for target in env.targets:
            rendered = render_target(self.config, env, target)
            admin = self.admin_session(env, target)
            result = self.engine(admin, target.region).deploy(stack_spec(rendered, protect=env.protect),
                                                              dry_run=dry_run, force=force)
            outcomes.append(_outcome(rendered, result))
            if dry_run and result.action == "would create":
                fn = render_function(self.config, env, target)
                outcomes.append(StackOutcome("function", fn.stack_name, env.name, target.account, target.region,
                                             "would create", fn.version, notes=(
                                                 "planned after the target stack (its deploy role does not "
                                                 "exist yet)",)))
                continue
            fresh = result.action in ("created", "recreated")
            outcomes.append(self.function(env, target, stub, dry_run=dry_run, force=force, fresh=fresh))
        return outcomes

    def function(self, env: Environment, target: Target, stub: StubObject | None = None, *,
                 dry_run: bool = False, force: bool = False, fresh: bool = False) -> StackOutcome:
        session = self.deploy_session(env, target, fresh=fresh)
        live = read_live_function(session, target.region, naming.function_name(self.config, env))
        rendered, spec, code = self.function_spec(env, target, live)
        for note in code.notes:
            self.progress(f"warning: {note}")
        if not code.is_stub:
            self.require_artifact(code)
        result = self.engine(session, target.region).deploy(spec, dry_run=dry_run, force=force)
        source = "stub" if code.is_stub else f"live artifact {code.sha256[:12]} ({code.runtime})"
        return _outcome(rendered, result, notes=(f"code: {source}", *code.notes))

    def function_spec(self, env: Environment, target: Target,
                      live: LiveFunction | None) -> tuple[Rendered, StackSpec, FunctionCode]:
        """The function stack's desired state given what the function runs now (reused by promote)."""
        rendered = render_function(self.config, env, target)
        code = function_code(self.config, live)
        spec = stack_spec(rendered, protect=env.protect, parameters=code.parameters(),
                          role_arn=naming.cfn_exec_role_arn(self.config, env, target))
        return rendered, spec, code

    def require_artifact(self, code: FunctionCode) -> None:
        """The live artifact must still be in the bucket, or CloudFormation could not name it."""
        s3 = self.tooling_session().client("s3", self.config.tooling.region)
        try:
            s3.head_object(Bucket=code.bucket, Key=code.key)
        except ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                raise PipelineError(f"the function runs artifact {code.sha256[:12]}, but s3://{code.bucket}/{code.key} "
                                    "is missing: stage that artifact again (pipeline stage) before bootstrapping, "
                                    "so the stack update does not revert the code") from None
            raise


def _outcome(rendered: Rendered, result: StackResult, notes: tuple[str, ...] = ()) -> StackOutcome:
    return StackOutcome(rendered.kind, rendered.stack_name, rendered.env, rendered.account, rendered.region,
                        result.action, rendered.version, result.status, result, notes)
