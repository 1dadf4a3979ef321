"""A minimal Lambda runtime for python3.* functions, run as a script by the emulator's sandbox.

Lambda's managed Python runtime is not available offline, so this loop plays its part against
the same Runtime API a custom `bootstrap` uses: import the `module.function` named by
_HANDLER from LAMBDA_TASK_ROOT, then for each event call it with (event, context) and post
the JSON result, or an error document shaped like the real runtime's. Standard library only.
"""

from __future__ import annotations

import http.client
import importlib
import json
import os
import sys
import time
import traceback
from typing import Any

_API = "/2018-06-01/runtime"


class Context:
    """The parts of Lambda's context object that handlers use."""

    def __init__(self, headers: http.client.HTTPMessage) -> None:
        self.aws_request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn", "")
        self._deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms") or 0)
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.client_context = _json_header(headers, "Lambda-Runtime-Client-Context")
        self.identity = _json_header(headers, "Lambda-Runtime-Cognito-Identity")
        os.environ["_X_AMZN_TRACE_ID"] = headers.get("Lambda-Runtime-Trace-Id", "")

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _json_header(headers: http.client.HTTPMessage, name: str) -> Any:
    value = headers.get(name)
    try:
        return json.loads(value) if value else None
    except ValueError:
        return None


def _error(exc: BaseException, error_type: str | None = None) -> bytes:
    stack = traceback.format_list(traceback.extract_tb(exc.__traceback__))
    return json.dumps({"errorMessage": str(exc), "errorType": error_type or type(exc).__name__,
                       "requestId": "", "stackTrace": stack}).encode()


class RuntimeClient:
    def __init__(self, address: str) -> None:
        host, _, port = address.partition(":")
        self._conn = http.client.HTTPConnection(host, int(port or 80))

    def _call(self, method: str, path: str, body: bytes | None = None,
              headers: dict[str, str] | None = None) -> tuple[http.client.HTTPMessage, bytes]:
        self._conn.request(method, _API + path, body=body, headers=headers or {})
        response = self._conn.getresponse()
        data = response.read()
        if response.status >= 300:
            raise RuntimeError(f"Runtime API {method} {path} answered {response.status}: {data[:200]!r}")
        return response.headers, data

    def next(self) -> tuple[http.client.HTTPMessage, bytes]:
        return self._call("GET", "/invocation/next")

    def respond(self, request_id: str, body: bytes) -> None:
        self._call("POST", f"/invocation/{request_id}/response", body, {"Content-Type": "application/json"})

    def fail(self, path: str, body: bytes, error_type: str) -> None:
        self._call("POST", path, body, {"Content-Type": "application/json",
                                        "Lambda-Runtime-Function-Error-Type": error_type})


def load_handler(spec: str) -> Any:
    module_path, _, function_name = spec.rpartition(".")
    if not module_path or not function_name:
        raise ValueError(f"Bad handler '{spec}': expected module.function")
    module = importlib.import_module(module_path.replace("/", "."))
    handler = getattr(module, function_name, None)
    if handler is None:
        raise AttributeError(f"Handler '{function_name}' missing on module '{module_path}'")
    return handler


def main() -> None:
    client = RuntimeClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", os.getcwd()))
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Exception as exc:
        import_failed = isinstance(exc, ImportError)
        error_type = "Runtime.ImportModuleError" if import_failed else "Runtime.HandlerNotFound"
        message = f"Unable to import module '{os.environ.get('_HANDLER', '')}': {exc}"
        body = json.dumps({"errorMessage": message, "errorType": error_type, "requestId": "",
                           "stackTrace": []}).encode()
        print(f"[ERROR] {error_type}: {exc}", file=sys.stderr, flush=True)
        client.fail("/init/error", body, error_type)
        sys.exit(1)
    while True:
        headers, event_bytes = client.next()
        context = Context(headers)
        try:
            result = handler(json.loads(event_bytes), context)
            body = json.dumps(result).encode()
        except Exception as exc:
            print(f"[ERROR] {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            body = _error(exc)
            path = f"/invocation/{context.aws_request_id}/error"
            client.fail(path, body, f"Unhandled.{type(exc).__name__}")
            continue
        client.respond(context.aws_request_id, body)


if __name__ == "__main__":
    main()
