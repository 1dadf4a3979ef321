"""Find the exact code an invoke names, in moto's in-process Lambda backend.

moto stores `$LATEST` as one `LambdaFunction` and each published version as a shallow copy of
it taken at publish time; `update_function_code` rebinds `code_bytes` on `$LATEST` only, so a
version keeps its own zip bytes, environment and settings. Aliases are separate objects that
name a version plus optional routing weights, which moto stores but never applies: we do.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass, field
from typing import Any

_ARN = re.compile(r"^arn:(?P<partition>[\w-]+):lambda:(?P<region>[\w-]+):(?P<account>\d{12}):function:"
                  r"(?P<name>[^:]+)(?::(?P<qualifier>[^:]+))?$")
_PARTIAL_ARN = re.compile(r"^(?P<account>\d{12}):function:(?P<name>[^:]+)(?::(?P<qualifier>[^:]+))?$")
_RNG = random.Random()
_NAME = re.compile(r"^(?P<name>[^:]+)(?::(?P<qualifier>[^:]+))?$")


class InvokeError(Exception):
    """An error Lambda's API itself returns (not the function's): status + x-amzn-ErrorType."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message

    def body(self) -> bytes:
        # The shape real Lambda sends; botocore reads the code from the x-amzn-ErrorType header.
        return json.dumps({"Type": "User", "message": self.message}).encode()


@dataclass(frozen=True)
class FunctionCode:
    """A snapshot of one function version: everything needed to run it."""

    account: str
    region: str
    name: str
    version: str                      # "$LATEST" or "3": what X-Amz-Executed-Version reports
    code: bytes = field(repr=False)
    code_sha256: str                  # base64, as Lambda's CodeSha256
    runtime: str
    handler: str
    environment: dict[str, str]
    memory_mb: int
    timeout_s: float
    architecture: str                 # "x86_64" or "arm64"
    package_type: str
    role: str = ""                    # the execution role's ARN (execrole.py assumes it)

    def identity(self) -> tuple[str, str, str, str]:
        return (self.account, self.region, self.name, self.version)

    def fingerprint(self) -> str:
        """Changes when the code or any setting a running process depends on changes."""
        settings = [self.code_sha256, self.runtime, self.handler, self.environment, self.memory_mb,
                    self.architecture, self.package_type, self.role]
        return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Target:
    """What an invoke resolved to: the code to run and the ARN the caller used."""

    code: FunctionCode
    invoked_arn: str


def function_arn(region: str, account: str, name: str, qualifier: str | None = None) -> str:
    from moto.awslambda.utils import make_function_arn

    arn = make_function_arn(region, account, name)
    return f"{arn}:{qualifier}" if qualifier else arn


def parse_function_ref(ref: str, caller_account: str, region: str) -> tuple[str, str, str | None]:
    """(account, name, qualifier) from a name, `name:qualifier`, a partial ARN or a full ARN."""
    for pattern in (_ARN, _PARTIAL_ARN, _NAME):
        match = pattern.match(ref)
        if match is None:
            continue
        parts = match.groupdict()
        if parts.get("region") and parts["region"] != region:
            message = f"Functions from '{parts['region']}' are not reachable in this region ('{region}')"
            raise InvokeError(400, "InvalidParameterValueException", message)
        return parts.get("account") or caller_account, parts["name"], parts["qualifier"]
    raise InvokeError(400, "ValidationException", f"1 validation error detected: Value '{ref}' at "
                      "'functionName' failed to satisfy constraint: Member must satisfy regular expression "
                      "pattern")


def resolve(ref: str, qualifier: str | None, caller_account: str, region: str,
            rng: random.Random | None = None) -> Target:
    """The version `ref` + `qualifier` names right now (alias weights applied with `rng`)."""
    account, name, ref_qualifier = parse_function_ref(ref, caller_account, region)
    if ref_qualifier and qualifier and ref_qualifier != qualifier:
        raise InvokeError(400, "InvalidParameterValueException",
                          "The derived qualifier from the function name does not match the specified "
                          "qualifier.")
    qualifier = ref_qualifier or qualifier
    invoked_arn = function_arn(region, account, name, qualifier)
    not_found = InvokeError(404, "ResourceNotFoundException", f"Function not found: {invoked_arn}")

    from moto.awslambda.exceptions import LambdaClientError
    from moto.awslambda.models import lambda_backends

    try:
        backend = lambda_backends[account][region]
        version = qualifier or "$LATEST"
        if not version.isdigit() and version != "$LATEST":
            alias = backend.get_alias(version, name)
            version = _pick_version(str(alias.function_version), alias.routing_config, rng or _RNG)
        fn = backend.get_function(name, version)
    except (LambdaClientError, KeyError):
        raise not_found from None
    return Target(_snapshot(account, region, fn), invoked_arn)


def _pick_version(primary: str, routing: Any, rng: random.Random) -> str:
    """Alias traffic shifting: each additional version gets its weight's share of invokes."""
    weights = (routing or {}).get("AdditionalVersionWeights") or {}
    draw = rng.random()
    for version, weight in weights.items():
        if draw < float(weight):
            return str(version)
        draw -= float(weight)
    return primary


def _snapshot(account: str, region: str, fn: Any) -> FunctionCode:
    return FunctionCode(
        account=account,
        region=region,
        name=fn.function_name,
        version=str(fn.version),
        code=bytes(getattr(fn, "code_bytes", b"") or b""),
        code_sha256=getattr(fn, "code_sha_256", "") or "",
        runtime=fn.run_time or "",
        handler=fn.handler or "",
        environment={str(k): str(v) for k, v in (fn.environment_vars or {}).items()},
        memory_mb=int(fn.memory_size),
        timeout_s=float(fn.timeout),
        architecture=(fn.architectures or ["x86_64"])[0],
        package_type=fn.package_type or "Zip",
        role=str(getattr(fn, "role", "") or ""),
    )
