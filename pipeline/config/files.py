"""Typed models of the environment files as written (pydantic); the JSON Schema is generated from these. The
merged configuration is `pipeline.config.merged`. Strict (no coercion, unknown keys rejected): `memory: "128"`
or `account: 111111111111` are mistakes to report."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from pipeline.config.function_fields import (
    LOG_RETENTION_DAYS as LOG_RETENTION_DAYS,  # re-exported: they were defined here
)
from pipeline.config.function_fields import RESERVED_VARIABLES as RESERVED_VARIABLES
from pipeline.config.function_fields import (
    FunctionDeclaration,
    FunctionKey,
    FunctionOverride,
    reserved_problem,
    retention_problem,
)
from pipeline.config.policy_fields import PolicyStatement
from pipeline.config.sandbox_fields import SandboxGuardrails
from pipeline.config.smoke_fields import HttpRequest as HttpRequest  # re-exported: plain.py maps files.*
from pipeline.config.smoke_fields import SmokeCase
from pipeline.config.smoke_fields import SmokeExpect as SmokeExpect
from pipeline.config.values import FREEZE_RE

_ACCOUNT_RE = re.compile(r"[0-9]{12}")


def _timezone(value: Any) -> Any:
    if isinstance(value, str):
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like Europe/Berlin or UTC)") from None
    return value


TimeZone = Annotated[str, BeforeValidator(_timezone), Field(description="IANA time zone, e.g. Europe/Berlin")]


def _account(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"must be a 12-digit string, got {type(value).__name__}")
    if isinstance(value, int):
        raise ValueError(f"must be a 12-digit string, got int {value} (quote it; YAML drops leading zeros)")
    if not _ACCOUNT_RE.fullmatch(value):
        raise ValueError(f"must be a 12-digit string, got {value!r}")
    return value


AccountId = Annotated[str, BeforeValidator(_account), Field(pattern=r"^[0-9]{12}$",
                                                           description="12-digit AWS account id, quoted")]
Region = Annotated[str, Field(pattern=r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$", description="AWS region")]
RoleName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_+=,.@-]{1,64}$", description="IAM role name (not an ARN)")]
RoleArn = Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]{1,128}$")]
OperatorArn = Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[A-Za-z0-9_+=,.@/-]{1,128}$")]
EnvName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,19}$")]
# STS's own rule for ExternalId: checked here so a newline or a space is exit 2, not a failed AssumeRole.
ExternalId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_+=,.@:/-]+$", min_length=2, max_length=1224,
                                  description="sts:ExternalId (2-1224 characters of [A-Za-z0-9_+=,.@:/-])")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class FunctionSettings(Strict):
    memory: int = Field(128, ge=128, le=10240, description="MB")
    timeout: int = Field(10, ge=1, le=900, description="seconds")
    architecture: Literal["x86_64", "arm64"] = "x86_64"
    environment: dict[Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")], str] = Field(default_factory=dict)
    log_retention_days: int = 14
    policy_statements: list[PolicyStatement] = Field(default_factory=list)

    @field_validator("environment")
    @classmethod
    def _not_reserved(cls, value: dict[str, str]) -> dict[str, str]:
        problem = reserved_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        problem = retention_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class FunctionDefaults(Strict):
    """`function:` in pipeline.yml or an env file: every key optional, merged per key."""

    memory: int | None = Field(None, ge=128, le=10240)
    timeout: int | None = Field(None, ge=1, le=900)
    architecture: Literal["x86_64", "arm64"] | None = None
    environment: dict[str, str] | None = None
    log_retention_days: int | None = None
    policy_statements: list[PolicyStatement] | None = None


class Tooling(Strict):
    account: AccountId
    region: Region | None = None
    role: RoleName | None = Field(None, description="role to assume in the tooling account first (optional hop)")
    external_id: ExternalId | None = None
    operators: list[OperatorArn] = Field(default_factory=list, description="who may assume `role` besides CodeBuild")


class Gates(Strict):
    requires: EnvName | None = Field(None, description="env whose passed smoke record this digest needs")
    approval: bool = False
    clean: bool = Field(False, description="refuse artifacts built from a dirty work tree (approval envs always do)")
    freeze: list[Annotated[str, Field(pattern=FREEZE_RE.pattern)]] = Field(
        default_factory=list, description='windows like "Fri 15:00-Mon 08:00" in the env timezone')
    alarms: list[str] = Field(default_factory=list, description="CloudWatch alarm names (in each target's account "
                              "and region) that must not be in ALARM; the function stack creates <name>-<env>-errors")


class Canary(Strict):
    percent: int = Field(ge=1, le=99)
    bake_seconds: int = Field(60, ge=0, le=3600)


class Strategy(Strict):
    canary: Canary | None = None

    @model_validator(mode="before")
    @classmethod
    def _named(cls, value: Any) -> Any:
        if value == "all_at_once":
            return {}
        if isinstance(value, str):
            raise ValueError(f"unknown strategy {value!r}: use all_at_once or {{canary: {{percent, bake_seconds}}}}")
        return value


class TargetEntry(Strict):
    """One `targets:` entry of an env file (the merged config turns it into a `merged.Target`)."""
    account: AccountId
    region: Region | None = None


class EnvironmentFile(Strict):
    """One pipeline environment (`environments/<env>.yml`), after merging pipeline defaults."""

    account: AccountId | None = None
    region: Region | None = None
    deploy_role: RoleName = "pipeline-deploy"
    admin_role: RoleName = Field("OrganizationAccountAccessRole",
                                 description="role `pipeline bootstrap` assumes to deploy the account's target stack "
                                             "(which creates deploy_role)")
    external_id: ExternalId | None = None
    protect: bool = False
    timezone: TimeZone = "UTC"
    gates: Gates = Field(default_factory=Gates)
    strategy: Strategy = Field(default_factory=Strategy)
    smoke: list[SmokeCase] = Field(default_factory=list)
    function: FunctionSettings = Field(default_factory=FunctionSettings)
    functions: dict[FunctionKey, FunctionOverride] = Field(
        default_factory=dict, description="this env's settings of functions pipeline.yml declares (merged per key)")
    targets: list[TargetEntry] = Field(default_factory=list, description="several account/region targets (a wave)")
    wave_size: int = Field(5, ge=1, le=100)
    keep_versions: int = Field(10, ge=1, le=10000,
                               description="published versions kept after a promotion (older ones are deleted "
                                           "unless an alias or the ledger's last good needs them)")
    promoters: list[RoleArn] = Field(default_factory=list,
                                     description="extra role ARNs allowed to assume the deploy role")

    @model_validator(mode="after")
    def _where(self) -> EnvironmentFile:
        if self.account is None and not self.targets:
            raise ValueError("give account (or a targets list)")
        if self.account is not None and self.targets:
            raise ValueError("give either account or targets, not both")
        return self


class EnvironmentDefaults(Strict):
    """`defaults:` in pipeline.yml: env keys every env file inherits (maps merge, the rest replace)."""

    deploy_role: RoleName | None = None
    admin_role: RoleName | None = None
    external_id: ExternalId | None = None
    protect: bool | None = None
    timezone: str | None = None
    gates: dict[str, Any] | None = None
    strategy: dict[str, Any] | str | None = None
    smoke: list[dict[str, Any]] | None = None
    wave_size: int | None = Field(None, ge=1, le=100)
    keep_versions: int | None = Field(None, ge=1, le=10000)
    promoters: list[RoleArn] | None = None


class S3Source(Strict):
    """The pipeline's source: a zip of the repository (with its .git) in S3. Default: the artifact bucket."""

    type: Literal["s3"]
    bucket: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")] | None = Field(
        None, description="versioned bucket with EventBridge notifications (default: the artifact bucket)")
    key: Annotated[str, Field(pattern=r"^[^\s*?]+$", max_length=1024)] | None = Field(
        None, description="object key of the source zip (default: source/<name>.zip)")


