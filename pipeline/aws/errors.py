"""The one place that reads botocore's `ClientError`: its error code, message and HTTP status.

Every adapter asks these instead of digging in `exc.response` (which may lack any of the keys:
a proxy's answer, an emulator's 500 page, a Stubber error without a message).
"""

from __future__ import annotations

from collections.abc import Mapping

from botocore.exceptions import ClientError, ConnectionClosedError
from botocore.exceptions import ConnectionError as BotoConnectionError

# what to do when no credentials are found: real AWS, or the emulator
NO_CREDENTIALS = ("no AWS credentials found: use --profile, AWS_* variables or an instance role (for the embedded "
                  "emulator: --local, or `pipeline local up` and its export lines)")


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


def describe_connection(exc: Exception, environ: Mapping[str, str]) -> str | None:
    """Nothing answered at the endpoint: the likely cause and the next command (None: not a connection error).

    The usual case is an AWS_ENDPOINT_URL left over from a `pipeline local up` that has stopped.
    """
    if not isinstance(exc, (BotoConnectionError, ConnectionClosedError)):
        return None
    url = str(getattr(exc, "kwargs", {}).get("endpoint_url") or "the endpoint")
    configured = environ.get("AWS_ENDPOINT_URL")
    if configured:
        return (f"cannot reach AWS at {url}: nothing answers at AWS_ENDPOINT_URL={configured}; if that was a "
                "`pipeline local up`, start it again and paste its export lines (or use --local), or unset "
                "AWS_ENDPOINT_URL to use real AWS")
    return (f"cannot reach AWS at {url}: check the network, a proxy (HTTPS_PROXY) and the region; for the "
            "embedded emulator use --local or `pipeline local up`")
