"""The bootstrap stub: what an environment's function runs before its first promotion.

CloudFormation needs some code to create a function, and the Go artifact may not exist
yet. The stub is a tiny Python zip staged to S3 like any artifact (never inline `ZipFile`:
the emulator cannot update stacks with inline code, and inline code would drift from the
staged-artifact path). It answers every request with 503 `{"status": "not deployed"}` so
smoke tests and `/health` checks fail loudly until a real artifact is promoted.
"""

from __future__ import annotations

import hashlib
import io
import zipfile

STUB_RUNTIME = "python3.12"
STUB_HANDLER = "index.handler"

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o100644  # regular file, rw-r--r--

STUB_SOURCE = '''"""Placeholder function installed by `pipeline bootstrap`: nothing has been promoted here yet."""

import json


def handler(event, context):
    return {
        "statusCode": 503,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"status": "not deployed"}),
        "isBase64Encoded": False,
    }
'''


def stub_zip() -> bytes:
    """The stub as deterministic zip bytes (sorted entries, fixed timestamps and modes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in sorted({"index.py": STUB_SOURCE.encode()}.items()):
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.create_system = 3
            info.external_attr = _FILE_MODE << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data, compresslevel=9)
    return buffer.getvalue()


def stub_sha256() -> str:
    """Hex digest of `stub_zip()`: its artifact id (S3 key `artifacts/<name>/<sha256>.zip`)."""
    return hashlib.sha256(stub_zip()).hexdigest()
