"""The emulator's authorization layer, through real boto3 calls over HTTPS: each service's AccessDenied
shape and AWS's message, trust policies (cross-account too), PassRole and the role's trust of Lambda,
SSE-KMS uploads needing the key, bucket policies over TLS, record mode, unmapped operations, bad keys.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.emulator
A, B = "111111111111", "222222222222"


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def trust(principal):
    return doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})


def creds_kw(creds):
    return {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"]}


def admin(account):
    """OrganizationAccountAccessRole in `account`, assumed by the management account's admin."""
    creds = boto3.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
                                            RoleSessionName="admin")["Credentials"]
    return creds_kw(creds)


def role(account, name, policy_statements, principal=None):
    kw = admin(account)
    iam = boto3.client("iam", **kw)
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(principal or {"AWS": f"arn:aws:iam::{account}:root"}))
    if policy_statements:
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=doc(*policy_statements))
    creds = boto3.client("sts", **kw).assume_role(RoleArn=f"arn:aws:iam::{account}:role/{name}",
                                                  RoleSessionName="tester")["Credentials"]
    return creds_kw(creds)


@pytest.fixture
def on(aws, monkeypatch, tmp_path):
    log = tmp_path / "iam.jsonl"
    monkeypatch.setenv("PIPELINE_EMULATOR_IAM", "on")
    monkeypatch.setenv("PIPELINE_EMULATOR_IAM_LOG", str(log))
    return log


def error(exc_info):
    err = exc_info.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def test_s3_denial_is_xml_403_with_awss_message_and_the_connection_survives_a_big_upload(on):
    kw = admin(A)
    boto3.client("s3", **kw).create_bucket(Bucket="authz-bucket")
    reader = role(A, "reader", [{"Effect": "Allow", "Action": "s3:ListBucket",
                                 "Resource": "arn:aws:s3:::authz-bucket"}])
    s3 = boto3.client("s3", **reader)
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket="authz-bucket", Key="big.bin", Body=b"x" * 3_000_000)
    code, message, status = error(denied)
    assert (code, status) == ("AccessDenied", 403)
    assert message == (f"User: arn:aws:sts::{A}:assumed-role/reader/tester is not authorized to perform: "
                       "s3:PutObject on resource: arn:aws:s3:::authz-bucket/big.bin because no identity-based "
                       "policy allows the s3:PutObject action")
    assert s3.list_objects_v2(Bucket="authz-bucket")["KeyCount"] == 0  # same client, next call answered


@pytest.mark.parametrize("service,call,code,status", [
    ("lambda", lambda c: c.get_function(FunctionName="f"), "AccessDeniedException", 403),
    ("kms", lambda c: c.list_keys(), "AccessDeniedException", 400),
    ("cloudformation", lambda c: c.describe_stacks(StackName="s"), "AccessDenied", 403),
    ("iam", lambda c: c.get_role(RoleName="reader"), "AccessDenied", 403),
    ("logs", lambda c: c.describe_log_groups(), "AccessDeniedException", 400),
    ("cloudwatch", lambda c: c.describe_alarms(), "AccessDenied", 400),
    ("ssm", lambda c: c.get_parameter(Name="/x"), "AccessDeniedException", 400),
])
def test_each_protocol_answers_its_own_denial(on, service, call, code, status):
    nothing = role(A, "nothing", [])
    with pytest.raises(ClientError) as denied:
        call(boto3.client(service, **nothing))
    got_code, message, got_status = error(denied)
    assert (got_code, got_status) == (code, status)
    assert message.startswith(f"User: arn:aws:sts::{A}:assumed-role/nothing/tester is not authorized to perform: ")


