"""The WSGI layer of Lambda's states (`lambda_states.py`): 409s before moto acts, states in its answers.

In front of the invoke layer and moto: an UpdateFunctionCode, UpdateFunctionConfiguration,
PublishVersion or Invoke that AWS would refuse right now is answered 409
`ResourceConflictException` with AWS's message and never reaches moto; the FunctionConfiguration
documents in moto's answers (GetFunction, GetFunctionConfiguration, the writes, the lists) get
the timeline's `State`, `LastUpdateStatus` and reasons. `POST /_emulator/lambda/fail` with
`{"function": name or ARN, "account", "region", "what": "create"|"update", "reason", "code"}`
makes a creation or an update end `Failed` (tests only; AWS has no such call).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote

from werkzeug.datastructures import EnvironHeaders

from pipeline.local import caller, lambda_states
from pipeline.local.resolve import InvokeError, parse_function_ref

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_FUNCTIONS = re.compile(r"^/(?P<api>\d{4}-\d\d-\d\d)/functions/?(?P<ref>[^/]*)(?P<rest>/[^/]*)?/?$")
_ARN = re.compile(r"^arn:[\w-]+:lambda:(?P<region>[\w-]+):(?P<account>\d{12}):function:")
_OPERATIONS = {("PUT", "/code"): "code", ("PUT", "/configuration"): "config", ("POST", "/versions"): "publish",
               ("POST", "/invocations"): "invoke"}
_CONTROL = "/_emulator/lambda/fail"
# The writes whose window starts again when moto's answer leaves: (method, sub-path, names a function).
_WINDOWS = {("PUT", "/code", True): "lambda.update_code", ("PUT", "/configuration", True): "lambda.update_config",
            ("POST", "", False): "lambda.create"}


def state_layer(app: WsgiApp) -> WsgiApp:
    def layer(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == _CONTROL and method == "POST":
            return _control(environ, start_response)
        match = _FUNCTIONS.match(path)
        if match is None:
            return app(environ, start_response)
        headers = EnvironHeaders(environ)
        account = caller.account(headers, environ.get("QUERY_STRING", ""))
        region = caller.region(headers, headers.get("Host", ""))
        operation = _OPERATIONS.get((method, match["rest"] or ""))
        if operation and match["ref"]:
            refused = refusal(unquote(match["ref"]), operation, account, region)
            if refused is not None:
                return _answer(start_response, "409 Conflict", refused.body(),
                               [("x-amzn-ErrorType", refused.error_type)])
        if method == "DELETE" or operation == "invoke":
            return app(environ, start_response)
        window = _WINDOWS.get((method, match["rest"] or "", bool(match["ref"])))
        return _with_states(app, environ, start_response, account, region, window)

    return layer


def refusal(ref: str, operation: str, account: str, region: str) -> InvokeError | None:
    """The 409 Lambda answers `operation` on `ref` right now, None when it would go ahead (also for
    API Gateway's invokes, `apigw_layer`)."""
    try:
        owner, name, _ = parse_function_ref(ref, account, region)
    except InvokeError:
        return None  # moto (or the invoke layer) answers the malformed name as AWS would
    line = lambda_states.timeline(owner, region, name)
    message = lambda_states.conflict(line, operation, time.monotonic()) if line else None
    return InvokeError(409, "ResourceConflictException", message) if message else None


def _with_states(app: WsgiApp, environ: dict[str, Any], start_response: Callable[..., Any], account: str,
                 region: str, window: str | None) -> Iterable[bytes]:
    captured: dict[str, Any] = {}

    def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], Any]:
        captured.update(status=status, headers=headers)
        return lambda _data: None

    result = app(environ, capture)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    status, headers = captured["status"], captured["headers"]
    if status.startswith("20") and body[:1] == b"{":
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        if isinstance(document, dict) and window and document.get("FunctionName"):
            arn = _ARN.match(str(document.get("FunctionArn", "")))
            if arn is not None:
                lambda_states.restamp(arn["account"], arn["region"], str(document["FunctionName"]), window)
        if isinstance(document, dict) and _overlay_all(document, region):
            body = json.dumps(document).encode()
    headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
    start_response(status, [*headers, ("Content-Length", str(len(body)))])
    return [body]


def _overlay_all(document: dict[str, Any], region: str) -> bool:
    """Every FunctionConfiguration in a Lambda answer, wherever the operation puts it."""
    configs: list[Any] = [document, document.get("Configuration")]
    configs += list(document.get("Functions") or []) + list(document.get("Versions") or [])
    changed = False
    for config in configs:
        if isinstance(config, dict) and "FunctionArn" in config and "FunctionName" in config:
            arn = _ARN.match(str(config["FunctionArn"]))
            if arn is not None:
                lambda_states.overlay(config, arn["account"], arn["region"])
                changed = True
    return changed


def _control(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        request = json.loads(environ["wsgi.input"].read(length) or b"{}")
        ref = str(request["function"])
        region = str(request.get("region") or caller.DEFAULT_REGION)
        account, name, _ = parse_function_ref(ref, str(request.get("account") or ""), region)
        if not account:
            raise ValueError("give the function's ARN or an account")
        said = lambda_states.arm_failure(account, region, name, str(request.get("what", "update")),
                                         str(request.get("reason") or "Injected by the emulator's control endpoint"),
                                         str(request.get("code") or "InternalError"))
    except lambda_states.NoSuchFunction as exc:
        return _answer(start_response, "404 Not Found", json.dumps({"error": str(exc)}).encode())
    except (ValueError, KeyError, TypeError, InvokeError) as exc:
        return _answer(start_response, "400 Bad Request", json.dumps({"error": str(exc)}).encode())
    return _answer(start_response, "200 OK", json.dumps({"function": name, "account": account, "region": region,
                                                         "result": said}).encode())


def _answer(start_response: Callable[..., Any], status: str, body: bytes,
            extra: list[tuple[str, str]] | None = None) -> Iterable[bytes]:
    import uuid

    start_response(status, [("Content-Type", "application/json"), ("x-amzn-RequestId", str(uuid.uuid4())),
                            *(extra or []), ("Content-Length", str(len(body)))])
    return [body]

