"""`pipeline local iam-report`: rendered grants matched with the authz layer's decision log."""

from __future__ import annotations

import json

from helpers import REPO

from pipeline.config.load import load_config
from pipeline.infra.render import make_rendered
from pipeline.local.iamreport import count_uses, grants_of, owner_of_log_name, report

TEMPLATE = """
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: r1
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - Sid: Used
                Effect: Allow
                Action: [s3:GetObject, s3:PutObject]
                Resource: "*"
              # unused-ok: the operator's manual upload (README), no scenario runs it
              - Sid: Manual
                Effect: Allow
                Action: s3:DeleteObject
                Resource: "*"
              - Sid: NoReason
                Effect: Deny
                Action: s3:*
                Resource: "*"
"""


def row(action, policy, statement, allowed=True):
    return {"allowed": allowed, "action": action, "principal_arn": "arn:aws:iam::1:role/r1",
            "matched": [{"policy": policy, "statement": statement}]}


def test_owner_names_agree_between_log_and_templates():
    assert owner_of_log_name("arn:aws:iam::1:role/r1 (inline p)") == "1 role/r1 inline p"
    assert owner_of_log_name("arn:aws:iam::1:role/r1 (trust policy)") == "1 role/r1 trust policy"
    assert owner_of_log_name("arn:aws:iam::1:policy/b (boundary)") == "1 policy/b"
    assert owner_of_log_name("arn:aws:s3:::bk (bucket policy)") == "bucket bk bucket policy"
    assert owner_of_log_name("arn:aws:kms:us-east-1:1:key/abc (key policy)") == "1 key key policy"


def test_uses_are_counted_per_action_and_reasons_exempt_a_grant():
    grants = grants_of(make_rendered("target", "s", TEMPLATE, "1", "us-east-1", "dev"))
    assert [(g.policy, g.statement) for g in grants] == [
        ("1 role/r1 trust policy", "#0"), ("1 role/r1 inline p", "Used"), ("1 role/r1 inline p", "Manual")]
    count_uses(grants, [row("s3:GetObject", "arn:aws:iam::1:role/r1 (inline p)", "Used")] * 2
               + [row("s3:PutObject", "arn:aws:iam::1:role/r1 (inline p)", "Used", allowed=False)])
    used = grants[1]
    assert used.uses["s3:GetObject"] == 2 and used.unused() == ["s3:PutObject"]
    assert grants[2].reason == "the operator's manual upload (README), no scenario runs it"


def test_report_over_the_repo_config_names_unused_grants(tmp_path):
    log = tmp_path / "iam.jsonl"
    deploy = "arn:aws:iam::111111111111:role/pipeline-deploy (inline deploy)"
    log.write_text(json.dumps(row("lambda:GetFunction", deploy, "Function")) + "\n")
    data = report(load_config(REPO / "environments"), [log])
    function = next(s for s in data["statements"]
                    if s["policy"] == "111111111111 role/pipeline-deploy inline deploy"
                    and s["statement"] == "Function")
    assert function["uses"]["lambda:GetFunction"] == 1
    unused = {(u["policy"], u["action"]) for u in data["unused"]}
    assert ("111111111111 role/pipeline-deploy inline deploy", "lambda:UpdateFunctionCode") in unused
    assert data["wildcard_actions"] == []


def test_a_reason_belongs_to_its_own_resources_statement_even_when_sids_repeat():
    body = """
Resources:
  First:
    Type: AWS::IAM::Role
    Properties:
      RoleName: a
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - Sid: Same
                Effect: Allow
                Action: s3:GetObject
                Resource: "*"
  Second:
    Type: AWS::IAM::Role
    Properties:
      RoleName: b
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              # unused-ok: only this one
              - Sid: Same  # a trailing comment is fine
                Effect: Allow
                Action: s3:GetObject
                Resource: "*"
"""
    grants = grants_of(make_rendered("target", "s", body, "1", "us-east-1", "dev"))
    assert [(g.policy, g.reason) for g in grants] == [("1 role/a inline p", ""), ("1 role/b inline p", "only this one")]
