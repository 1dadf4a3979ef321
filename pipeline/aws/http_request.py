"""One HTTP request to an API's endpoint (the sandbox's HTTP API), trusting the CA bundle boto3 would.

A small adapter (urllib, no new dependency): TLS is verified against `AWS_CA_BUNDLE` when it is set, as
botocore does for AWS endpoints (the emulator's self-signed certificate is handed out that way), else
against the system's trust store. An HTTP error status is an answer, not an exception.
"""

from __future__ import annotations

import os
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from pipeline.errors import PipelineError

TIMEOUT = 30.0


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)  # names lowercased
    body: str = ""
    duration_ms: float = 0.0


def _context() -> ssl.SSLContext:
    bundle = os.environ.get("AWS_CA_BUNDLE") or None
    return ssl.create_default_context(cafile=bundle)


def send(url: str, method: str, headers: dict[str, str] | None = None, body: str | None = None,
         timeout: float = TIMEOUT) -> HttpAnswer:
    """Send `method url` and return its status, headers and body; PipelineError when nothing answered."""
    data = body.encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, context=_context(), timeout=timeout) as resp:
            status, found, raw = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        status, found, raw = err.code, err.headers, err.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise PipelineError(f"{method} {url}: no answer ({getattr(exc, 'reason', exc)})") from None
    duration = (time.perf_counter() - start) * 1000
    return HttpAnswer(status, {k.lower(): v for k, v in found.items()}, raw.decode("utf-8", "replace"), duration)
