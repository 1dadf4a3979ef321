"""Sandbox guardrails, the pure part: the cost budget's definition, the service allow-list boundary
policy and its checks, the deploy lock's record. Pure: the engine observes, this decides.

Why: a sandbox is a developer's own linked account; the guardrails keep its cost bounded
(a Budgets cost budget with alerts), its reach bounded (a permissions boundary listing the
services it may use) and its writes serialized (one `sandbox up|deploy` at a time).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from pipeline.config.merged import PipelineConfig
from pipeline.core.policy_match import NOT_ALLOWED
from pipeline.core.sandbox_calls import HTTP, SAMPLE_ACCOUNT, SCHEDULE, SERVICE, blocked, describe
from pipeline.errors import InputError

# What `sandbox up/deploy/invoke/logs/status/down` call, plus CloudWatch Logs and X-Ray for the function
# (a service's sandbox adds apigateway and events when it has routes and schedules: `tool_services`).
TOOL_SERVICES = ("cloudformation", "s3", "lambda", "iam", "logs", "xray", "sts", "budgets")
ALERT_ACTUAL = (50.0, 80.0, 100.0)
ALERT_FORECAST = (100.0,)
LOCK_KEY = "pipeline/sandbox.lock"


# Creating these needs an `owner` tag equal to the caller's aws:PrincipalArn (an assumed role's session is
# its role; the tool tags every resource so): made by hand or by the tool, every resource has an owner.
# Each action supports aws:RequestTag/${TagKey} (tests check it against the IAM action data): on one
# that did not, the key would be missing and the Deny would always apply. Not s3:CreateBucket:
# CloudFormation may tag a bucket only after creating it.
OWNED_ACTIONS = ("cloudformation:CreateChangeSet", "cloudformation:CreateStack", "dynamodb:CreateTable",
                 "iam:CreateRole", "lambda:CreateFunction", "logs:CreateLogGroup", "sns:CreateTopic",
                 "sqs:CreateQueue", "states:CreateStateMachine")
OWNER_VARIABLE = "${aws:PrincipalArn}"


def boundary_name(config_name: str) -> str:
    return f"{config_name}-sandbox-boundary"


def boundary_arn(config_name: str, account: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:policy/{boundary_name(config_name)}"


def role_boundary(config: PipelineConfig) -> str | None:
    """The boundary the sandbox's own roles carry: the sandbox policy when sandbox.yml requires it."""
    return boundary_name(config.name) if config.sandbox and config.sandbox.require_boundary else None


def needs(config: PipelineConfig) -> frozenset[str]:
    """What the sandbox's service needs beyond one function: SERVICE, and HTTP (routes) / SCHEDULE (rules)."""
    fns = config.sandbox_functions
    if not fns:
        return frozenset()
    return frozenset({SERVICE} | ({HTTP} if any(f.settings.routes for f in fns) else set())
                     | ({SCHEDULE} if any(f.settings.schedule for f in fns) else set()))


def tool_services(config: PipelineConfig) -> tuple[str, ...]:
    """TOOL_SERVICES, plus apigateway for a service's HTTP API and events for its schedule rules: no more."""
    wanted = needs(config)
    return TOOL_SERVICES + (("apigateway",) if HTTP in wanted else ()) + (("events",) if SCHEDULE in wanted else ())


def allowed_services(config: PipelineConfig) -> tuple[str, ...]:
    """sandbox.yml `allowed_services` (each an IAM prefix: config validation checked it), `tool_services` by
    default; InputError (exit 2) when the boundary rendered from them would refuse one of the tool's own
    calls, checked whenever the boundary is in play (require_boundary, or an allow-list written)."""
    s = config.sandbox
    written = s.allowed_services if s else None
    services = tool_services(config) if written is None else tuple(dict.fromkeys(written))
    if written is None and not (s and s.require_boundary):
        return services
    role_boundary_arn = boundary_arn(config.name, SAMPLE_ACCOUNT) if s and s.require_boundary else None
    problems = blocked(boundary_document(config.name, services), role_boundary_arn, needs(config))
    missing = sorted({c.action.split(":")[0] for c, why in problems if why == NOT_ALLOWED})
    if missing:
        first = next(describe(c, why) for c, why in problems if why == NOT_ALLOWED)
        raise InputError(f"{_where(config, 'allowed_services')}: allowed_services lacks {', '.join(missing)}: the "
                         f"boundary would block the tool's own calls ({first})")
    if problems:
        raise InputError(f"{_where(config, 'require_boundary', 'allowed_services')}: require_boundary: the boundary "
                         f"would block the tool's own calls ({describe(*problems[0])}): set require_boundary: "
                         "true, so the function's role carries the boundary")
    return services


def _where(config: PipelineConfig, *keys: str) -> str:
    """`environments/sandbox.yml:<line>`: of the first of `keys` written (none: line 1)."""
    lines = config.sandbox.lines if config.sandbox else {}
    return f"{config.directory}/sandbox.yml:{next((lines[k] for k in keys if k in lines), 1)}"


