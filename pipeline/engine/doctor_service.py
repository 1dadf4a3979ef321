"""`doctor` for a multi-function service (`functions:`): every function and the front door, read-only.

Per target, after the target stack (engine/doctor.py): the service's function stack (every function in
one stack), then each function `<name>-<env>-<key>`: it exists with the service's architecture and the
runtime and handler its stage implies (the stub, or the Go runtime under its own handler), its `live`
alias exists (bootstrap makes it, on the stub's version), and, with the ledger, the alias against the
ledger (the judgement `status` and `verify` make, per function); the code each function runs is readable
by the deploy role. With routes or schedules, the front-door stack is current and its `ApiEndpoint`
answers an HTTP request (any status is an answer: GET / of an API without that route is its 404).
"""

from __future__ import annotations

from typing import Any, Protocol

from pipeline.aws.functions import FunctionAdapter
from pipeline.aws.http_smoke import api_endpoint, send
from pipeline.aws.livefunction import read_live_function
from pipeline.aws.session import AccountSession
from pipeline.config.merged import Environment, PipelineConfig, ServiceFunction, Target
from pipeline.config.values import HttpRequest
from pipeline.core.bootstrap import FunctionCode, LiveFunction, function_code
from pipeline.core.doctor import Check, failed, function_check, passed
from pipeline.core.function import LIVE_ALIAS
from pipeline.errors import PipelineError
from pipeline.infra import naming
from pipeline.infra.render import render_front_door, render_service_function
from pipeline.infra.service_context import has_front_door

ANSWER_TIMEOUT = 5.0


class Doctor(Protocol):
    """What these checks use of `engine.doctor.Doctor` (its probes, and the list they append to)."""

    config: PipelineConfig
    checks: list[Check]

    def _stack(self, name: str, where: str, session: AccountSession, region: str, stack: str, expected: str,
               fix: str) -> None: ...

    def _readable(self, where: str, deploy: AccountSession, code: Any, fix: str, region: str) -> None: ...

    def _live(self, env: Environment, target: Target, where: str, key: str = "") -> None: ...


def service_names(env: Environment) -> tuple[str, ...]:
    """The checks of one target of a service, for skipping them all when the deploy role is missing."""
    return ("function stack", *(("front-door stack", "front door") if has_front_door(env) else ()), "function",
            "alias", "artifact readable")


def check_service_target(doctor: Doctor, env: Environment, target: Target, deploy: AccountSession, where: str,
                         fix: str, ledger: bool) -> None:
    """Every function of the service in `target`, then its front door. `ledger`: judge each alias against it."""
    config = doctor.config
    stack = render_service_function(config, env, target)
    doctor._stack("function stack", where, deploy, target.region, stack.stack_name, stack.version, fix)
    codes: dict[tuple[str, str], FunctionCode] = {}
    for function in env.functions:
        live = _function(doctor, env, target, deploy, where, fix, function)
        code = function_code(config, live, target.region)
        codes.setdefault((code.bucket, code.key), code)
        if ledger:
            doctor._live(env, target, f"{where} {function.key}", function.key)
    for code in codes.values():  # one binary: usually one object for every function
        doctor._readable(where, deploy, code, fix, target.region)
    if has_front_door(env):
        _front_door(doctor, env, target, deploy, where, fix)


def _function(doctor: Doctor, env: Environment, target: Target, deploy: AccountSession, where: str, fix: str,
              function: ServiceFunction) -> LiveFunction | None:
    name = naming.service_function_name(doctor.config, env, function.key)
    at = f"{where} {function.key}"
    try:
        live = read_live_function(deploy, target.region, name, follow_alias=True)
    except PipelineError as exc:
        doctor.checks.append(failed("function", at, exc.message, f"check the deploy role's rights ({fix})"))
        return None
    doctor.checks.append(function_check(at, name, live, env.function.architecture, fix,
                                        handler=function.settings.handler))
    if live is None:
        doctor.checks.append(failed("alias", at, f"no function {name}, so no {LIVE_ALIAS} alias", f"run {fix}"))
        return None
    try:
        version = FunctionAdapter(deploy, target.region, name).alias_version(LIVE_ALIAS)
    except PipelineError as exc:
        doctor.checks.append(failed("alias", at, exc.message, f"check the deploy role's rights ({fix})"))
        return live
    if version is None:
        doctor.checks.append(failed("alias", at, f"{name} has no {LIVE_ALIAS} alias (bootstrap makes it on the "
                                                 "stub's version; the front door and schedules call it)", f"run {fix}"))
    else:
        doctor.checks.append(passed("alias", at, f"{name}:{LIVE_ALIAS} -> v{version}"))
    return live


def _front_door(doctor: Doctor, env: Environment, target: Target, deploy: AccountSession, where: str,
                fix: str) -> None:
    """The front-door stack is current, and the HTTP API at its ApiEndpoint answers."""
    stack = render_front_door(doctor.config, env, target)
    doctor._stack("front-door stack", where, deploy, target.region, stack.stack_name, stack.version, fix)
    try:
        endpoint = api_endpoint(deploy, target.region, stack.stack_name, env.name)
        answer = send(endpoint, HttpRequest("GET", "/"), timeout=ANSWER_TIMEOUT)
    except PipelineError as exc:
        doctor.checks.append(failed("front door", where, exc.message, f"run {fix}"))
        return
    status = _status(answer.payload)
    doctor.checks.append(passed("front door", where, f"{endpoint} answers (GET / -> {status})"))


def _status(payload: bytes) -> str:
    import json

    try:
        return str(json.loads(payload).get("statusCode"))
    except (ValueError, AttributeError):
        return "?"
