"""Developer sandboxes: up, deploy, status, invoke, logs and down in the caller's own account.

Every entry starts at `open_sandbox`, which asks STS who the caller is and applies the guard
(invariant 9) before anything else touches AWS. No gates, no ledger, no tooling bucket: a
sandbox writes only its own two stacks, its bucket and its function.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.artifact.build import build_artifact
from pipeline.artifact.manifest import Manifest, hex_sha256
from pipeline.aws.cloudformation import StackState
from pipeline.aws.functions import FunctionAdapter
from pipeline.aws.sandbox import SandboxAWS
from pipeline.aws.sandbox_guard import GuardAWS
from pipeline.aws.session import SessionFactory
from pipeline.config.merged import PipelineConfig
from pipeline.core import sandbox as S
from pipeline.core.bootstrap import LiveFunction
from pipeline.core.function import GO_HANDLER, GO_RUNTIME, LIVE_ALIAS
from pipeline.core.sandbox_guard import role_boundary
from pipeline.core.smoke import Invocation, SmokeResult, case_event, evaluate
from pipeline.core.stacks import TAG_VERSION, StackSpec
from pipeline.engine.sandbox_account import Caller, code_parameters, open_caller, remove
from pipeline.engine.sandbox_guard import budget_status, check_boundary, deploy_lock, ensure_budget, untagged
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
class DeployResult:
    manifest: Manifest
    zip_path: Path
    uploaded: bool
    runtime_switched: bool
    code_updated: bool
    version: str
    alias_moved: bool
    smoke: list[SmokeResult]
    smoke_source: str
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.smoke)


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
            return self._deploy(go_dir, dist, run_tests, started)

    def _deploy(self, go_dir: Path, dist: Path, run_tests: bool, started: float) -> DeployResult:
        timings: dict[str, float] = {}
        settings = S.function_settings(self.config)
        self.progress(f"building {go_dir}" + ("" if run_tests else " (tests skipped)"))
        mark = time.perf_counter()
        manifest = build_artifact(go_dir, dist, self.config.name, settings.architecture, BUILD_VERSION,
                                  run_tests=run_tests)
        timings["build"] = time.perf_counter() - mark
        zip_path = dist / f"{manifest.stem}.zip"
        sha, key, bucket = manifest.sha256, self.sbx.artifact_key(manifest.sha256), self.sbx.bucket

        mark = time.perf_counter()
        uploaded = not self.aws.has_object(bucket, key)
        if uploaded:
            self.progress(f"uploading {manifest.sha256[:12]} to s3://{bucket}/{key}")
            self.aws.put_object(bucket, key, zip_path.read_bytes(),
                                {"sha256": sha, "commit": manifest.commit, "dirty": str(manifest.dirty).lower()})
        live = self.aws.live_function(self.sbx.function)
        if live is None:
            raise PipelineError(f"function {self.sbx.function} not found: run `pipeline sandbox up`")
        fn = FunctionAdapter(self.caller.session, self.sbx.region, self.sbx.function)
        switched = live.runtime != GO_RUNTIME
        if switched:
            self.progress(f"switching runtime {live.runtime} -> {GO_RUNTIME}")
            fn.switch_runtime(GO_RUNTIME, GO_HANDLER)
        version: str | None = None
        code_updated = live.sha256 != sha
        if code_updated:
            self.progress(f"updating code to {sha[:12]} (publish)")
            published = fn.deploy(bucket, key, None, settings.architecture)
            _require_sha(published.code_sha256, sha, f"published version {published.version}")
            version = published.version
        alias = fn.version(LIVE_ALIAS)
        if version is None and (alias is None or hex_sha256(alias.code_sha256) != sha):
            version, code = self.aws.publish(self.sbx.function, manifest.code_sha256)
            _require_sha(code, sha, f"published version {version}")
        moved = version is not None
        if version is not None:
            self.progress(f"{LIVE_ALIAS} -> v{version}")
            fn.point_alias(LIVE_ALIAS, version, exists=alias is not None)
        else:
            assert alias is not None
            version = alias.version
            self.progress(f"{self.sbx.function} already runs {sha[:12]} (v{version}): no upload, no code update")
        timings["deploy"] = time.perf_counter() - mark

        mark = time.perf_counter()
        cases, source = S.smoke_cases(self.config)
        results: list[SmokeResult] = []
        for case in cases:
            inv, tail = self.aws.invoke(self.sbx.function, LIVE_ALIAS, case_event(case))
            results.append(evaluate(case, LIVE_ALIAS, inv))
            self._keep_tail(tail, f"smoke {case.name}")
        timings["smoke"] = time.perf_counter() - mark
        self._record(live, sha, version, S.smoke_summary(sum(r.passed for r in results), len(results)))
        timings["total"] = time.perf_counter() - started
        return DeployResult(manifest, zip_path, uploaded, switched, code_updated, version, moved, results, source,
                            {k: round(v, 3) for k, v in timings.items()})

    def _record(self, live: LiveFunction, sha: str, version: str, smoke: str) -> None:
        """What the last deploy left, as function tags (written only when it changed)."""
        wanted = {S.TAG_DEPLOYED_SHA: sha, S.TAG_DEPLOYED_VERSION: version, S.TAG_DEPLOYED_SMOKE: smoke}
        if any(live.tags.get(k) != v for k, v in wanted.items()):
            self.aws.tag_function(live.arn, {**wanted, S.TAG_DEPLOYED_AT: S.stamp(self.now())})

    def _keep_tail(self, tail: str, what: str) -> None:
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

    def invoke(self, event: dict[str, Any], qualifier: str) -> tuple[Invocation, str]:
        inv, tail = self.aws.invoke(self.sbx.function, qualifier, event)
        self._keep_tail(tail, f"invoke {qualifier}")
        return inv, tail

    def logs(self, minutes: int, limit: int) -> list[dict[str, Any]] | None:
        start = int((self.now() - dt.timedelta(minutes=minutes)).timestamp() * 1000)
        return self.aws.log_events(self.sbx.log_group, start, limit)

    def saved_tail(self) -> str | None:
        try:
            return self.tail_file.read_text()
        except OSError:
            return None

    # -- down -------------------------------------------------------------------------------
    def down(self) -> list[str]:
        """Delete both stacks and the bucket's objects, after checking every one carries our owner tag."""
        fn_state, bucket_state = self.stacks()
        bucket_tags = self.aws.bucket_tags(self.sbx.bucket)
        problems = [p for p in (
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
                      (self.guard, self.sbx.function))
        self.tail_file.unlink(missing_ok=True)
        return done


def _require_sha(code_sha256: str, sha: str, what: str) -> None:
    got = hex_sha256(code_sha256)
    if got != sha:
        raise PipelineError(f"{what} has CodeSha256 {got}, expected {sha}: the alias was not moved")
