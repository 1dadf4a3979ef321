"""Smoke cases as written (pydantic): an invocation (`event` or `path`) or an HTTP request to the env's HTTP
API (`http`), optionally naming the function (`functions:` key) it is meant for. Which function a case
reaches and whether an `http` case meets a route is checked against the merged functions
(`config/service_checks.py`)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipeline.config.function_fields import FunctionKey

_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True)
RequestPath = Annotated[str, Field(pattern=r"^/[^\s]*$")]


class SmokeExpect(BaseModel):
    model_config = _STRICT

    statusCode: int | None = Field(None, ge=100, le=599)  # the Lambda response key, as written
    body_json: dict[str, Any] | list[Any] | None = None
    body_regex: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    max_duration_ms: int | None = Field(None, ge=1)

    @field_validator("body_regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value


class HttpRequest(BaseModel):
    """A request sent over HTTP to the env's HTTP API."""

    model_config = _STRICT

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    path: RequestPath = Field(description="request path, may carry a query string (like /hello/bob?x=1)")
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None


class SmokeCase(BaseModel):
    model_config = _STRICT

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")]
    event: dict[str, Any] | None = None
    path: RequestPath | None = Field(None, description="shortcut for a GET event with this rawPath (and query string)")
    expect: SmokeExpect = Field(default_factory=SmokeExpect)
    function: FunctionKey | None = Field(
        None, description="the function (functions: key) this case is for (default: the one with http routes)")
    http: HttpRequest | None = Field(None, description="send this request to the env's HTTP API instead of invoking")

    @model_validator(mode="after")
    def _one_source(self) -> SmokeCase:
        if self.http is not None and (self.event is not None or self.path is not None):
            raise ValueError("give either http (a request to the HTTP API) or event/path (an invocation), not both")
        if self.http is None and (self.event is None) == (self.path is None):
            if self.event is None:
                raise ValueError("give exactly one of event, path or http")
            raise ValueError("give exactly one of event or path")
        return self
