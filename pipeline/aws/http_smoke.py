"""HTTP smoke cases over the network: the env's HTTP API endpoint (its front-door stack's `ApiEndpoint`
output) and one request per case, answered as an `Invocation` so `core.smoke.evaluate` judges it like a
Lambda proxy answer (statusCode, headers, body).

The only module that sends HTTP outside boto3 (smoke cases, `sandbox invoke --http`, the demo). It trusts
the CA bundle boto3 trusts (`AWS_CA_BUNDLE`, e.g. the emulator's own CA), bounds every request with a
timeout, and says what failed in one line naming the method and the path without its query string (never a
header: they may carry credentials).
"""

from __future__ import annotations

import http.client
import json
import os
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from pipeline.aws.cloudformation import Stacks
from pipeline.aws.errors import error_code, error_message
from pipeline.aws.session import AccountSession
from pipeline.config.values import HttpRequest
from pipeline.core.smoke import Invocation
from pipeline.errors import PipelineError

TIMEOUT_SECONDS = 15.0
MAX_BODY_BYTES = 1 << 20  # an answer is read up to 1 MiB (a smoke answer is small)
ENDPOINT_OUTPUT = "ApiEndpoint"


def api_endpoint(session: AccountSession, region: str, stack: str, env: str) -> str:
    """The HTTP API's URL from the front-door stack's `ApiEndpoint` output (one DescribeStacks); `env` names
    the environment the stack belongs to (for the fix command)."""
    where = f"stack {stack} in {session.account}/{region}"
    try:
        state = Stacks(session.client("cloudformation", region)).describe(stack)
    except ClientError as exc:
        raise PipelineError(f"{where}: DescribeStacks: {error_code(exc)}: {error_message(exc)}") from None
    if state is None:
        raise PipelineError(f"{where} does not exist: the service's HTTP API is not deployed "
                            f"(run `pipeline bootstrap --env {env}`)")
    endpoint = state.outputs.get(ENDPOINT_OUTPUT)
    if not endpoint:
        raise PipelineError(f"{where} has no {ENDPOINT_OUTPUT} output (status {state.status})")
    return endpoint.rstrip("/")


def _context() -> ssl.SSLContext:
    bundle = os.environ.get("AWS_CA_BUNDLE")
    return ssl.create_default_context(cafile=bundle) if bundle else ssl.create_default_context()


@dataclass(frozen=True)
class HttpAnswer:
    """An HTTP answer as received: status, headers (names lower-cased), body, wall time of the request."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    duration_ms: float = 0.0


def exchange(endpoint: str, request: HttpRequest, timeout: float = TIMEOUT_SECONDS) -> HttpAnswer:
    """`request` sent to `<endpoint><path>`; any HTTP status is an answer, a failure to get one raises
    PipelineError in one line (method and path without the query string, never a header)."""
    url = endpoint.rstrip("/") + "/" + request.path.lstrip("/")
    shown = f"{request.method} {urlsplit(url).path or '/'}"
    if urlsplit(url).scheme not in ("http", "https"):
        raise PipelineError(f"http smoke {shown}: endpoint {endpoint!r} is not an http(s) URL")
    body = request.body.encode() if request.body is not None else None
    req = urllib.request.Request(url, data=body, method=request.method,
                                 headers={"user-agent": "pipeline-smoke", **request.headers})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=_context()) as resp:
            status, headers, raw = resp.status, resp.headers, resp.read(MAX_BODY_BYTES)
    except urllib.error.HTTPError as exc:  # 4xx/5xx: an answer like any other
        status, headers, raw = exc.code, exc.headers, exc.read(MAX_BODY_BYTES)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        why = getattr(exc, "reason", None) or exc
        raise PipelineError(f"http smoke {shown}: no answer from {urlsplit(url).netloc}: "
                            f"{type(why).__name__}: {why}"[:300]) from None
    return HttpAnswer(status, {k.lower(): v for k, v in headers.items()}, raw.decode("utf-8", "replace"),
                      (time.perf_counter() - start) * 1000)


def as_invocation(answer: HttpAnswer) -> Invocation:
    """An HTTP answer as the payload-v2 response it maps, so smoke expectations read it like an invoke's."""
    payload = {"statusCode": answer.status, "headers": answer.headers, "body": answer.body}
    return Invocation(json.dumps(payload).encode(), answer.duration_ms)


def send(endpoint: str, request: HttpRequest, timeout: float = TIMEOUT_SECONDS) -> Invocation:
    """`request` sent to `<endpoint><path>`, its answer as an Invocation `core.smoke.evaluate` judges."""
    return as_invocation(exchange(endpoint, request, timeout))
