"""The emulator's Invoke API: runs the invoked version's real code instead of moto's Docker path.

A WSGI layer in front of moto takes `POST /2015-03-31/functions/<name-or-arn>/invocations`,
finds the version the caller named in moto's in-process Lambda state, runs it in a warm
sandbox and answers with the status, headers and payload real Lambda would send. Every other
request goes to moto unchanged.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, unquote

from werkzeug.datastructures import EnvironHeaders

from pipeline.local import caller, emulator
from pipeline.local.pool import POOL
from pipeline.local.resolve import InvokeError, resolve

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<ref>[^/]+)/invocations/?$")
MAX_SYNC_REQUEST_BYTES = 6 * 1024 * 1024
MAX_EVENT_REQUEST_BYTES = 1024 * 1024


def register() -> None:
    emulator.register_layer(invoke_layer)
    emulator.on_shutdown(POOL.close_all)
    emulator.on_reset(POOL.close_all)


def invoke_layer(app: WsgiApp) -> WsgiApp:
    def layer(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        match = _INVOKE_PATH.match(environ.get("PATH_INFO", ""))
        if environ.get("REQUEST_METHOD") != "POST" or match is None:
            return app(environ, start_response)
        status, headers, body = handle_invoke(environ, unquote(match["ref"]))
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    return layer


def handle_invoke(environ: dict[str, Any], ref: str) -> tuple[str, list[tuple[str, str]], bytes]:
    headers = EnvironHeaders(environ)
    query = environ.get("QUERY_STRING", "")
    invocation_type = headers.get("X-Amz-Invocation-Type", "RequestResponse")
    try:
        payload = _read_body(environ, invocation_type)
        region = caller.region(headers, headers.get("Host", ""))
        account = caller.account(headers, query)
        qualifier = (parse_qs(query).get("Qualifier") or [None])[0]
        target = resolve(ref, qualifier, account, region)
        client_context = _client_context(headers.get("X-Amz-Client-Context"))
    except InvokeError as exc:
        error_headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", exc.error_type),
                         ("x-amzn-RequestId", _request_id())]
        return _status(exc.status), error_headers, exc.body()
    if invocation_type == "DryRun":
        return "204 No Content", [("x-amzn-RequestId", _request_id())], b""
    if invocation_type == "Event":
        request_id = POOL.invoke_later(target, payload)
        return "202 Accepted", [("x-amzn-RequestId", request_id)], b""
    try:
        request_id, result = POOL.invoke(target, payload, client_context)
    except InvokeError as exc:  # Lambda could not start the environment (its execution role)
        error_headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", exc.error_type),
                         ("x-amzn-RequestId", _request_id())]
        return _status(exc.status), error_headers, exc.body()
    response_headers = [
        ("Content-Type", "application/json"),
        ("x-amzn-RequestId", request_id),
        ("X-Amz-Executed-Version", target.code.version),
    ]
    if result.outcome.failed:
        response_headers.append(("X-Amz-Function-Error", "Unhandled"))
    if headers.get("X-Amz-Log-Type") == "Tail":
        from pipeline.local.lambda_log import tail

        response_headers.append(("X-Amz-Log-Result", tail(result.log)))
    return "200 OK", response_headers, result.outcome.payload


def _read_body(environ: dict[str, Any], invocation_type: str) -> bytes:
    if invocation_type not in ("RequestResponse", "Event", "DryRun"):
        raise InvokeError(400, "InvalidParameterValueException",
                          f"Unsupported invocation type {invocation_type}")
    length = int(environ.get("CONTENT_LENGTH") or 0)
    limit = MAX_EVENT_REQUEST_BYTES if invocation_type == "Event" else MAX_SYNC_REQUEST_BYTES
    if length > limit:
        raise InvokeError(413, "RequestTooLargeException",
                          f"Request must be smaller than {limit} bytes for the InvokeFunction operation")
    stream = environ["wsgi.input"]
    body = stream.read(length) if length else stream.read() if environ.get("wsgi.input_terminated") else b""
    if not body.strip():
        return b"{}"  # Lambda hands an empty request to the function as an empty JSON object
    try:
        json.loads(body)
    except ValueError as exc:
        raise InvokeError(400, "InvalidRequestContentException",
                          f"Could not parse request body into json: {exc}") from None
    return body


def _client_context(header: str | None) -> str | None:
    """X-Amz-Client-Context is base64 JSON; the runtime receives the JSON itself."""
    if not header:
        return None
    try:
        document = base64.b64decode(header, validate=True).decode()
        json.loads(document)
    except ValueError:
        raise InvokeError(400, "InvalidRequestContentException",
                          "Client context must be a valid Base64-encoded JSON object.") from None
    return document


def _status(code: int) -> str:
    from http import HTTPStatus

    return f"{code} {HTTPStatus(code).phrase}"


def _request_id() -> str:
    import uuid

    return str(uuid.uuid4())
