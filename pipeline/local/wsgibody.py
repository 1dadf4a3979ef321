"""Request bodies in the emulator's WSGI layers: a layer that answers before moto (a 403 or a 409) must
first read what the client sent, or over TLS the client sees a reset (SSL EOF) instead of the answer."""

from __future__ import annotations

from typing import Any


def drain(environ: dict[str, Any]) -> None:
    """Read and drop the request body (Content-Length or chunked); a broken stream is ignored."""
    stream = environ.get("wsgi.input")
    length = environ.get("CONTENT_LENGTH") or ""
    try:
        if length.isdigit():
            remaining = int(length)
            while remaining > 0:
                chunk = stream.read(min(remaining, 1 << 16))
                if not chunk:
                    break
                remaining -= len(chunk)
        elif environ.get("wsgi.input_terminated"):
            while stream.read(1 << 16):
                pass
    except (OSError, ValueError, AttributeError):
        pass
