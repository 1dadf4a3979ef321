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


@dataclass(frozen=True)
class PolicyStatement:
    """An extra IAM statement for the function's execution role."""

    actions: list[str]
    resources: list[str]
    effect: Literal["Allow", "Deny"] = "Allow"


@dataclass(frozen=True)
class FunctionSettings:
    memory: int = 128
    timeout: int = 10
    architecture: Literal["x86_64", "arm64"] = "x86_64"
    environment: dict[str, str] = field(default_factory=dict)
    log_retention_days: int = 14
    policy_statements: list[PolicyStatement] = field(default_factory=list)


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
class SmokeCase:
    name: str
    event: dict[str, Any] | None = None
    path: str | None = None
    expect: SmokeExpect = field(default_factory=SmokeExpect)


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
    # the line of each top-level key as written (absent: not written), for checks made after loading
    lines: dict[str, int] = field(default_factory=dict, compare=False, metadata={"derived": True})
