"""Developer sandboxes: up, deploy, status, invoke, logs and down in the caller's own account.

Every entry starts at `open_sandbox`, which asks STS who the caller is and applies the guard
(invariant 9) before anything else touches AWS. No gates, no ledger, no tooling bucket: a
sandbox writes only its own two stacks, its bucket and its function.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.artifact.build import build_artifact
from pipeline.artifact.manifest import Manifest, hex_sha256
from pipeline.aws.cloudformation import StackState
from pipeline.aws.functions import FunctionAdapter
from pipeline.aws.http_smoke import HttpAnswer
from pipeline.aws.sandbox import SandboxAWS
from pipeline.aws.sandbox_guard import GuardAWS
from pipeline.aws.session import SessionFactory
from pipeline.config.merged import PipelineConfig
from pipeline.core import sandbox as S
from pipeline.core import sandbox_service as V
from pipeline.core.function import LIVE_ALIAS
from pipeline.core.sandbox_guard import role_boundary
from pipeline.core.smoke import Invocation
from pipeline.core.stacks import TAG_VERSION, StackSpec
from pipeline.engine.sandbox_account import Caller, code_parameters, open_caller, remove
from pipeline.engine.sandbox_deploy import DeployResult, run_deploy
from pipeline.engine.sandbox_guard import budget_status, check_boundary, deploy_lock, ensure_budget, untagged
from pipeline.engine.sandbox_service import frontdoor_state, function_status, request, up_service
from pipeline.engine.stacks import StackEngine, StackResult
from pipeline.errors import PipelineError, RefusedError
from pipeline.infra.sandbox import render_sandbox_bucket, render_sandbox_function

Progress = Callable[[str], None]
BUILD_VERSION = "sandbox"  # stamped into sandbox builds (the commit and a source digest are stamped too)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class UpResult:
    stacks: list[StackResult]
    owner: str
    created: str
    expires: str
    budget: str = ""


@dataclass
class Sandbox:
    config: PipelineConfig
    caller: Caller
    sbx: S.SandboxNames
    aws: SandboxAWS
    progress: Progress
    guard: GuardAWS

    def now(self) -> dt.datetime:
        return utcnow()  # looked up at call time, so a test can move the clock

    @functools.cached_property
    def fns(self) -> tuple[V.SandboxFunction, ...]:
        """Every function of the sandbox (the one function, or one per `functions:` key)."""
        return V.functions(self.config, self.sbx)

    @classmethod
    def open(cls, config: PipelineConfig, factory: SessionFactory, region: str, ident: str,
             progress: Progress) -> Sandbox:
        caller = open_caller(config, factory)
        sbx = S.names(config.name, ident, caller.account, region)
        return cls(config, caller, sbx, SandboxAWS(caller.session, region, progress), progress,
                   GuardAWS(caller.session, caller.account, region))

    # -- reading ----------------------------------------------------------------------------
    def stacks(self) -> tuple[StackState | None, StackState | None]:
        """(function stack, bucket stack)."""
        return self.aws.stack(self.sbx.function_stack), self.aws.stack(self.sbx.bucket_stack)

    def require_own(self, state: StackState | None, kind: str) -> None:
        if state is not None:
            problem = S.ownership_problem(f"stack {state.name}", state.tags, self.caller.owners, kind)
            if problem:
                raise RefusedError(problem)

    @property
    def tail_file(self) -> Path:
        """Where the last invoke's log tail is kept on this machine (for `logs` when CloudWatch has none)."""
        root = Path(self.config.directory).resolve().parent
        return root / ".pipeline" / "sandbox" / f"{self.sbx.account}-{self.sbx.region}-{self.sbx.id}.log"

    # -- up ---------------------------------------------------------------------------------
    def up(self, renew: bool = False) -> UpResult:
        fn_state, bucket_state = self.stacks()
        self.require_own(fn_state, S.KIND_FUNCTION)
        self.require_own(bucket_state, S.KIND_BUCKET)
        self.require_own(frontdoor_state(self), S.KIND_FRONTDOOR)
        check_boundary(self.config, self.caller, self.guard)  # before any write
        existing = (fn_state or bucket_state).tags if (fn_state or bucket_state) else None
        created, expires = S.lifetime(self.now(), S.ttl_days(self.config), existing, renew)
        owner, ident = self.caller.owner, self.sbx.id
        bucket_tags = S.tags(ident, owner, created, expires, S.KIND_BUCKET)
        fn_tags = S.tags(ident, owner, created, expires, S.KIND_FUNCTION)
        engine = StackEngine(self.aws.stacks_client(), self.progress, poll=self.aws.poll)
        budget = ensure_budget(self.guard, self.config, self.sbx.function, owner, bucket_tags)
        rendered = render_sandbox_bucket(self.config.name, self.sbx, bucket_tags)
        results = [engine.deploy(StackSpec(rendered.stack_name, rendered.body,
                                           tags={**bucket_tags, TAG_VERSION: rendered.version}))]
        with deploy_lock(self.guard, self.sbx.bucket, self.caller, self.sbx.label, self.now()):
            if V.is_service(self.config):
                results += up_service(self, engine, fn_tags, S.tags(ident, owner, created, expires, S.KIND_FRONTDOOR))
            else:
                results.append(self._up_function(engine, fn_tags))
        return UpResult(results, owner, created, expires, budget)

    def _up_function(self, engine: StackEngine, fn_tags: dict[str, str]) -> StackResult:
        live = self.aws.live_function(self.sbx.function)
        parameters = code_parameters(self.aws, self.sbx, live, self.progress)
        rendered = render_sandbox_function(self.config.name, self.sbx, S.function_settings(self.config), fn_tags,
                                           boundary=role_boundary(self.config))
        result = engine.deploy(StackSpec(rendered.stack_name, rendered.body, parameters=parameters,
                                         tags={**fn_tags, TAG_VERSION: rendered.version}))
        after = live if live is not None and not result.changed else self.aws.live_function(self.sbx.function)
        if after is None:
            raise PipelineError(f"stack {self.sbx.function_stack} is {result.status}, but function "
                                f"{self.sbx.function} does not exist")
        # CloudFormation tags the function from the template; put back any tag it lacks (a hand edit,
        # or an endpoint that drops Lambda tags in stacks, as the emulator does).
        missing = {k: v for k, v in fn_tags.items() if after.tags.get(k) != v}
        if missing:
            self.aws.tag_function(after.arn, missing)
        return result

    # -- deploy -----------------------------------------------------------------------------
    def deploy(self, go_dir: Path, dist: Path, run_tests: bool) -> DeployResult:
        started = time.perf_counter()
        fn_state = self.aws.stack(self.sbx.function_stack)
        if fn_state is None:
            raise PipelineError(f"no {self.sbx.label}: run `pipeline sandbox up` first")
        self.require_own(fn_state, S.KIND_FUNCTION)
        with deploy_lock(self.guard, self.sbx.bucket, self.caller, self.sbx.label, self.now()):
            return run_deploy(self, go_dir, dist, run_tests, started)

    def build(self, go_dir: Path, dist: Path, architecture: str, run_tests: bool) -> Manifest:
        """The Go artifact of this tree (tests may swap `build_artifact` for a prebuilt one)."""
        return build_artifact(go_dir, dist, self.config.name, architecture, BUILD_VERSION, run_tests=run_tests)

    def keep_tail(self, tail: str, what: str) -> None:
        if not tail:
            return
        try:
            self.tail_file.parent.mkdir(parents=True, exist_ok=True)
            self.tail_file.write_text(f"# {what} at {S.stamp(self.now())}\n{tail}")
        except OSError:
            pass  # a convenience for `logs`; never worth failing a deploy over

    # -- status, invoke, logs ---------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        fn_state, bucket_state = self.stacks()
        out: dict[str, Any] = {"sandbox": self.sbx.id, "account": self.sbx.account, "region": self.sbx.region,
                               "function": self.sbx.function, "bucket": self.sbx.bucket,
                               "exists": fn_state is not None or bucket_state is not None}
        if not out["exists"]:
            return out
        tags = (fn_state or bucket_state).tags  # type: ignore[union-attr]
        out.update(owner=tags.get(S.TAG_OWNER), created=tags.get(S.TAG_CREATED), expires=tags.get(S.TAG_EXPIRES),
                   expired=S.is_expired(tags, self.now()),
                   stacks={s.name: s.status for s in (fn_state, bucket_state) if s is not None},
                   budget=budget_status(self.guard, self.sbx.function),
                   untagged=untagged([s for s in (fn_state, bucket_state) if s is not None]))
        if V.is_service(self.config):
            return self._service_status(out, fn_state)
        live = self.aws.live_function(self.sbx.function) if fn_state is not None else None
        if live is not None:
            alias = FunctionAdapter(self.caller.session, self.sbx.region, self.sbx.function).version(LIVE_ALIAS)
            out.update(runtime=live.runtime, latest_sha256=live.sha256,
                       live_version=alias.version if alias else None,
                       live_sha256=hex_sha256(alias.code_sha256) if alias else None,
                       last_deploy={"sha256": live.tags.get(S.TAG_DEPLOYED_SHA),
                                    "version": live.tags.get(S.TAG_DEPLOYED_VERSION),
                                    "smoke": live.tags.get(S.TAG_DEPLOYED_SMOKE),
                                    "at": live.tags.get(S.TAG_DEPLOYED_AT)})
            if not live.tags.get(S.TAG_OWNER):
                out["untagged"].append(f"function {self.sbx.function}")
        return out

    def _service_status(self, out: dict[str, Any], fn_state: StackState | None) -> dict[str, Any]:
        """A service's: every function (runtime, live alias, last deploy) and the HTTP API's endpoint."""
        door = frontdoor_state(self)
        if door is not None:
            out["stacks"][door.name] = door.status
            out["untagged"] += untagged([door])
        out["functions"] = [function_status(self, f) for f in self.fns] if fn_state is not None else []
        out["untagged"] += [f"function {f['function']}" for f in out["functions"] if f["exists"] and not f["owner_tag"]]
        out["endpoint"] = door.outputs.get("ApiEndpoint") if door is not None else None
        return out

    def invoke(self, event: dict[str, Any], qualifier: str, function: str | None = None) -> tuple[Invocation, str]:
        """Invoke a function (`function`: its `functions:` key; default as a smoke case's) synchronously."""
        name = self.sbx.function if function is None and not V.is_service(self.config) else \
            V.pick(self.fns, function).name
        inv, tail = self.aws.invoke(name, qualifier, event)
        self.keep_tail(tail, f"invoke {qualifier}")
        return inv, tail

    def http(self, method: str, path: str, headers: dict[str, str], body: str | None) -> HttpAnswer:
        """One HTTP request through the sandbox's HTTP API (its ApiEndpoint, from the front-door stack)."""
        return request(self, method, path, headers, body)

    def logs(self, minutes: int, limit: int, function: str | None = None) -> list[dict[str, Any]] | None:
        start = int((self.now() - dt.timedelta(minutes=minutes)).timestamp() * 1000)
        return self.aws.log_events(self.log_group(function), start, limit)

    def log_group(self, function: str | None = None) -> str:
        return self.sbx.log_group if function is None and not V.is_service(self.config) else \
            V.pick(self.fns, function).log_group

    def saved_tail(self) -> str | None:
        try:
            return self.tail_file.read_text()
        except OSError:
            return None

    # -- down -------------------------------------------------------------------------------
    def down(self) -> list[str]:
        """Delete every stack and the bucket's objects, after checking every one carries our owner tag."""
        fn_state, bucket_state = self.stacks()
        door = frontdoor_state(self)
        bucket_tags = self.aws.bucket_tags(self.sbx.bucket)
        problems = [p for p in (
            door and S.ownership_problem(f"stack {door.name}", door.tags, self.caller.owners, S.KIND_FRONTDOOR),
            fn_state and S.ownership_problem(f"stack {fn_state.name}", fn_state.tags, self.caller.owners,
                                             S.KIND_FUNCTION),
            bucket_state and S.ownership_problem(f"stack {bucket_state.name}", bucket_state.tags, self.caller.owners,
                                                 S.KIND_BUCKET),
            bucket_tags is not None and S.ownership_problem(f"bucket {self.sbx.bucket}", bucket_tags,
                                                            self.caller.owners, S.KIND_BUCKET),
        ) if p]
        if problems:
            raise RefusedError(problems[0], details=problems)
        done = remove(self.aws, fn_state, bucket_state, self.sbx.bucket, bucket_tags is not None,
                      (self.guard, self.sbx.function), frontdoor=door)
        self.tail_file.unlink(missing_ok=True)
        return done