class CodeConnectionsSource(Strict):
    """The pipeline's source: a repository through an AWS CodeConnections connection (full clone)."""

    type: Literal["codeconnections"]
    connection_arn: Annotated[str, Field(
        pattern=r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[A-Za-z0-9-]+$")]
    repository: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", description="owner/name")]
    branch: Annotated[str, Field(pattern=r"^[^\s~^:?*\[\\]+$", max_length=255)] = "main"


PipelineSource = Annotated[S3Source | CodeConnectionsSource, Field(discriminator="type")]


class PipelineFile(Strict):
    """`environments/pipeline.yml`: the global settings."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,23}$", description="function/pipeline name")]
    region: Region
    tooling: Tooling
    order: list[EnvName] = Field(min_length=1, description="stage order, first to last")
    function: FunctionDefaults = Field(default_factory=FunctionDefaults)
    functions: dict[FunctionKey, FunctionDeclaration] | None = Field(
        None, description="the service's functions, all served by the one binary (none: the one-function service, "
                          "`function:`); `function:` holds the defaults each starts from")
    defaults: EnvironmentDefaults = Field(default_factory=EnvironmentDefaults)
    timezone: TimeZone = "UTC"
    go_dir: str = Field("go-function", min_length=1, description="the Go module (its go.mod) that build and "
                        "sandbox deploy compile, relative to the folder holding environments/")
    source: PipelineSource | None = Field(
        None, description="what the CodePipeline builds: {type: s3, bucket, key} or "
                          "{type: codeconnections, connection_arn, repository, branch} (default: s3 in the artifact "
                          "bucket, key source/<name>.zip)")
    build_tests: bool = Field(True, description="the pipeline's Build action runs the repository's tests (ruff, "
                              "pytest, go test) before it builds; false: it only builds (PIPELINE_SKIP_TESTS=1)")

    @field_validator("order")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        seen = [name for i, name in enumerate(value) if name in value[:i]]
        if seen:
            raise ValueError(f"lists {seen[0]!r} twice")
        return value

    @field_validator("functions")
    @classmethod
    def _some(cls, value: dict[str, FunctionDeclaration] | None) -> dict[str, FunctionDeclaration] | None:
        if value is not None and not value:
            raise ValueError("declares no function: list at least one, or remove functions: for the one-function "
                             "service")
        return value


class SandboxFile(SandboxGuardrails, Strict):
    """`environments/sandbox.yml`: settings for developer sandboxes (never an account)."""

    region: Region | None = None
    ttl_days: int = Field(7, ge=1, le=90)
    deploy_role: RoleName | None = None
    function: FunctionDefaults = Field(default_factory=FunctionDefaults)
    smoke: list[SmokeCase] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _no_account(cls, value: Any) -> Any:
        if isinstance(value, dict) and ("account" in value or "targets" in value):
            raise ValueError("a sandbox names no account: it deploys into the caller's own account")
        return value
