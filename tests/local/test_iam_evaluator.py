"""The emulator's IAM evaluator against AWS's documented policy evaluation logic, one row per rule.

Each row: identity statements, an optional boundary, an optional resource policy (and whether it is
required, as KMS key and trust policies are), the request, and the expected decision (True, or the
start of the deny reason).
"""

from __future__ import annotations

import pytest

from pipeline.local.iam.conditions import conditions_hold
from pipeline.local.iam.evaluate import Policies, Principal, Request, evaluate
from pipeline.local.iam.policy import PolicyError, parse_policy

A, B = "111111111111", "222222222222"
ROLE = Principal(f"arn:aws:sts::{A}:assumed-role/deploy/s1", A, "role", f"arn:aws:iam::{A}:role/deploy")
ROLE_B = Principal(f"arn:aws:sts::{B}:assumed-role/promoter/s2", B, "role", f"arn:aws:iam::{B}:role/promoter")
USER = Principal(f"arn:aws:iam::{A}:user/alice", A, "user", f"arn:aws:iam::{A}:user/alice")
LAMBDA_SVC = Principal("lambda.amazonaws.com", "", "service", "lambda.amazonaws.com")
FN = f"arn:aws:lambda:us-east-1:{A}:function:greeter"
OBJ = "arn:aws:s3:::bucket/artifacts/x.zip"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234"
TRUST = f"arn:aws:iam::{A}:role/deploy"


def st(effect="Allow", action="lambda:GetFunction", resource=FN, **extra):
    out = {"Effect": effect, **extra}
    if action is not None:
        out["Action"] = action
    if resource is not None:
        out["Resource"] = resource
    return out


def pol(*statements, name="p"):
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)}, name)


def rp(*statements):
    return pol(*statements, name="resource")


def req(action="lambda:GetFunction", resource=FN, who=ROLE, ctx=None, owner=None):
    return Request(who, action, resource, ctx or {}, owner)


