"""The Lambda Runtime API (2018-06-01) that a function's runtime talks to, one server per process.

A bootstrap long-polls `/invocation/next` for an event and posts the result to `/response`,
`/error` (or `/init/error` when it cannot start). A server per warm process keeps routing
trivial: `AWS_LAMBDA_RUNTIME_API` names its port, and everything it receives is about one
process. aws-lambda-go posts with chunked encoding and may put a late error in HTTP trailers,
so both are handled here.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

MAX_RESPONSE_BYTES = 6 * 1024 * 1024  # Lambda's synchronous response limit
_PREFIX = "/2018-06-01/runtime"
_RESULT = re.compile(rf"^{_PREFIX}/invocation/(?P<id>[^/]+)/(?P<kind>response|error)$")
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
ERROR_BODY_TRAILER = "Lambda-Runtime-Function-Error-Body"


@dataclass(frozen=True)
class Outcome:
    """How one invocation ended: the payload for the caller, and an error type when it failed."""

    payload: bytes
    error_type: str | None = None
    log_line: str = ""  # what Lambda itself writes to the log (e.g. "Task timed out ...")

    @property
    def failed(self) -> bool:
        return self.error_type is not None


def error_outcome(error_type: str, message: str, log_line: str | None = None) -> Outcome:
    """An error the emulator itself reports (it also goes to the log, as Lambda writes it there)."""
    payload = json.dumps({"errorType": error_type, "errorMessage": message}, separators=(",", ":")).encode()
    return Outcome(payload, error_type, f"{message}\n{error_type}" if log_line is None else log_line)


class Invocation:
    """One event on its way through a process; the first outcome to arrive wins."""

    def __init__(self, request_id: str, payload: bytes, invoked_arn: str, timeout_s: float,
                 client_context: str | None = None, cognito_identity: str | None = None) -> None:
        self.request_id = request_id
        self.payload = payload
        self.invoked_arn = invoked_arn
        self.timeout_s = timeout_s
        self.client_context = client_context
        self.cognito_identity = cognito_identity
        self.trace_id = _trace_id()
        self.picked_at: float | None = None   # monotonic time the runtime received the event
        self.deadline_ms = 0
        self.outcome: Outcome | None = None
        self.changed = threading.Event()
        self._lock = threading.Lock()

    def fresh(self) -> Invocation:
        """The same event, not yet delivered (to retry it on a new process)."""
        return Invocation(self.request_id, self.payload, self.invoked_arn, self.timeout_s,
                          self.client_context, self.cognito_identity)

    def pick(self) -> None:
        with self._lock:
            self.picked_at = time.monotonic()
            self.deadline_ms = int(time.time() * 1000 + self.timeout_s * 1000)
        self.changed.set()

    def finish(self, outcome: Outcome) -> bool:
        with self._lock:
            if self.outcome is not None:
                return False
            self.outcome = outcome
        self.changed.set()
        return True

    def next_headers(self) -> dict[str, str]:
        headers = {
            "Lambda-Runtime-Aws-Request-Id": self.request_id,
            "Lambda-Runtime-Deadline-Ms": str(self.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": self.invoked_arn,
            "Lambda-Runtime-Trace-Id": self.trace_id,
            "Content-Type": "application/json",
        }
        if self.client_context:
            headers["Lambda-Runtime-Client-Context"] = self.client_context
        if self.cognito_identity:
            headers["Lambda-Runtime-Cognito-Identity"] = self.cognito_identity
        return headers


class RuntimeHost(Protocol):
    """The process side the server reports to (implemented by the sandbox)."""

    def next_invocation(self) -> Invocation | None: ...
    def current(self, request_id: str) -> Invocation | None: ...
    def init_failed(self, outcome: Outcome) -> None: ...


class RuntimeApiServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, host: RuntimeHost) -> None:
        self.host = host
        super().__init__(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"lambda-runtime-api-{self.server_port}", daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_port}"

    def start(self) -> None:
        self._thread.start()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A killed runtime drops its keep-alive connection: expected, not worth a traceback.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def close(self) -> None:
        if self._thread.is_alive():
            self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: RuntimeApiServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path != f"{_PREFIX}/invocation/next":
            self._reply(404, {"errorType": "InvalidRequest", "errorMessage": f"unknown path {self.path}"})
            return
        invocation = self.server.host.next_invocation()
        if invocation is None:  # the process is being shut down
            self._reply(500, {"errorType": "Runtime.Shutdown", "errorMessage": "sandbox is shutting down"})
            self.close_connection = True
            return
        self._send(200, invocation.payload, invocation.next_headers())

    def do_POST(self) -> None:
        body, trailers = self._read_body()
        error_type = self.headers.get(ERROR_TYPE_HEADER)
        trailer_error = trailers.get(ERROR_TYPE_HEADER.lower())
        if trailer_error:
            # The function failed while streaming its response: the trailers carry the error.
            error_type = trailer_error
            body = base64.b64decode(trailers.get(ERROR_BODY_TRAILER.lower(), ""))
        if self.path == f"{_PREFIX}/init/error":
            self.server.host.init_failed(_error_from_runtime(body, error_type, "Runtime.InitError"))
            self._reply(202, {"status": "OK"})
            return
        match = _RESULT.match(self.path)
        if match is None:
            self._reply(404, {"errorType": "InvalidRequest", "errorMessage": f"unknown path {self.path}"})
            return
        invocation = self.server.host.current(match["id"])
        if invocation is None:
            self._reply(400, {"errorType": "InvalidRequestID", "errorMessage": "Invalid request ID"})
            return
        if match["kind"] == "error" or trailer_error:
            outcome = _error_from_runtime(body, error_type, "Runtime.Unknown")
        elif len(body) > MAX_RESPONSE_BYTES:
            outcome = error_outcome("Function.ResponseSizeTooLarge", "Response payload size exceeded maximum "
                                    f"allowed payload size ({MAX_RESPONSE_BYTES} bytes).")
        else:
            outcome = Outcome(body)
        if not invocation.finish(outcome):
            self._reply(400, {"errorType": "InvalidStateTransition",
                              "errorMessage": "State transition from Ready to InvocationResponse failed"})
            return
        self._reply(202, {"status": "OK"})

    def _read_body(self) -> tuple[bytes, dict[str, str]]:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return _read_chunked(self.rfile)
        length = int(self.headers.get("Content-Length") or 0)
        return (self.rfile.read(length) if length else b""), {}

    def _reply(self, status: int, document: dict[str, str]) -> None:
        self._send(status, json.dumps(document).encode(), {"Content-Type": "application/json"})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        # One write per response: headers and body in separate small packets invite Nagle stalls.
        lines = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}"]
        lines += [f"{key}: {value}" for key, value in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)


def _read_chunked(stream: Any) -> tuple[bytes, dict[str, str]]:
    chunks: list[bytes] = []
    while True:
        size = int(stream.readline().split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            break
        chunks.append(stream.read(size))
        stream.readline()
    trailers: dict[str, str] = {}
    while (line := stream.readline().strip()):
        key, _, value = line.decode("latin-1").partition(":")
        trailers[key.strip().lower()] = value.strip()
    return b"".join(chunks), trailers


def _error_from_runtime(body: bytes, error_type: str | None, default_type: str) -> Outcome:
    """The payload the caller sees: the runtime's JSON error as posted, or one made from it."""
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if isinstance(document, dict):
        return Outcome(body, str(document.get("errorType") or error_type or default_type))
    message = body.decode("utf-8", "replace") or "runtime reported an error without details"
    return error_outcome(error_type or default_type, message, log_line="")


def _trace_id() -> str:
    import secrets

    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};Parent={secrets.token_hex(8)};Sampled=0"