def boundary_document(config_name: str, services: tuple[str, ...]) -> dict[str, Any]:
    """The permissions boundary: only `services` (and the tag listing `sandbox gc` reports untagged resources
    with, read-only, whatever `services` says); the boundary itself and the role boundaries stay put;
    no IAM users or access keys; new resources must carry `owner` = the caller's aws:PrincipalArn."""
    policy = f"arn:aws:iam::*:policy/{boundary_name(config_name)}"
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "AllowedServices", "Effect": "Allow", "Action": [f"{s}:*" for s in sorted(services)],
         "Resource": "*"},
        {"Sid": "ToolReadsTags", "Effect": "Allow", "Action": ["tag:GetResources"], "Resource": "*"},
        {"Sid": "KeepTheBoundary", "Effect": "Deny",
         "Action": ["iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
                    "iam:SetDefaultPolicyVersion"], "Resource": policy},
        {"Sid": "NoBoundaryRemoval", "Effect": "Deny",
         "Action": ["iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary"], "Resource": "*"},
        {"Sid": "NewRolesKeepTheBoundary", "Effect": "Deny",
         "Action": ["iam:CreateRole", "iam:PutRolePermissionsBoundary"], "Resource": "*",
         "Condition": {"StringNotEquals": {"iam:PermissionsBoundary": policy.replace("*", "${aws:PrincipalAccount}",
                                                                                       1)}}},
        {"Sid": "NoLongLivedCredentials", "Effect": "Deny",
         "Action": ["iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile"], "Resource": "*"},
        {"Sid": "OwnedResources", "Effect": "Deny", "Action": list(OWNED_ACTIONS), "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:RequestTag/owner": OWNER_VARIABLE}}},
    ]}


def boundary_json(config_name: str, services: tuple[str, ...]) -> str:
    return json.dumps(boundary_document(config_name, services), sort_keys=True)


def boundary_problem(config: PipelineConfig, role: str, found_arn: str | None, account: str) -> str | None:
    """Why the caller may not `sandbox up` (None: it may): require_boundary and the role lacks it."""
    if not (config.sandbox and config.sandbox.require_boundary):
        return None
    wanted = boundary_arn(config.name, account)
    if found_arn == wanted:
        return None
    return (f"sandbox refused: {config.directory}/sandbox.yml says require_boundary: true, but role {role} "
            f"has {'boundary ' + found_arn if found_arn else 'no permissions boundary'}, not {wanted}; "
            "ask your organization admin to attach it")


# -- the cost budget -------------------------------------------------------------------------
@dataclass(frozen=True)
class BudgetSpec:
    name: str
    limit_usd: float
    owner: str
    emails: tuple[str, ...]
    sns_topic: str | None

    def subscribers(self) -> list[dict[str, str]]:
        found = [{"SubscriptionType": "EMAIL", "Address": e} for e in self.emails]
        if self.sns_topic:
            found.append({"SubscriptionType": "SNS", "Address": self.sns_topic})
        return found

    def notifications(self) -> list[dict[str, Any]]:
        """50/80/100% of actual spend and 100% of forecast, each to every subscriber (none: no alerts)."""
        if not self.subscribers():
            return []
        kinds = [("ACTUAL", t) for t in ALERT_ACTUAL] + [("FORECASTED", t) for t in ALERT_FORECAST]
        return [{"NotificationType": kind, "ComparisonOperator": "GREATER_THAN", "Threshold": threshold,
                 "ThresholdType": "PERCENTAGE", "NotificationState": "OK"} for kind, threshold in kinds]

    def budget(self) -> dict[str, Any]:
        """A monthly cost budget over the costs tagged `owner` = this sandbox's owner."""
        return {"BudgetName": self.name, "BudgetType": "COST", "TimeUnit": "MONTHLY",
                "BudgetLimit": {"Amount": amount(self.limit_usd), "Unit": "USD"},
                "CostFilters": {"TagKeyValue": [f"user:owner${self.owner}"]}}


def amount(usd: float) -> str:
    return f"{usd:.2f}"


def budget_spec(config: PipelineConfig, budget_name: str, owner: str) -> BudgetSpec:
    s = config.sandbox
    return BudgetSpec(budget_name, s.budget_usd if s else 20.0, owner, tuple(s.budget_emails) if s else (),
                      s.budget_sns_topic if s else None)


def budget_matches(found: dict[str, Any], spec: BudgetSpec) -> bool:
    """The budget as DescribeBudget shows it has our limit (amounts compared as numbers: "20" == "20.00")."""
    limit = found.get("BudgetLimit") or {}
    try:
        return abs(float(limit.get("Amount", "nan")) - spec.limit_usd) < 0.005 and limit.get("Unit") == "USD"
    except ValueError:
        return False


def notification_key(n: dict[str, Any]) -> tuple[str, float]:
    return str(n.get("NotificationType")), float(n.get("Threshold", 0))


# -- the deploy lock ------------------------------------------------------------------------
def lock_body(holder: str, host: str, pid: int, token: str, now: dt.datetime, lease_seconds: int) -> bytes:
    return json.dumps({"holder": holder, "host": host, "pid": pid, "token": token,
                       "acquired": now.isoformat(), "lease_expires": (now + dt.timedelta(seconds=lease_seconds))
                       .isoformat()}, sort_keys=True).encode()


def lock_expired(body: dict[str, Any], now: dt.datetime) -> bool:
    try:
        return dt.datetime.fromisoformat(str(body["lease_expires"])) < now
    except (KeyError, ValueError):
        return True  # unreadable: not a lock any writer could still be holding