ALLOW_ALL = st(action="*", resource="*")
CASES = [
    # --- identity policies, one account
    ("no policy: implicit deny", [], None, None, False, req(), "because no identity-based policy"),
    ("exact allow", [st()], None, None, False, req(), True),
    ("allow other action", [st(action="lambda:UpdateFunctionCode")], None, None, False, req(), "because no identity"),
    ("action case-insensitive", [st(action="LAMBDA:getfunction")], None, None, False, req(), True),
    ("action wildcard suffix", [st(action="lambda:Get*")], None, None, False, req(), True),
    ("action wildcard ?", [st(action="lambda:GetFunctio?")], None, None, False, req(), True),
    ("action * all", [st(action="*")], None, None, False, req(), True),
    ("action list", [st(action=["s3:GetObject", "lambda:GetFunction"])], None, None, False, req(), True),
    ("wrong service", [st(action="s3:GetFunction")], None, None, False, req(), "because no identity"),
    ("resource case-sensitive", [st(resource=FN.upper())], None, None, False, req(), "because no identity"),
    ("resource wildcard", [st(resource=f"arn:aws:lambda:*:{A}:function:*")], None, None, False, req(), True),
    ("resource * spans colons", [st(resource=f"arn:aws:lambda:us-east-1:{A}:*")], None, None, False,
     req(resource=FN + ":live"), True),
    ("qualified ARN needs :*", [st(resource=FN)], None, None, False, req(resource=FN + ":live"), "because no"),
    ("resource list", [st(resource=[OBJ, FN])], None, None, False, req(), True),
    ("NotAction allow: other action allowed", [st(action=None, NotAction="iam:*")], None, None, False, req(), True),
    ("NotAction allow: listed action not", [st(action=None, NotAction="lambda:*")], None, None, False, req(),
     "because no identity"),
    ("NotResource allow", [st(resource=None, NotResource=OBJ)], None, None, False, req(), True),
    ("NotResource excludes", [st(resource=None, NotResource=FN)], None, None, False, req(), "because no"),
    ("explicit deny beats allow", [st(), st("Deny")], None, None, False, req(), "with an explicit deny in an identity"),
    ("deny other resource ignored", [st(), st("Deny", resource=OBJ)], None, None, False, req(), True),
    ("deny by NotAction", [ALLOW_ALL, st("Deny", action=None, NotAction="s3:*", resource="*")], None, None,
     False, req(), "with an explicit deny"),
    ("two policies, one allows", [st(action="s3:*")], None, None, False, req(), "because no"),
    ("user identity", [st()], None, None, False, req(who=USER), True),
    # --- permissions boundaries
    ("boundary allows too", [st()], pol(st(action="lambda:*", resource="*")), None, False, req(), True),
    ("boundary caps identity", [ALLOW_ALL], pol(st(action="s3:*", resource="*")), None, False, req(),
     "because no permissions boundary"),
    ("boundary alone grants nothing", [], pol(ALLOW_ALL), None, False, req(), "because no identity"),
    ("boundary deny", [ALLOW_ALL], pol(ALLOW_ALL, st("Deny")), None, False, req(),
     "with an explicit deny in a permissions boundary"),
    ("boundary caps resource policy naming role", [], pol(st(action="s3:*", resource="*")),
     rp(st(Principal={"AWS": ROLE.identity_arn})), False, req(), "because no"),
    ("resource policy naming session beats boundary", [], pol(st(action="s3:*", resource="*")),
     rp(st(Principal={"AWS": ROLE.arn})), False, req(), True),
    # --- resource policies, same account
    ("bucket policy names role: no identity needed", [], None,
     rp(st(action="s3:GetObject", resource=OBJ, Principal={"AWS": ROLE.identity_arn})), False,
     req("s3:GetObject", OBJ), True),
    ("bucket policy names account root: needs identity", [], None,
     rp(st(action="s3:GetObject", resource=OBJ, Principal={"AWS": f"arn:aws:iam::{A}:root"})), False,
     req("s3:GetObject", OBJ), "because no identity"),
    ("bucket policy bare account id + identity", [st(action="s3:GetObject", resource=OBJ)], None,
     rp(st(action="s3:GetObject", resource=OBJ, Principal={"AWS": A})), False, req("s3:GetObject", OBJ), True),
    ("bucket policy Principal *", [], None, rp(st(action="s3:GetObject", resource=OBJ, Principal="*")), False,
     req("s3:GetObject", OBJ), True),
    ("bucket policy deny everyone beats identity", [st(action="s3:*", resource="*")], None,
     rp(st("Deny", action="s3:*", resource="*", Principal="*")), False, req("s3:GetObject", OBJ),
     "with an explicit deny in a resource-based policy"),
    ("deny insecure transport, TLS", [st(action="s3:*", resource="*")], None,
     rp(st("Deny", action="s3:*", resource="*", Principal="*",
           Condition={"Bool": {"aws:SecureTransport": "false"}})), False,
     req("s3:GetObject", OBJ, ctx={"aws:SecureTransport": ["true"]}), True),
    ("deny insecure transport, plain http", [st(action="s3:*", resource="*")], None,
     rp(st("Deny", action="s3:*", resource="*", Principal="*",
           Condition={"Bool": {"aws:SecureTransport": "false"}})), False,
     req("s3:GetObject", OBJ, ctx={"aws:SecureTransport": ["false"]}), "with an explicit deny"),
    ("deny unless principal ArnNotEquals, pipeline role", [st(action="s3:*", resource="*")], None,
     rp(st("Deny", action="s3:PutObject", resource="*", Principal="*",
           Condition={"ArnNotEquals": {"aws:PrincipalArn": [ROLE.identity_arn]}})), False,
     req("s3:PutObject", OBJ), True),
    ("deny unless principal ArnNotEquals, other user", [st(action="s3:*", resource="*")], None,
     rp(st("Deny", action="s3:PutObject", resource="*", Principal="*",
           Condition={"ArnNotEquals": {"aws:PrincipalArn": [ROLE.identity_arn]}})), False,
     req("s3:PutObject", OBJ, who=USER), "with an explicit deny"),
    ("NotPrincipal deny spares the named", [st(action="s3:*", resource="*")], None,
     rp(st("Deny", action="s3:*", resource="*", NotPrincipal={"AWS": ROLE.identity_arn})), False,
     req("s3:GetObject", OBJ), True),
    ("NotPrincipal deny hits others", [st(action="s3:*", resource="*")], None,
     rp(st("Deny", action="s3:*", resource="*", NotPrincipal={"AWS": ROLE.identity_arn})), False,
     req("s3:GetObject", OBJ, who=USER), "with an explicit deny"),
    # --- cross-account: both sides
    ("cross-account: identity only", [st(action="s3:GetObject", resource=OBJ)], None, None, False,
     req("s3:GetObject", OBJ, who=ROLE_B, owner=A), "because no resource-based policy"),
    ("cross-account: resource only", [], None,
     rp(st(action="s3:GetObject", resource=OBJ, Principal={"AWS": ROLE_B.identity_arn})), False,
     req("s3:GetObject", OBJ, who=ROLE_B, owner=A), "because no identity"),
    ("cross-account: both", [st(action="s3:GetObject", resource=OBJ)], None,
     rp(st(action="s3:GetObject", resource=OBJ, Principal={"AWS": f"arn:aws:iam::{B}:root"})), False,
     req("s3:GetObject", OBJ, who=ROLE_B, owner=A), True),
    ("cross-account root + PrincipalArn condition, match", [st(action="s3:GetObject", resource=OBJ)], None,
     rp(st(action="s3:GetObject", resource=OBJ, Principal={"AWS": f"arn:aws:iam::{B}:root"},
           Condition={"ArnEquals": {"aws:PrincipalArn": ROLE_B.identity_arn}})), False,
     req("s3:GetObject", OBJ, who=ROLE_B, owner=A), True),
    ("cross-account root + PrincipalArn condition, other role", [st(action="s3:GetObject", resource=OBJ)],
     None, rp(st(action="s3:GetObject", resource=OBJ, Principal={"AWS": f"arn:aws:iam::{B}:root"},
                 Condition={"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{B}:role/other"}})), False,
     req("s3:GetObject", OBJ, who=ROLE_B, owner=A), "because no resource-based policy"),
    ("cross-account: other account's root named", [st(action="s3:GetObject", resource=OBJ)], None,
     rp(st(action="s3:GetObject", resource=OBJ, Principal={"AWS": f"arn:aws:iam::{A}:root"})), False,
     req("s3:GetObject", OBJ, who=ROLE_B, owner=A), "because no resource-based policy"),
    # --- KMS key policy (required) and delegation to the account
    ("kms: identity alone is not enough", [st(action="kms:Decrypt", resource=KEY)], None, rp(), True,
     req("kms:Decrypt", KEY), "because no resource-based policy"),
    ("kms: root delegation + identity", [st(action="kms:Decrypt", resource=KEY)], None,
     rp(st(action="kms:*", resource="*", Principal={"AWS": f"arn:aws:iam::{A}:root"})), True,
     req("kms:Decrypt", KEY), True),
    ("kms: root delegation without identity", [], None,
     rp(st(action="kms:*", resource="*", Principal={"AWS": f"arn:aws:iam::{A}:root"})), True,
     req("kms:Decrypt", KEY), "because no identity"),
    ("kms: key policy names role", [], None,
     rp(st(action="kms:Decrypt", resource="*", Principal={"AWS": ROLE.identity_arn})), True,
     req("kms:Decrypt", KEY), True),
    ("kms: ViaService condition met", [st(action="kms:Decrypt", resource=KEY)], None,
     rp(st(action="kms:Decrypt", resource="*", Principal={"AWS": f"arn:aws:iam::{A}:root"},
           Condition={"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}})), True,
     req("kms:Decrypt", KEY, ctx={"kms:ViaService": ["s3.us-east-1.amazonaws.com"]}), True),
    ("kms: ViaService missing (direct call)", [st(action="kms:Decrypt", resource=KEY)], None,
     rp(st(action="kms:Decrypt", resource="*", Principal={"AWS": f"arn:aws:iam::{A}:root"},
           Condition={"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}})), True,
     req("kms:Decrypt", KEY), "because no resource-based policy"),
    # --- trust policies (sts:AssumeRole)
    ("trust: same account role named", [], None,
     rp(st(action="sts:AssumeRole", resource=None, Principal={"AWS": USER.identity_arn})), True,
     req("sts:AssumeRole", TRUST, who=USER), True),
    ("trust: cross-account root, caller allowed", [st(action="sts:AssumeRole", resource=TRUST)], None,
     rp(st(action="sts:AssumeRole", resource=None, Principal={"AWS": f"arn:aws:iam::{B}:root"})), True,
     req("sts:AssumeRole", TRUST, who=ROLE_B, owner=A), True),
    ("trust: cross-account, caller not allowed", [], None,
     rp(st(action="sts:AssumeRole", resource=None, Principal={"AWS": f"arn:aws:iam::{B}:root"})), True,
     req("sts:AssumeRole", TRUST, who=ROLE_B, owner=A), "because no identity"),
    ("trust: other account not trusted", [st(action="sts:AssumeRole", resource="*")], None,
     rp(st(action="sts:AssumeRole", resource=None, Principal={"AWS": f"arn:aws:iam::{A}:root"})), True,
     req("sts:AssumeRole", TRUST, who=ROLE_B, owner=A), "because no resource-based policy"),
    ("trust: external id required, given", [st(action="sts:AssumeRole", resource="*")], None,
     rp(st(action="sts:AssumeRole", resource=None, Principal={"AWS": B},
           Condition={"StringEquals": {"sts:ExternalId": "x1"}})), True,
     req("sts:AssumeRole", TRUST, who=ROLE_B, owner=A, ctx={"sts:ExternalId": ["x1"]}), True),
    ("trust: external id required, missing", [st(action="sts:AssumeRole", resource="*")], None,
     rp(st(action="sts:AssumeRole", resource=None, Principal={"AWS": B},
           Condition={"StringEquals": {"sts:ExternalId": "x1"}})), True,
     req("sts:AssumeRole", TRUST, who=ROLE_B, owner=A), "because no resource-based policy"),
    ("trust: service principal", [], None,
     rp(st(action="sts:AssumeRole", resource=None, Principal={"Service": "lambda.amazonaws.com"})), True,
     req("sts:AssumeRole", TRUST, who=LAMBDA_SVC, owner=A), True),
    ("trust: other service", [], None,
     rp(st(action="sts:AssumeRole", resource=None, Principal={"Service": "codebuild.amazonaws.com"})), True,
     req("sts:AssumeRole", TRUST, who=LAMBDA_SVC, owner=A), "because no resource-based policy"),
    ("trust: service never matches AWS *", [], None,
     rp(st(action="sts:AssumeRole", resource=None, Principal={"AWS": "*"})), True,
     req("sts:AssumeRole", TRUST, who=LAMBDA_SVC, owner=A), "because no resource-based policy"),
    ("trust: ArnLike on PrincipalArn with wildcard", [st(action="sts:AssumeRole", resource="*")], None,
     rp(st(action="sts:AssumeRole", resource=None, Principal={"AWS": f"arn:aws:iam::{B}:root"},
           Condition={"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{B}:role/*"}})), True,
     req("sts:AssumeRole", TRUST, who=ROLE_B, owner=A), True),
    # --- conditions in identity policies
    ("PassRole to the right service", [st(action="iam:PassRole", resource=TRUST,
                                          Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}})],
     None, None, False, req("iam:PassRole", TRUST, ctx={"iam:PassedToService": ["lambda.amazonaws.com"]}), True),
    ("PassRole to another service", [st(action="iam:PassRole", resource=TRUST,
                                        Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}})],
     None, None, False, req("iam:PassRole", TRUST, ctx={"iam:PassedToService": ["ec2.amazonaws.com"]}), "because no"),
    ("ListBucket with s3:prefix like", [st(action="s3:ListBucket", resource="arn:aws:s3:::bucket",
                                           Condition={"StringLike": {"s3:prefix": "artifacts/*"}})],
     None, None, False, req("s3:ListBucket", "arn:aws:s3:::bucket", ctx={"s3:prefix": ["artifacts/greeter/"]}), True),
    ("ListBucket without prefix", [st(action="s3:ListBucket", resource="arn:aws:s3:::bucket",
                                      Condition={"StringLike": {"s3:prefix": "artifacts/*"}})],
     None, None, False, req("s3:ListBucket", "arn:aws:s3:::bucket"), "because no"),
    ("ForAnyValue ResourceAliases", [st(action="kms:Decrypt", resource="*", Condition={
        "ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/art"}})], None, None, False,
     req("kms:Decrypt", KEY, ctx={"kms:ResourceAliases": ["alias/x", "alias/art"]}), True),
]


