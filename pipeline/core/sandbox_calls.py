"""The IAM actions `sandbox up/deploy/invoke/logs/status/down/gc` need, as the developer's credentials make
them (CloudFormation creates a stack's resources with the caller's credentials when no service role is
given, so those count too), and the check that the rendered sandbox boundary lets every one through.

Why: a boundary that blocks the tool's own calls would only show up as AccessDenied halfway through
a developer's `sandbox up`; `validate` (and every sandbox command) refuses it up front, exit 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.core.policy_match import decide

SAMPLE_ACCOUNT = "000000000000"
SAMPLE_PRINCIPAL = f"arn:aws:iam::{SAMPLE_ACCOUNT}:role/developer"  # aws:PrincipalArn of a developer's session
CFN = "via CloudFormation"


@dataclass(frozen=True)
class ToolCall:
    verb: str
    action: str
    tagged: bool = False  # the request carries the tool's `owner` tag (aws:RequestTag/owner)
    note: str = ""
    needs: str = ""  # "" every sandbox; SERVICE, HTTP or SCHEDULE: only a service's (with routes / schedules)


SERVICE, HTTP, SCHEDULE = "service", "http", "schedule"


def _calls(verb: str, actions: str, tagged: bool = False, note: str = "", needs: str = "") -> list[ToolCall]:
    return [ToolCall(verb, a, tagged, note, needs) for a in actions.split()]


TOOL_CALLS: tuple[ToolCall, ...] = tuple([
    *_calls("up", "iam:GetRole cloudformation:DescribeStacks cloudformation:DescribeChangeSet "
                  "cloudformation:ExecuteChangeSet cloudformation:DescribeStackEvents cloudformation:DeleteChangeSet "
                  "budgets:ViewBudget budgets:ModifyBudget s3:GetBucketTagging s3:PutObject s3:GetObject "
                  "s3:DeleteObject lambda:GetFunction lambda:GetFunctionConfiguration lambda:TagResource"),
    *_calls("up", "cloudformation:CreateChangeSet", tagged=True),
    *_calls("up", "s3:CreateBucket s3:PutBucketTagging s3:PutEncryptionConfiguration s3:PutBucketPublicAccessBlock "
                  "logs:PutRetentionPolicy logs:TagResource iam:PutRolePolicy iam:TagRole iam:PassRole "
                  "lambda:CreateAlias lambda:PublishVersion", note=CFN),
    *_calls("up", "logs:CreateLogGroup iam:CreateRole lambda:CreateFunction", tagged=True, note=CFN),
    *_calls("deploy", "lambda:UpdateFunctionCode lambda:UpdateFunctionConfiguration lambda:PublishVersion "
                      "lambda:UpdateAlias lambda:InvokeFunction"),
    *_calls("invoke", "lambda:InvokeFunction"),
    *_calls("logs", "logs:FilterLogEvents"),
    *_calls("down", "cloudformation:DeleteStack s3:ListBucketVersions s3:DeleteBucket"),
    *_calls("down", "lambda:DeleteFunction iam:DeleteRole iam:DeleteRolePolicy logs:DeleteLogGroup", note=CFN),
    # a service (`functions:`): reserved concurrency on its functions, then its front door (the HTTP API on
    # the `live` aliases `up` makes, the schedule rules), each made and deleted by CloudFormation as the caller
    *_calls("up", "lambda:GetAlias lambda:PublishVersion lambda:CreateAlias", needs=SERVICE),  # each `live`
    *_calls("up", "lambda:PutFunctionConcurrency", note=CFN, needs=SERVICE),
    *_calls("down", "lambda:DeleteFunctionConcurrency", note=CFN, needs=SERVICE),
    *_calls("up", "lambda:AddPermission apigateway:POST apigateway:GET apigateway:PATCH",
            note=CFN, needs=HTTP),
    *_calls("down", "lambda:RemovePermission apigateway:DELETE", note=CFN, needs=HTTP),
    *_calls("up", "lambda:AddPermission events:PutRule events:PutTargets events:DescribeRule events:TagResource",
            note=CFN, needs=SCHEDULE),
    *_calls("down", "lambda:RemovePermission events:RemoveTargets events:DeleteRule", note=CFN, needs=SCHEDULE),
    # gc's report of resources without an owner tag (read-only; its deletes are down's)
    *_calls("gc", "tag:GetResources lambda:ListFunctions s3:ListAllMyBuckets logs:DescribeLogGroups iam:ListRoles "
                  "iam:ListRoleTags"),
])


def context(call: ToolCall, role_boundary_arn: str | None) -> dict[str, list[str]]:
    """The request context AWS would see for `call` made by the tool for a developer."""
    ctx = {"aws:PrincipalArn": [SAMPLE_PRINCIPAL], "aws:PrincipalAccount": [SAMPLE_ACCOUNT]}
    if call.tagged:
        ctx.update({"aws:RequestTag/owner": [SAMPLE_PRINCIPAL], "aws:TagKeys": ["owner"]})
    if call.action == "iam:CreateRole" and role_boundary_arn:
        ctx["iam:PermissionsBoundary"] = [role_boundary_arn]
    return ctx


def calls_for(needs: frozenset[str] = frozenset()) -> tuple[ToolCall, ...]:
    """The calls of a sandbox whose service needs `needs` (SERVICE, HTTP, SCHEDULE; empty: one function)."""
    return tuple(c for c in TOOL_CALLS if not c.needs or c.needs in needs)


def blocked(document: dict[str, Any], role_boundary_arn: str | None,
            needs: frozenset[str] = frozenset()) -> list[tuple[ToolCall, str]]:
    """Each tool call the boundary `document` would refuse, with why (empty: it lets the tool work)."""
    out = []
    for call in calls_for(needs):
        service = call.action.split(":")[0]
        resource = f"arn:aws:{service}:us-east-1:{SAMPLE_ACCOUNT}:sandbox-resource"
        verdict = decide(document, call.action, resource, context(call, role_boundary_arn))
        if not verdict.allowed:
            out.append((call, verdict.why))
    return out


def describe(call: ToolCall, why: str) -> str:
    via = f" ({call.note})" if call.note else ""
    return f"sandbox {call.verb} needs {call.action}{via}, {why}"
