"""An extra IAM statement in the config (`function.policy_statements`), as written, checked against IAM's
action data (`pipeline.infra.iamactions`, the data the emulator authorizes with): an action AWS does not
have or a resource that is not an ARN is a config error (exit 2) naming the field, never a policy the
emulator or IAM reads as something else. Kept apart so files.py stays one screenful per model."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class PolicyStatement(BaseModel):
    """An extra IAM statement for the function's execution role."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    effect: Literal["Allow", "Deny"] = "Allow"
    actions: list[Annotated[str, Field(pattern=r"^[a-z0-9-]+:[A-Za-z0-9*]+$")]] = Field(min_length=1)
    resources: list[str] = Field(min_length=1)

    @field_validator("actions")
    @classmethod
    def _no_wildcard_service(cls, value: list[str]) -> list[str]:
        for action in value:
            if action.split(":", 1)[1] == "*":
                raise ValueError(f"action {action!r} grants a whole service; name the actions")
        from pipeline.infra import iamactions  # IAM's action data, the same the emulator authorizes with

        for action in value:
            problem = iamactions.action_problem(action)
            if problem:
                raise ValueError(problem)
        return value

    @field_validator("resources")
    @classmethod
    def _arns(cls, value: list[str]) -> list[str]:
        from pipeline.infra import iamactions

        for resource in value:
            problem = iamactions.arn_problem(resource)
            if problem:
                raise ValueError(problem)
        return value