@pytest.mark.parametrize("name,identity,boundary,resource,required,request_,expected", CASES,
                         ids=[c[0] for c in CASES])
def test_evaluation(name, identity, boundary, resource, required, request_, expected):
    policies = Policies(identity=[pol(*identity)] if identity else [], boundary=boundary, resource=resource,
                        resource_required=required)
    decision = evaluate(request_, policies)
    if expected is True:
        assert decision.allowed, decision.reason
        assert decision.matched, "an allow names the statements that allowed it"
    else:
        assert not decision.allowed
        assert decision.reason.startswith(expected), decision.reason


@pytest.mark.parametrize("document,fragment", [
    ({}, "no Statement"),
    ({"Statement": [{"Effect": "Maybe", "Action": "s3:GetObject", "Resource": "*"}]}, "Effect"),
    ({"Statement": [{"Effect": "Allow", "Resource": "*"}]}, "no Action"),
    ({"Statement": [{"Effect": "Allow", "Action": "GetObject", "Resource": "*"}]}, "not an action"),
    ({"Statement": [{"Effect": "Allow", "Action": "s3:X", "NotAction": "s3:Y", "Resource": "*"}]}, "together"),
    ({"Statement": [{"Effect": "Allow", "Action": "s3:X", "Resource": "*", "Principal": {"Bogus": "x"}}]},
     "principal type"),
    ("{not json", "not JSON"),
])
def test_malformed_policies_are_errors(document, fragment):
    with pytest.raises(PolicyError, match=fragment):
        parse_policy(document, "p")


