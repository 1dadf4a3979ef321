"""`sandbox up` of a service (`functions:`): every function in one stack, a `live` alias on each, then the
front door (HTTP API and schedule rules on those aliases); and the sandbox's HTTP requests and smoke.

The one-function sandbox never comes here (engine/sandbox.py keeps its calls as they were).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from pipeline.artifact.manifest import Manifest
from pipeline.aws.cloudformation import StackState
from pipeline.aws.functions import FunctionAdapter
from pipeline.aws.http_smoke import HttpAnswer, as_invocation, exchange
from pipeline.aws.sandbox import SandboxAWS
from pipeline.config.merged import PipelineConfig
from pipeline.config.values import HttpRequest, SmokeCase
from pipeline.core import sandbox as S
from pipeline.core import sandbox_service as V
from pipeline.core.function import GO_RUNTIME, LIVE_ALIAS
from pipeline.core.sandbox_guard import role_boundary
from pipeline.core.smoke import SmokeResult, evaluate
from pipeline.core.stacks import TAG_VERSION, StackSpec
from pipeline.engine.sandbox_account import Caller, code_parameters
from pipeline.engine.stacks import StackEngine, StackResult
from pipeline.errors import InputError, PipelineError
from pipeline.infra.sandbox import render_sandbox_frontdoor, render_sandbox_service

INTEGRATION_TIMEOUT = 30.0  # seconds: the longest API Gateway waits for a Lambda integration


class Sandbox(Protocol):
    """What these steps use of engine/sandbox.py's `Sandbox` (a protocol: no import circle)."""

    config: PipelineConfig
    caller: Caller
    sbx: S.SandboxNames
    aws: SandboxAWS
    progress: Callable[[str], None]

    @property
    def fns(self) -> tuple[V.SandboxFunction, ...]: ...

    def now(self) -> dt.datetime: ...

    def keep_tail(self, tail: str, what: str) -> None: ...

    def build(self, go_dir: Path, dist: Path, architecture: str, run_tests: bool) -> Manifest: ...


def up_service(box: Sandbox, engine: StackEngine, fn_tags: dict[str, str], fd_tags: dict[str, str]
               ) -> list[StackResult]:
    """The function stack (every function), each function's tags and `live` alias, then the front door."""
    fns = box.fns
    lives = {f.key: box.aws.live_function(f.name) for f in fns}
    parameters: dict[str, str] = {}
    for f in fns:
        own = code_parameters(box.aws, box.sbx, lives[f.key], box.progress, handler=f.handler)
        parameters.update({"CodeS3Bucket": own.pop("CodeS3Bucket")}, **{f"{f.id}{k}": v for k, v in own.items()})
    rendered = render_sandbox_service(box.config.name, box.sbx, fns, fn_tags, boundary=role_boundary(box.config))
    result = engine.deploy(StackSpec(rendered.stack_name, rendered.body, parameters=parameters,
                                     tags={**fn_tags, TAG_VERSION: rendered.version}))
    for f in fns:
        live = lives[f.key] if lives[f.key] is not None and not result.changed else box.aws.live_function(f.name)
        if live is None:
            raise PipelineError(f"stack {box.sbx.function_stack} is {result.status}, but function {f.name} "
                                "does not exist")
        missing = {k: v for k, v in fn_tags.items() if live.tags.get(k) != v}
        if missing:  # the emulator drops Lambda tags in stacks; a hand edit may too
            box.aws.tag_function(live.arn, missing)
        adapter = FunctionAdapter(box.caller.session, box.sbx.region, f.name)
        if adapter.version(LIVE_ALIAS) is None:  # the front door reaches each function through it
            version, _ = box.aws.publish(f.name, live.code_sha256)
            box.progress(f"{f.name}: {LIVE_ALIAS} -> v{version}")
            adapter.point_alias(LIVE_ALIAS, version, exists=False)
    results = [result]
    if V.has_front_door(fns):
        run = bool(box.config.sandbox and box.config.sandbox.run_schedules)
        door = render_sandbox_frontdoor(box.config.name, box.sbx, fns, fd_tags, run_schedules=run)
        spec = StackSpec(door.stack_name, door.body, tags={**fd_tags, TAG_VERSION: door.version})
        results.append(engine.deploy(spec))
    return results


