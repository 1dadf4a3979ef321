"""The counting emulator of bench/compare.py, in its own process: `pipeline.local.emulator.Emulator` (TLS and
IAM enforcement on, as `local up` runs it) under one timing profile, with a counting WSGI layer outermost.

Each HTTP request that reaches it is one AWS call (retries included) with the bytes of its body. Two bench-only
endpoints: `/_bench/calls` (GET the log, POST to read and clear it) and `/_bench/timing` (POST `{"profile",
"scale"}`: the timing the next requests see; the driver sets `instant` for unmeasured set-up such as bootstrap).

Run by the driver: python bench/compare_emulator.py PORT_FILE PROFILE SCALE
"""

from __future__ import annotations

import io
import json
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
COUNTER_PATH = "/_bench/calls"
TIMING_PATH = "/_bench/timing"
Entry = tuple[str, str, int]  # (service, operation, request body bytes)


class RequestLog:
    """Every request the emulator answers, and the bench's two endpoints."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: list[Entry] = []

    def layer(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        def counted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            path = environ.get("PATH_INFO", "")
            if path in (COUNTER_PATH, TIMING_PATH):
                body = self.bench_endpoint(path, environ)
                start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
                return [body]
            if path.startswith(("/moto-api", "/_emulator")):
                return app(environ, start_response)
            raw = read_body(environ)
            entry = (service_of(environ), operation_of(environ, raw), len(raw))
            with self.lock:
                self.entries.append(entry)
            return app(environ, start_response)

        return counted

    def bench_endpoint(self, path: str, environ: dict[str, Any]) -> bytes:
        post = environ.get("REQUEST_METHOD") == "POST"
        if path == TIMING_PATH:
            from pipeline.local import timing

            asked = json.loads(read_body(environ) or b"{}")
            if post:
                timing.activate(timing.profile(asked["profile"], float(asked.get("scale", 1.0))))
            return json.dumps({"timing": timing.active().describe()}).encode()
        with self.lock:
            body = json.dumps(self.entries).encode()
            if post:
                self.entries = []
        return body


def read_body(environ: dict[str, Any]) -> bytes:
    """The request body, put back so the layers below read it again."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:
        raw = environ["wsgi.input"].read(length)
    elif environ.get("wsgi.input_terminated"):  # chunked: the server ends the stream for us
        raw = environ["wsgi.input"].read()
    else:
        raw = b""
    environ["wsgi.input"] = io.BytesIO(raw)
    environ["CONTENT_LENGTH"] = str(len(raw))
    return raw


def service_of(environ: dict[str, Any]) -> str:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    if "Credential=" in auth:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
        if len(scope) >= 4:
            return scope[3]
    return "unsigned"


def operation_of(environ: dict[str, Any], raw: bytes) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.rsplit(".", 1)[-1]
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return query["Action"][0]
    if raw[:7] == b"Action=":
        return urllib.parse.parse_qs(raw.decode("utf-8", "replace")).get("Action", ["?"])[0]
    method, parts = environ.get("REQUEST_METHOD", "?"), [p for p in environ.get("PATH_INFO", "").split("/") if p]
    if service_of(environ) == "s3":
        what = "object" if len(parts) > 1 else "bucket"
        flags = sorted(k for k in query if k not in ("prefix", "continuation-token", "max-keys", "encoding-type"))
        shape = f"{method} {what}" + (f"?{','.join(flags)}" if flags else "")
        return S3_OPERATIONS.get(shape, shape)
    words = {"functions", "aliases", "versions", "invocations", "configuration", "code", "policy", "tags"}
    shape = f"{method} /" + "/".join(p if p in words else "*" for p in parts[1:])
    return LAMBDA_OPERATIONS.get(shape, shape)


S3_OPERATIONS = {"PUT object": "PutObject", "GET object": "GetObject", "HEAD object": "HeadObject",
                 "DELETE object": "DeleteObject", "GET bucket?list-type": "ListObjectsV2", "PUT bucket": "CreateBucket",
                 "HEAD bucket": "HeadBucket", "GET bucket": "ListObjects"}
LAMBDA_OPERATIONS = {"GET /functions/*/configuration": "GetFunctionConfiguration", "GET /functions/*": "GetFunction",
                     "PUT /functions/*/code": "UpdateFunctionCode", "PUT /functions/*/configuration":
                     "UpdateFunctionConfiguration", "POST /functions/*/invocations": "Invoke",
                     "PUT /functions/*/aliases/*": "UpdateAlias", "POST /functions/*/aliases": "CreateAlias",
                     "GET /functions/*/aliases/*": "GetAlias", "POST /functions/*/versions": "PublishVersion"}


def serve(port_file: Path, profile: str, scale: float) -> None:
    """Run the emulator until SIGTERM/SIGINT; write {"endpoint", "ca_bundle"} to `port_file` once it answers."""
    sys.path.insert(0, str(REPO))
    from pipeline.local import timing
    from pipeline.local.emulator import Emulator

    log = RequestLog()
    with Emulator(timing=timing.profile(profile, scale)) as emulator:
        emulator._server.app = log.layer(emulator._server.app)  # outermost: Lambda invokes are counted too
        port_file.write_text(json.dumps({"endpoint": emulator.endpoint_url, "ca_bundle": emulator.ca_bundle}))
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop() runs: warm Lambda processes end too
    serve(Path(sys.argv[1]), sys.argv[2], float(sys.argv[3]))