def test_unknown_condition_operator_is_an_error():
    statement = parse_policy({"Statement": [st(Condition={"IpAddressish": {"k": "v"}})]}, "p").statements[0]
    with pytest.raises(PolicyError, match="unsupported condition operator"):
        conditions_hold(statement.conditions, {"k": ["v"]})


def test_single_statement_and_url_encoded_documents_parse():
    policy = parse_policy('%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A*%22%7D%7D',
                          "p")
    assert policy.statements[0].actions == ("s3:*",)


def test_deny_message_has_aws_form():
    r = req("lambda:DeleteAlias", FN + ":live")
    decision = evaluate(r, Policies(identity=[pol(st())]))
    assert decision.message(r) == (
        f"User: {ROLE.arn} is not authorized to perform: lambda:DeleteAlias on resource: {FN}:live "
        "because no identity-based policy allows the lambda:DeleteAlias action")


def test_catalog_knows_actions_and_arn_formats():
    from pipeline.local.iam import catalog

    assert catalog.action_exists("lambda:UpdateFunctionCode")
    assert catalog.action_exists("S3:getobject")
    assert not catalog.action_exists("lambda:Invoke")  # the operation is Invoke, the action InvokeFunction
    assert "s3:GetObjectVersion" in catalog.expand("s3:GetObject*")
    assert catalog.arn("lambda", "function", region="us-east-1", account=A, FunctionName="f") == \
        f"arn:aws:lambda:us-east-1:{A}:function:f"
    problems = catalog.lint(pol(st(action=["lambda:Invoke", "nosuch:Thing", "s3:Get*"])))
    assert len(problems) == 2 and "'lambda:Invoke' names no lambda action" in problems[0]
