"""`doctor` probes: read-only calls whose answers core.doctor turns into pass/fail checks with hints.

A probe that cannot run because an earlier one failed (no role, so no stack to read) is a skip,
not a second failure. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from pipeline.aws import buckets
from pipeline.aws.accounts import Accounts
from pipeline.aws.cloudformation import Stacks
from pipeline.aws.errors import describe, http_status
from pipeline.aws.livefunction import read_live_function
from pipeline.aws.session import AccountSession, SessionFactory
from pipeline.config.merged import Environment, PipelineConfig, Target
from pipeline.core.bootstrap import function_code
from pipeline.core.doctor import (
    Check,
    bucket_region_check,
    failed,
    function_check,
    passed,
    skipped,
    stack_check,
)
from pipeline.engine.context import EngineContext
from pipeline.engine.doctor_service import check_service_target, service_names
from pipeline.errors import PipelineError
from pipeline.infra import naming
from pipeline.infra.render import render_function, render_target, render_tooling
from pipeline.infra.service_context import is_service


def _aws_error(exc: Exception) -> str:
    if isinstance(exc, PipelineError):
        return exc.message
    if isinstance(exc, ClientError):
        return describe(exc)
    return f"{type(exc).__name__}: {exc}"


class Doctor:
    def __init__(self, config: PipelineConfig, factory: SessionFactory, accounts: Accounts,
                 engine: EngineContext | None = None) -> None:
        self.config = config
        self.factory = factory
        self.accounts = accounts
        self.engine = engine  # with it, the live alias is judged against the ledger and the lock too
        self.checks: list[Check] = []

    def run(self, env: Environment) -> list[Check]:
        self.checks = []
        if not self._credentials():
            return self.checks
        tooling = self._session("tooling role", self._tooling_where(), self.accounts.tooling,
                                "run pipeline bootstrap --tooling (it makes tooling.role for tooling.operators), "
                                "or check tooling.account/tooling.role in pipeline.yml")
        bucket_region = self._tooling(tooling) if tooling else None
        for target in env.targets:
            self._target(env, target, tooling, bucket_region)
        return self.checks

    # -- tooling ----------------------------------------------------------------------------
    def _tooling_where(self) -> str:
        return f"tooling {self.config.tooling.account}/{self.config.tooling.region}"

    def _credentials(self) -> bool:
        try:
            identity = self.factory.base().identity
        except PipelineError as exc:
            self.checks.append(failed("credentials", "base", exc.message,
                                      "use --profile, AWS_* variables or an instance role (aws sso login)"))
            return False
        self.checks.append(passed("credentials", "base", identity.arn))
        return True

    def _session(self, name: str, where: str, make: Callable[[], AccountSession], hint: str) -> AccountSession | None:
        try:
            session = make()
            arn = session.identity.arn
        except PipelineError as exc:
            self.checks.append(failed(name, where, exc.message, hint))
            return None
        self.checks.append(passed(name, where, f"{arn} (account guard ok)"))
        return session

    def _tooling(self, tooling: AccountSession) -> str | None:
        where = self._tooling_where()
        rendered = render_tooling(self.config)
        self._stack("tooling stack", where, tooling, self.config.tooling.region, rendered.stack_name,
                    rendered.version, "pipeline bootstrap --tooling")
        bucket = self.config.artifact_bucket
        try:
            region = buckets.bucket_region(tooling, bucket, self.config.tooling.region)
        except ClientError as exc:
            self.checks.append(failed("artifact bucket", where, f"{bucket}: {_aws_error(exc)}",
                                      "run pipeline bootstrap --tooling"))
            return None
        self.checks.append(passed("artifact bucket", where, f"{bucket} exists in {region}"))
        return region

    def _replica_location(self, tooling: AccountSession, where: str, region: str) -> str | None:
        """The replica bucket's region (one GetBucketLocation per region); a failed check when it is absent."""
        bucket = naming.artifact_bucket(self.config, region)
        try:
            return buckets.bucket_region(tooling, bucket, region)
        except ClientError as exc:
            self.checks.append(failed("bucket region", where, f"no artifact bucket in {region}: {bucket}: "
                                                              f"{_aws_error(exc)}",
                                      "run pipeline bootstrap --tooling (one artifact bucket per target region)"))
            return None

    # -- one env target ---------------------------------------------------------------------
    def _target(self, env: Environment, target: Target, tooling: AccountSession | None,
                bucket_region: str | None) -> None:
        where = f"{env.name} {target.account}/{target.region}"
        fix = f"pipeline bootstrap --env {env.name}"
        bucket = naming.artifact_bucket(self.config, target.region)  # the home bucket or this region's replica
        found = bucket_region  # where this target's bucket is: the home bucket's region, or the replica's
        if target.region != self.config.tooling.region and tooling is not None:
            found = self._replica_location(tooling, where, target.region)
        if found is not None:
            self.checks.append(bucket_region_check(where, bucket, found, target.region))
        elif target.region == self.config.tooling.region or tooling is None:
            self.checks.append(skipped("bucket region", where, "artifact bucket not readable"))
        deploy = self._session("deploy role", where, lambda: self.accounts.target(env, target),
                               f"run {fix} (creates {env.deploy_role}, trusting the tooling account)")
        service = is_service(self.config)
        names = ("target stack", *(service_names(env) if service else ("function stack", "function",
                                                                          "artifact readable")),
                 *(("live alias",) if self.engine is not None else ()))
        if deploy is None:
            self.checks += [skipped(n, where, "deploy role not assumable") for n in names]
            return
        target_stack = render_target(self.config, env, target)
        self._stack("target stack", where, deploy, target.region, target_stack.stack_name, target_stack.version, fix)
        if service:  # every function and the front door
            ledger = self.engine is not None and tooling is not None and bucket_region is not None
            if self.engine is not None and not ledger:
                self.checks.append(skipped("live alias", where, "the ledger (artifact bucket) is not readable"))
            check_service_target(self, env, target, deploy, where, fix, ledger)
            return
        function_stack = render_function(self.config, env, target)
        self._stack("function stack", where, deploy, target.region, function_stack.stack_name,
                    function_stack.version, fix)
        name = naming.function_name(self.config, env)
        try:
            live = read_live_function(deploy, target.region, name, follow_alias=True)
        except PipelineError as exc:
            self.checks.append(failed("function", where, exc.message, f"check the deploy role's rights ({fix})"))
            live = None
        else:
            self.checks.append(function_check(where, name, live, env.function.architecture, fix))
        self._readable(where, deploy, function_code(self.config, live, target.region), fix, target.region)
        if self.engine is not None and tooling is not None and bucket_region is not None:
            self._live(env, target, where)
        elif self.engine is not None:
            self.checks.append(skipped("live alias", where, "the ledger (artifact bucket) is not readable"))

    def _live(self, env: Environment, target: Target, where: str, key: str = "") -> None:
        """What the alias runs against the ledger and the lock (the judgement `status` and `verify` make);
        `key`: one function of a service."""
        from pipeline.core.ledger import lock_state
        from pipeline.core.live import live_check, lock_check
        from pipeline.core.locks import age_seconds
        from pipeline.engine.lock import EnvLock
        from pipeline.engine.state import LockStatus, target_status

        assert self.engine is not None
        try:
            view = self.engine.ledger.view(env.name)
            lock = lock_state(view.newest_first())
            dead = EnvLock(self.engine, env).dead(lock) if lock.held else None
            status = target_status(self.engine, env, target, view, lock=lock, dead=dead, key=key)
        except (PipelineError, ClientError) as exc:
            self.checks.append(failed("live alias", where, _aws_error(exc),
                                      "check the tooling role's rights on the ledger and the deploy role's on the "
                                      "function"))
            return
        if target == env.targets[0] and key == env.functions[0].key:  # one lock per env
            line = LockStatus(env.name, lock, age_seconds(lock, self.engine.now()), dead).line() if lock.held else ""
            self.checks.append(lock_check(env.name, f"{env.name} ledger", lock.held, line.removeprefix("lock: "),
                                          dead))
        self.checks.append(live_check(where, status.facts, status.dirty))

    def _stack(self, name: str, where: str, session: AccountSession, region: str, stack: str, expected: str,
               fix: str) -> None:
        try:
            state = Stacks(session.client("cloudformation", region)).describe(stack)
        except ClientError as exc:
            self.checks.append(failed(name, where, f"{stack}: {_aws_error(exc)}", f"check the role's rights ({fix})"))
            return
        self.checks.append(stack_check(name, where, stack, state.status if state else None,
                                       state.version if state else None, expected, fix))

    def _readable(self, where: str, deploy: AccountSession, code: Any, fix: str, region: str) -> None:
        """One byte of the code object through the deploy role: s3:GetObject and kms:Decrypt both proven."""
        what = "the stub" if code.is_stub else f"artifact {code.sha256[:12]}"
        try:
            buckets.read_first_byte(deploy, code.bucket, code.key, region)
        except ClientError as exc:
            status = http_status(exc)
            if status == 404:
                hint = f"run {fix} (stages the stub)" if code.is_stub else "stage that artifact again: pipeline stage"
                self.checks.append(failed("artifact readable", where, f"{what} is missing: s3://{code.bucket}/"
                                                                      f"{code.key}", hint))
            else:
                self.checks.append(failed("artifact readable", where, f"deploy role cannot read {what}: "
                                                                      f"{_aws_error(exc)}",
                                          "run pipeline bootstrap --tooling (bucket and key policy name the "
                                          "deploy roles)"))
            return
        self.checks.append(passed("artifact readable", where, f"deploy role reads {what} from {code.bucket}"))
