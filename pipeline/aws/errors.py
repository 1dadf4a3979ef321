"""The one place that reads botocore's `ClientError`: its error code, message and HTTP status.

Every adapter asks these instead of digging in `exc.response` (which may lack any of the keys:
a proxy's answer, an emulator's 500 page, a Stubber error without a message).
"""

from __future__ import annotations

from botocore.exceptions import ClientError


def error_code(exc: ClientError, default: str = "") -> str:
    """AWS's error code (`AccessDenied`, `NoSuchKey`, `404` for a HEAD ...), or `default`."""
    return str(exc.response.get("Error", {}).get("Code") or default)


def error_message(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message") or "")


def http_status(exc: ClientError) -> int:
    """The HTTP status of the answer, 0 when botocore did not record one."""
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def describe(exc: ClientError) -> str:
    """`Code: Message` on one line (`Error` when there is no code; no trailing colon without a message)."""
    return f"{error_code(exc, 'Error')}: {error_message(exc)}".rstrip(": ")
