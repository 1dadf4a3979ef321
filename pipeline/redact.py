"""Keep credentials out of what the CLI prints about errors (messages, JSON documents, -v tracebacks).

An exception's text is not ours: botocore, a proxy or a library may quote a request, a header or
the credentials themselves. Before an error is shown, the values of the credential variables in the
environment, anything shaped like an AWS access key id, and AWS/STS session tokens are masked.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

SECRET_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
_KEY_ID = re.compile(r"\b(AKIA|ASIA|AROA|AIDA)[A-Z0-9]{16}\b")
# STS session tokens are long base64 runs; real ones start "IQoJb3JpZ2lu", moto's "FQoGZXIvYXdz".
_TOKEN = re.compile(r"(IQoJb3JpZ2lu|FQoGZXIvYXdz)[A-Za-z0-9+/=]*")
_SECRET_NEAR_WORD = re.compile(r"(?i)(secret[\w-]*[\"']?\s*[:=]\s*[\"']?)([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])")


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    for name in SECRET_VARIABLES:
        value = environ.get(name)
        if value and len(value) >= 12:  # short values (the emulator's "testing") are no secret and too common
            text = text.replace(value, f"<{name}>")
    text = _TOKEN.sub("<session token>", text)
    text = _KEY_ID.sub(lambda m: m.group(1) + "*" * 16, text)
    return _SECRET_NEAR_WORD.sub(lambda m: m.group(1) + "<secret>", text)