def frontdoor_state(box: Sandbox) -> StackState | None:
    """The front-door stack (read only for a service that has one: the one-function form makes no call)."""
    return box.aws.stack(box.sbx.frontdoor_stack) if V.has_front_door(box.fns) else None


def endpoint(box: Sandbox, state: StackState | None = None) -> str:
    """The sandbox's ApiEndpoint, from its front-door stack's outputs."""
    if not V.http_functions(box.fns):
        raise InputError(f"{box.config.directory}/pipeline.yml: no function has http routes: the sandbox has no "
                         "HTTP API (use --function/--path/--event)")
    state = state or box.aws.stack(box.sbx.frontdoor_stack)
    url = state.outputs.get("ApiEndpoint") if state is not None else None
    if not url:
        raise PipelineError(f"no HTTP API in {box.sbx.label} (stack {box.sbx.frontdoor_stack}): run "
                            "`pipeline sandbox up`")
    return str(url)


def request(box: Sandbox, method: str, path: str, headers: dict[str, str], body: str | None,
            url: str | None = None) -> HttpAnswer:
    """One HTTP request to the sandbox's API: the front door, its routes, the function behind them (as long as
    API Gateway waits for an integration, 30 s)."""
    return exchange(url or endpoint(box), HttpRequest(method, path, dict(headers), body),
                    timeout=INTEGRATION_TIMEOUT)


def smoke(box: Sandbox, cases: tuple[SmokeCase, ...]) -> list[SmokeResult]:
    """Each case: over HTTP through the API (`http:`), else an invoke of its function's `live` alias."""
    results, url = [], None
    by_key = {f.key: f for f in box.fns}
    for case in cases:
        if case.http is not None:
            url = url or endpoint(box)
            answer = request(box, case.http.method, case.http.path, dict(case.http.headers), case.http.body, url)
            results.append(evaluate(case, f"HTTP {case.http.method}", as_invocation(answer)))
            continue
        function = by_key.get(case.function or "") or V.pick(box.fns, None)
        inv, tail = box.aws.invoke(function.name, LIVE_ALIAS, _event(case))
        results.append(evaluate(case, LIVE_ALIAS, inv))
        box.keep_tail(tail, f"smoke {case.name}")
    return results


def _event(case: SmokeCase) -> dict:
    from pipeline.core.smoke import case_event

    return case_event(case)


def function_status(box: Sandbox, f: V.SandboxFunction) -> dict[str, object]:
    """One function's runtime, live alias and last deploy, as `sandbox status` shows it."""
    live = box.aws.live_function(f.name)
    if live is None:
        return {"key": f.key, "function": f.name, "exists": False}
    alias = FunctionAdapter(box.caller.session, box.sbx.region, f.name).version(LIVE_ALIAS)
    from pipeline.artifact.manifest import hex_sha256

    return {"key": f.key, "function": f.name, "exists": True, "runtime": live.runtime,
            "handler": f.handler if live.runtime == GO_RUNTIME else live.handler,
            "live_version": alias.version if alias else None,
            "live_sha256": hex_sha256(alias.code_sha256) if alias else None,
            "last_deploy": {"sha256": live.tags.get(S.TAG_DEPLOYED_SHA), "smoke": live.tags.get(S.TAG_DEPLOYED_SMOKE),
                            "version": live.tags.get(S.TAG_DEPLOYED_VERSION), "at": live.tags.get(S.TAG_DEPLOYED_AT)},
            "owner_tag": bool(live.tags.get(S.TAG_OWNER))}
