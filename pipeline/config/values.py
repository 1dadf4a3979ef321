"""Plain frozen values of the merged configuration's parts (gates, strategy, smoke cases, function settings).

The file models (`config/files.py`, pydantic) check what was written; these carry the checked result to the
rest of the product. Keeping them plain means a command that reads a cached, already validated
configuration (`config/cache.py`) never imports pydantic or builds its models. Field names and defaults
are the file models' (`tests/config/test_values.py` holds the two in step).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

FREEZE_RE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([01]\d|2[0-3]):([0-5]\d)-(Mon|Tue|Wed|Thu|Fri|Sat|Sun) "
    r"([01]\d|2[0-3]):([0-5]\d)$"
)

# `functions:` keys and handler names (the file models' patterns; config/wording.py words them)
FUNCTION_KEY = r"^[a-z][a-z0-9-]*$"
HANDLER = r"^[A-Za-z0-9_.-]{1,128}$"


@dataclass(frozen=True)
class PolicyStatement:
    """An extra IAM statement for the function's execution role."""

    actions: list[str]
    resources: list[str]
    effect: Literal["Allow", "Deny"] = "Allow"


@dataclass(frozen=True)
class Route:
    """One route of the env's HTTP API (API Gateway HTTP API route key `METHOD /path`, or `$default`)."""

    method: str  # GET POST PUT PATCH DELETE HEAD OPTIONS or ANY; "" for $default
    path: str  # "/hello/{name}", "/files/{proxy+}"; "$default" for the catch-all route

    @property
    def key(self) -> str:
        """The route key as API Gateway writes it: "GET /hello/{name}" or "$default"."""
        return self.path if self.path == DEFAULT_ROUTE else f"{self.method} {self.path}"


DEFAULT_ROUTE = "$default"


# the fields after policy_statements are not in `function:` (files.FunctionSettings): the loader fills them
# from `functions.<key>` (the one-function service keeps these defaults)
_FROM_FUNCTIONS = {"derived": True}


@dataclass(frozen=True)
class FunctionSettings:
    memory: int = 128
    timeout: int = 10
    architecture: Literal["x86_64", "arm64"] = "x86_64"
    environment: dict[str, str] = field(default_factory=dict)
    log_retention_days: int = 14
    policy_statements: list[PolicyStatement] = field(default_factory=list)
    handler: str = field(default="bootstrap", metadata=_FROM_FUNCTIONS)  # the name the binary serves
    reserved_concurrency: int | None = field(default=None, metadata=_FROM_FUNCTIONS)  # None: unreserved
    routes: tuple[Route, ...] = field(default=(), metadata=_FROM_FUNCTIONS)  # its routes of the env's HTTP API
    schedule: str | None = field(default=None, metadata=_FROM_FUNCTIONS)  # EventBridge rate(...) / cron(...)


@dataclass(frozen=True)
class FunctionDefaults:
    """`function:` keys as written (None: not set), e.g. sandbox.yml's, merged per key later."""

    memory: int | None = None
    timeout: int | None = None
    architecture: Literal["x86_64", "arm64"] | None = None
    environment: dict[str, str] | None = None
    log_retention_days: int | None = None
    policy_statements: list[PolicyStatement] | None = None


@dataclass(frozen=True)
class Gates:
    requires: str | None = None
    approval: bool = False
    freeze: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)
    clean: bool = False  # refuse dirty builds here too (approval envs always do)


@dataclass(frozen=True)
class Canary:
    percent: int
    bake_seconds: int = 60


@dataclass(frozen=True)
class Strategy:
    canary: Canary | None = None


@dataclass(frozen=True)
class SmokeExpect:
    statusCode: int | None = None  # the Lambda response key, as written
    body_json: dict[str, Any] | list[Any] | None = None
    body_regex: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    max_duration_ms: int | None = None


@dataclass(frozen=True)
class HttpRequest:
    """A smoke case sent over HTTP to the env's HTTP API (path may carry a query string)."""

    method: str  # GET POST PUT PATCH DELETE HEAD OPTIONS
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None


@dataclass(frozen=True)
class SmokeCase:
    name: str
    event: dict[str, Any] | None = None
    path: str | None = None
    expect: SmokeExpect = field(default_factory=SmokeExpect)
    # the function key (`functions:`) an event/path case invokes, or the one an http case's route reaches;
    # filled in by validation in a multi-function service, None in the one-function service
    function: str | None = None
    http: HttpRequest | None = None


@dataclass(frozen=True)
class S3Source:
    """The pipeline's source: a zip of the repository in S3 (None: the artifact bucket / source/<name>.zip)."""

    type: Literal["s3"] = "s3"
    bucket: str | None = None
    key: str | None = None


@dataclass(frozen=True)
class CodeConnectionsSource:
    """The pipeline's source: a repository through an AWS CodeConnections connection."""

    connection_arn: str
    repository: str
    type: Literal["codeconnections"] = "codeconnections"
    branch: str = "main"


@dataclass(frozen=True)
class SandboxSettings:
    """`environments/sandbox.yml`: settings for developer sandboxes."""

    region: str | None = None
    ttl_days: int = 7
    deploy_role: str | None = None
    function: FunctionDefaults = field(default_factory=FunctionDefaults)
    smoke: list[SmokeCase] = field(default_factory=list)
    budget_usd: float = 20
    budget_emails: list[str] = field(default_factory=list)
    budget_sns_topic: str | None = None
    allowed_services: list[str] | None = None
    require_boundary: bool = False
    run_schedules: bool = False  # a service's schedule rules ENABLED in the sandbox (default: DISABLED)
    # the line of each top-level key as written (absent: not written), for checks made after loading
    lines: dict[str, int] = field(default_factory=dict, compare=False, metadata={"derived": True})