def test_cross_account_assume_role_needs_trust_and_identity(on):
    kw = admin(A)
    iam = boto3.client("iam", **kw)
    iam.create_role(RoleName="target", AssumeRolePolicyDocument=doc({
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": "e1"}}}))
    caller = role(B, "caller", [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                 "Resource": f"arn:aws:iam::{A}:role/target"}])
    sts = boto3.client("sts", **caller)
    with pytest.raises(ClientError) as no_external_id:
        sts.assume_role(RoleArn=f"arn:aws:iam::{A}:role/target", RoleSessionName="x1")
    assert "because no resource-based policy allows the sts:AssumeRole action" in error(no_external_id)[1]
    ok = sts.assume_role(RoleArn=f"arn:aws:iam::{A}:role/target", RoleSessionName="x1", ExternalId="e1")
    assert ok["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{A}:assumed-role/target/x1"
    stranger = role(B, "stranger", [])
    with pytest.raises(ClientError) as no_identity:
        boto3.client("sts", **stranger).assume_role(RoleArn=f"arn:aws:iam::{A}:role/target",
                                                    RoleSessionName="x2", ExternalId="e1")
    assert "because no identity-based policy allows" in error(no_identity)[1]
    with pytest.raises(ClientError) as missing:
        sts.assume_role(RoleArn=f"arn:aws:iam::{A}:role/no-such-role", RoleSessionName="x3")
    assert error(missing)[0] == "AccessDenied"


def test_create_function_needs_pass_role_and_a_role_that_trusts_lambda(on):
    kw = admin(A)
    iam = boto3.client("iam", **kw)
    iam.create_role(RoleName="not-for-lambda", AssumeRolePolicyDocument=trust({"Service": "ec2.amazonaws.com"}))
    iam.create_role(RoleName="fn-exec", AssumeRolePolicyDocument=trust({"Service": "lambda.amazonaws.com"}))
    deployer = role(A, "deployer", [{"Effect": "Allow", "Action": "lambda:CreateFunction", "Resource": "*"}])
    lam = boto3.client("lambda", **deployer)
    code = {"ZipFile": b"PK\x05\x06" + b"\x00" * 18}
    with pytest.raises(ClientError) as no_pass:
        lam.create_function(FunctionName="f1", Runtime="python3.12", Handler="i.h", Code=code,
                            Role=f"arn:aws:iam::{A}:role/fn-exec")
    assert "iam:PassRole on resource: arn:aws:iam::111111111111:role/fn-exec" in error(no_pass)[1]
    with pytest.raises(ClientError) as untrusted:
        boto3.client("lambda", **kw).create_function(FunctionName="f2", Runtime="python3.12", Handler="i.h",
                                                     Code=code, Role=f"arn:aws:iam::{A}:role/not-for-lambda")
    assert error(untrusted)[:2] == ("InvalidParameterValueException",
                                    "The role defined for the function cannot be assumed by Lambda.")


def test_sse_kms_upload_needs_generate_data_key_in_the_key_policy(on):
    kw = admin(A)
    kms = boto3.client("kms", **kw)
    key = kms.create_key(Policy=doc({"Sid": "Root", "Effect": "Allow",
                                     "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
                                     "Action": "kms:*", "Resource": "*"}))["KeyMetadata"]["Arn"]
    boto3.client("s3", **kw).create_bucket(Bucket="kms-bucket")
    writer = role(A, "writer", [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::kms-bucket/*"}])
    s3 = boto3.client("s3", **writer)
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket="kms-bucket", Key="k", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=key)
    assert f"kms:GenerateDataKey on resource: {key}" in error(denied)[1]
    s3.put_object(Bucket="kms-bucket", Key="plain", Body=b"x")  # no key involved: allowed


def test_bucket_policy_denies_plain_http_but_not_tls(on, monkeypatch):
    kw = admin(A)
    s3 = boto3.client("s3", **kw)
    s3.create_bucket(Bucket="tls-bucket")
    s3.put_bucket_policy(Bucket="tls-bucket", Policy=doc({
        "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": ["arn:aws:s3:::tls-bucket", "arn:aws:s3:::tls-bucket/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}))
    s3.put_object(Bucket="tls-bucket", Key="k", Body=b"over TLS")
    from pipeline.local.authz.layer import decide
    from pipeline.local.authz.wire import Call

    plain = Call("s3", "GetObject", "rest-xml", "us-east-1", kw["aws_access_key_id"],
                 params={"Bucket": "tls-bucket", "Key": "k"}, tls=False)
    results, _, _ = decide(plain)
    assert [d.reason for _, d in results] == ["with an explicit deny in a resource-based policy"]


def test_record_mode_lets_a_denied_call_through_and_logs_it(on, monkeypatch):
    monkeypatch.setenv("PIPELINE_EMULATOR_IAM", "record")
    nothing = role(A, "nothing", [])
    assert boto3.client("lambda", **nothing).list_functions()["Functions"] == []
    rows = [json.loads(line) for line in on.read_text().splitlines()]
    denied = [r for r in rows if not r["allowed"]]
    assert denied[-1]["action"] == "lambda:ListFunctions" and denied[-1]["mode"] == "record"
    allowed = [r for r in rows if r["allowed"] and r["action"] == "iam:CreateRole"]
    assert allowed[0]["matched"][0]["policy"].endswith("OrganizationAccountAccessRole (inline AdministratorAccess)")


def test_unknown_key_and_unmapped_operation_are_refused(on):
    bad = boto3.client("lambda", aws_access_key_id="AKIANOTAKEY000000000", aws_secret_access_key="x")
    with pytest.raises(ClientError) as invalid:
        bad.list_functions()
    assert error(invalid)[0] == "InvalidClientTokenId"
    from pipeline.local.authz.checks import Unmapped, action_for
    from pipeline.local.authz.wire import Call

    with pytest.raises(Unmapped, match="no IAM action known for lambda:MadeUpOperation"):
        action_for(Call("lambda", "MadeUpOperation", "rest-json", "us-east-1", "k"))
