"""sandbox.yml's guardrail keys (cost budget, service allow-list boundary), as written: a base of
`SandboxFile` kept apart so files.py stays one screenful per model. Strict like every file model."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$", max_length=254,
                             description="an email address")]
SnsTopicArn = Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$",
                                   description="SNS topic ARN")]
ServicePrefix = Annotated[str, Field(pattern=r"^[a-z0-9-]{2,40}$", description="an IAM service prefix, e.g. lambda")]


class SandboxGuardrails(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    budget_usd: float = Field(20, gt=0, le=1_000_000, allow_inf_nan=False,
                              description="monthly cost budget per sandbox, USD (a positive number)")
    budget_emails: list[Email] = Field(default_factory=list, max_length=10,
                                       description="who gets the budget alerts (50/80/100% actual, 100% forecast)")
    budget_sns_topic: SnsTopicArn | None = Field(None, description="SNS topic that also gets the budget alerts")
    allowed_services: list[ServicePrefix] | None = Field(
        None, description="IAM service prefixes the sandbox boundary allows (default: what the sandbox needs)")
    require_boundary: bool = Field(False, description="`sandbox up` refuses a role without the sandbox boundary")
    run_schedules: bool = Field(False, description="a service's schedule rules fire in the sandbox (default: "
                                "made DISABLED, so nothing runs unasked; invoke the function instead)")
