"""One AWS JSON-protocol call (X-Amz-Target: `<Service_version>.<Operation>`) read by an emulator layer.

The layers that answer some operations of a JSON service themselves (CodeBuild's builds, CodePipeline's
executions) read a request the same way: the operation from X-Amz-Target, the body (put back for moto when
the layer passes the call on), the account and region moto would act in (`caller`), the caller's access
key and, through the IAM layer's principals, the caller's ARN. `answer` writes the JSON reply
(application/x-amz-json-1.1) and `error` the shape botocore reads an error code from (`__type`).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")


@dataclass(frozen=True)
class JsonCall:
    operation: str
    body: bytes
    account: str
    region: str
    access_key: str
    environ: dict[str, Any]

    def params(self) -> dict[str, Any]:
        """The request's JSON object (ValueError when the body is not JSON, TypeError when not an object)."""
        found = json.loads(self.body or b"{}")
        if not isinstance(found, dict):
            raise TypeError("the request body is not a JSON object")
        return found

    def header(self, name: str) -> str | None:
        """A request header by its HTTP name (`X-Emulator-Events`)."""
        return self.environ.get("HTTP_" + name.upper().replace("-", "_"))

    def caller_arn(self) -> str:
        """The caller's ARN (a user's, or an assumed role session's), "unknown" for keys nobody holds."""
        from pipeline.local.authz import principals

        identity = principals.resolve(self.access_key)
        return identity.principal.arn if identity is not None else "unknown"


def read(environ: dict[str, Any], target_prefix: str, operations: Iterable[str]) -> JsonCall | None:
    """The call when its operation is one of `operations` of the service `target_prefix`, else None (the
    request is left untouched for the next layer)."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    operation = target.removeprefix(target_prefix) if target.startswith(target_prefix) else ""
    if operation not in operations:
        return None
    from pipeline.local import caller

    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
    headers["Authorization"] = environ.get("HTTP_AUTHORIZATION", "")
    credential = _CREDENTIAL.search(headers["Authorization"])
    return JsonCall(operation, body, caller.account(headers, environ.get("QUERY_STRING", "")),
                    caller.region(headers, environ.get("HTTP_HOST", "")),
                    credential.group(1) if credential else "", environ)


def error(code: str, message: str) -> dict[str, str]:
    return {"__type": code, "message": message}


def answer(start_response: Callable[..., Any], status: str, payload: dict[str, Any]) -> list[bytes]:
    data = json.dumps(payload, default=str).encode()
    start_response(status, [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(data)))])
    return [data]
