"""`functions:` as written (pydantic): each function of the service, all served by the one Go binary.

pipeline.yml declares them (`FunctionDeclaration`: `handler` required); an env file may set any key of a
declared one (`FunctionOverride`). Route keys (`http`) and schedules are parsed here by `config/routes.py`
and `config/schedule.py`, so a bad one is a config error at its own line. The merged settings of one
function in one env are checked by `config/functions.py`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from pipeline.config.policy_fields import PolicyStatement
from pipeline.config.routes import parse_route
from pipeline.config.schedule import schedule_problem
from pipeline.config.values import FUNCTION_KEY, HANDLER

FunctionKey = Annotated[str, Field(pattern=FUNCTION_KEY, description="function key; the Lambda function is "
                                   "<name>-<env>-<key>")]
Handler = Annotated[str, Field(pattern=HANDLER, description="the handler name the binary serves")]
MAX_RESERVED_CONCURRENCY = 1000


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
    environment: dict[str, str] | None = None
    log_retention_days: int | None = None
    policy_statements: list[PolicyStatement] | None = None
    reserved_concurrency: int | None = Field(
        None, ge=0, le=MAX_RESERVED_CONCURRENCY, description="reserved concurrent executions (0: throttled, never "
                                                              "runs; unset: the account's unreserved pool)")
    http: list[RouteKey] | None = Field(None, description='routes of the env\'s HTTP API it serves, like '
                                                          '"GET /hello/{name}", "ANY /files/{proxy+}" or $default')
    schedule: Schedule | None = Field(None, description="EventBridge schedule: rate(5 minutes) or "
                                                        "cron(0 12 * * ? *)")


class FunctionDeclaration(FunctionOverride):
    """`functions.<key>` in pipeline.yml: a function of the service (`handler` required)."""

    handler: Handler
