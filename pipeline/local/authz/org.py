"""The emulator's organization, as a new user of the product meets it on AWS:

- the management account ADMIN_ACCOUNT, whose administrator holds the base key `testing` and may
  assume `OrganizationAccountAccessRole` in every member account (`principals.ensure_org_role`);
- the tooling account TOOLING_ACCOUNT, with the IAM user OPERATOR: the person who promotes. Not an
  admin: it may assume the promoter role (`tooling.role` in environments/pipeline.yml), which the
  tooling stack makes, and everything a promotion does, it does as that role (README, "What each role
  may do"); as itself it may only follow, start and approve the tooling account's pipelines (so
  CodePipeline records the person as the approver). Its keys are fixed (OPERATOR_KEY), so `local up`
  can print them and they survive a reset;
- the env accounts and a developer account are members like any other.

`ensure_operator` creates the user, its policy and its key in moto's IAM backend at start and after
each reset (a reset wipes IAM).
"""

from __future__ import annotations

import json

ADMIN_KEY = "testing"
ADMIN_SECRET = "testing"
ADMIN_ACCOUNT = "123456789012"
TOOLING_ACCOUNT = "444444444444"
ENV_ACCOUNTS = ("111111111111", "222222222222", "333333333333")
DEVELOPER_ACCOUNT = "555555555555"
OPERATOR = "operator"
OPERATOR_ARN = f"arn:aws:iam::{TOOLING_ACCOUNT}:user/{OPERATOR}"
OPERATOR_KEY = "AKIAOPERATOR44444444"
OPERATOR_SECRET = "operator-secret-of-the-emulators-tooling"
# the repo's `tooling.role`: the one role the operator may take
PROMOTER_ROLE = "pipeline-promoter"
# and, as themselves (so CodePipeline records the person as the approver), follow and approve the pipelines
OPERATOR_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "AssumeThePromoter", "Effect": "Allow", "Action": "sts:AssumeRole",
     "Resource": f"arn:aws:iam::{TOOLING_ACCOUNT}:role/{PROMOTER_ROLE}"},
    {"Sid": "FollowAndApprovePipelines", "Effect": "Allow",
     "Action": ["codepipeline:GetPipelineState", "codepipeline:GetPipelineExecution",
                "codepipeline:ListPipelineExecutions", "codepipeline:ListActionExecutions",
                "codepipeline:StartPipelineExecution", "codepipeline:PutApprovalResult"],
     "Resource": f"arn:aws:codepipeline:*:{TOOLING_ACCOUNT}:*"}]}
_PARTITION = "aws"


def credentials(who: str) -> dict[str, str]:
    """AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY of "admin" (management account) or "operator" (tooling)."""
    if who == "operator":
        return {"AWS_ACCESS_KEY_ID": OPERATOR_KEY, "AWS_SECRET_ACCESS_KEY": OPERATOR_SECRET}
    if who == "admin":
        return {"AWS_ACCESS_KEY_ID": ADMIN_KEY, "AWS_SECRET_ACCESS_KEY": ADMIN_SECRET}
    raise ValueError(f"no such emulator identity {who!r} (admin or operator)")


def ensure_operator() -> None:
    """The operator user in the tooling account, with its one policy and its fixed key (idempotent)."""
    from moto.iam.models import iam_backends

    iam = iam_backends[TOOLING_ACCOUNT][_PARTITION]
    if OPERATOR not in iam.users:
        iam.create_user("us-east-1", OPERATOR)
        iam.put_user_policy(OPERATOR, "operate", json.dumps(OPERATOR_POLICY))
    if any(k.access_key_id == OPERATOR_KEY for k in iam.list_access_keys(OPERATOR)):
        return
    key = iam.create_access_key(OPERATOR)
    iam.access_keys.pop(key.physical_resource_id, None)
    key.access_key_id, key.secret_access_key = OPERATOR_KEY, OPERATOR_SECRET
    iam.access_keys[key.physical_resource_id] = key
