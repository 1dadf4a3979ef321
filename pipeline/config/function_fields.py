"""`functions:` as written (pydantic): each function of the service, all served by the one Go binary.

pipeline.yml declares them (`FunctionDeclaration`: `handler` required); an env file may set any key of a
declared one (`FunctionOverride`). Route keys (`http`) and schedules are parsed here by `config/routes.py`
and `config/schedule.py`, so a bad one is a config error at its own line. The merged settings of one
function in one env are checked by `config/functions.py`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from pipeline.config.policy_fields import PolicyStatement
from pipeline.config.routes import parse_route
from pipeline.config.schedule import schedule_problem
from pipeline.config.values import FUNCTION_KEY, HANDLER

FunctionKey = Annotated[str, Field(pattern=FUNCTION_KEY, description="function key; the Lambda function is "
                                   "<name>-<env>-<key>")]
Handler = Annotated[str, Field(pattern=HANDLER, description="the handler name the binary serves")]
MAX_RESERVED_CONCURRENCY = 1000
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
                      2557, 2922, 3288, 3653)
# Lambda refuses these as function environment variables (it sets them itself).
RESERVED_VARIABLES = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"})
EnvironmentName = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")]


def reserved_problem(value: dict[str, str]) -> str | None:
    """A variable Lambda sets itself, named (files.FunctionSettings and FunctionOverride refuse it)."""
    reserved = sorted(set(value) & RESERVED_VARIABLES)
    return f"{reserved[0]} is reserved: Lambda sets it itself" if reserved else None


def retention_problem(value: int) -> str | None:
    if value not in LOG_RETENTION_DAYS:
        return f"must be one of CloudWatch Logs' values {', '.join(map(str, LOG_RETENTION_DAYS))}"
    return None


def _route(value: str) -> str:
    parse_route(value)  # RouteProblem is a ValueError: pydantic reports its message at the item's line
    return value


def _schedule(value: str) -> str:
    problem = schedule_problem(value)
    if problem:
        raise ValueError(problem)
    return value


RouteKey = Annotated[str, AfterValidator(_route)]
Schedule = Annotated[str, AfterValidator(_schedule)]


class FunctionOverride(BaseModel):
    """`functions.<key>` in an env file: every key optional, merged per key over pipeline.yml's."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    handler: Handler | None = None
    memory: int | None = Field(None, ge=128, le=10240, description="MB")
    timeout: int | None = Field(None, ge=1, le=900, description="seconds")
    architecture: Literal["x86_64", "arm64"] | None = Field(
        None, description="must be the service's (function.architecture): one binary serves every function")
    environment: dict[EnvironmentName, str] | None = None
    log_retention_days: int | None = None
    policy_statements: list[PolicyStatement] | None = None
    reserved_concurrency: int | None = Field(
        None, ge=0, le=MAX_RESERVED_CONCURRENCY, description="reserved concurrent executions (0: throttled, never "
                                                              "runs; unset: the account's unreserved pool)")
    http: list[RouteKey] | None = Field(None, description='routes of the env\'s HTTP API it serves, like '
                                                          '"GET /hello/{name}", "ANY /files/{proxy+}" or $default')
    schedule: Schedule | None = Field(None, description="EventBridge schedule: rate(5 minutes) or "
                                                        "cron(0 12 * * ? *)")

    @field_validator("environment")
    @classmethod
    def _not_reserved(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        problem = reserved_problem(value or {})
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int | None) -> int | None:
        problem = retention_problem(value) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value


class FunctionDeclaration(FunctionOverride):
    """`functions.<key>` in pipeline.yml: a function of the service (`handler` required)."""

    handler: Handler
