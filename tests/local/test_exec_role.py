"""A function runs as its execution role: the role's session keys in its environment, its calls authorized
as that role by the IAM layer, Lambda's refusal when the role cannot be assumed, recycling before expiry."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from .events_support import alias_of, execution_role
from .helpers import REGION

pytestmark = pytest.mark.emulator
EC2_TRUST = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
             '"Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}')


def _invoke(lam, arn: str, event: dict | None = None) -> tuple[dict, dict]:
    resp = lam.invoke(FunctionName=arn, Payload=json.dumps(event or {}).encode())
    return resp, json.loads(resp["Payload"].read())


@pytest.fixture(scope="module")
def echo(lam, clients, go_bootstrap) -> tuple[str, str]:
    """(role name, alias ARN) of the Runtime API echo program under its own role."""
    role_name, role_arn = execution_role(clients["iam"], [])
    return role_name, alias_of(lam, role_arn, go_bootstrap, "bootstrap")


def test_the_environment_holds_the_roles_session_and_the_emulators_endpoint(lam, clients, echo, emulator):
    role_name, alias = echo
    _, body = _invoke(lam, alias)
    env = body["env"]
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA") and env["AWS_ACCESS_KEY_ID"] != "testing"
    assert env["AWS_SECRET_ACCESS_KEY"] != "testing" and env["AWS_SESSION_TOKEN"]
    assert env["AWS_ENDPOINT_URL"] == emulator.endpoint_url
    if emulator.ca_bundle:
        assert env["SSL_CERT_FILE"] == env["AWS_CA_BUNDLE"] == emulator.ca_bundle
    sts = boto3.client("sts", endpoint_url=emulator.endpoint_url, region_name=REGION, verify=emulator.ca_bundle,
                       aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                       aws_session_token=env["AWS_SESSION_TOKEN"])
    function = alias.split(":")[6]
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:sts::123456789012:assumed-role/{role_name}/{function}"


def test_an_expiring_session_gets_a_fresh_environment(lam, echo, monkeypatch):
    from pipeline.local import execrole

    _, first = _invoke(lam, echo[1])
    monkeypatch.setattr(execrole, "REFRESH_MARGIN_S", execrole.SESSION_SECONDS + 60.0)  # every session "expiring"
    _, second = _invoke(lam, echo[1])
    assert second["pid"] != first["pid"]
    assert second["env"]["AWS_ACCESS_KEY_ID"] != first["env"]["AWS_ACCESS_KEY_ID"]


def test_a_role_that_does_not_trust_lambda_fails_the_invoke_as_lambda_does(lam, clients, go_bootstrap):
    role_name, role_arn = execution_role(clients["iam"], [])
    alias = alias_of(lam, role_arn, go_bootstrap, "bootstrap")
    clients["iam"].update_assume_role_policy(RoleName=role_name, PolicyDocument=EC2_TRUST)
    with pytest.raises(ClientError) as caught:
        _invoke(lam, alias)
    error = caught.value.response
    assert error["Error"]["Code"] == "InvalidParameterValueException"
    assert error["Error"]["Message"] == "The role defined for the function cannot be assumed by Lambda."
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    from pipeline.local.pool import POOL

    assert not [s for s in POOL.sandboxes() if s.code.name == alias.split(":")[6] and s.pid]  # nothing ran


def test_a_role_inside_iams_propagation_window_cannot_be_assumed_yet(lam, clients, go_bootstrap):
    from moto.core.utils import utcnow
    from moto.iam.models import iam_backends

    from pipeline.local import timing

    role_name, role_arn = execution_role(clients["iam"], [])
    alias = alias_of(lam, role_arn, go_bootstrap, "bootstrap")
    iam_backends["123456789012"]["aws"].get_role(role_name).create_date = utcnow()  # as if made just now
    with timing.using(iam_propagation=30.0):
        with pytest.raises(ClientError) as caught:
            _invoke(lam, alias)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
    resp, _ = _invoke(lam, alias)  # the window (0 in `instant`) has passed
    assert resp["StatusCode"] == 200 and "FunctionError" not in resp


def test_the_functions_own_calls_are_authorized_as_its_role(lam, clients, service_bootstrap, emulator):
    s3 = boto3.client("s3", **clients["kw"])
    bucket = f"beats-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    statement = {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/heartbeat/dev.json"}
    env = {"ENVIRONMENT": "dev", "HEARTBEAT_BUCKET": bucket}
    _, allowed_arn = execution_role(clients["iam"], [statement])
    _, denied_arn = execution_role(clients["iam"], [{**statement, "Resource": f"arn:aws:s3:::{bucket}/other"}])
    event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
             "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": REGION, "resources": [],
             "detail": {}}
    denied = alias_of(lam, denied_arn, service_bootstrap, "worker", env)
    resp, body = _invoke(lam, denied, event)
    assert resp.get("FunctionError") == "Unhandled"
    assert "403" in body["errorMessage"] and "AccessDenied" in body["errorMessage"]
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    allowed = alias_of(lam, allowed_arn, service_bootstrap, "worker", env)
    resp, body = _invoke(lam, allowed, event)
    assert "FunctionError" not in resp, body
    stored = json.loads(s3.get_object(Bucket=bucket, Key="heartbeat/dev.json")["Body"].read())
    assert stored == body and stored["function"] == "worker" and stored["environment"] == "dev"


def test_configured_credentials_never_replace_the_roles(lam, clients, go_bootstrap):
    from .events_support import alias_of as make

    arn = make(lam, execution_role(clients["iam"], [])[1], go_bootstrap, "bootstrap",
               {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})  # reserved keys on Lambda
    _, body = _invoke(lam, arn)
    assert body["env"]["AWS_ACCESS_KEY_ID"].startswith("ASIA") and body["env"]["AWS_SECRET_ACCESS_KEY"] != "testing"


def test_only_services_that_send_aws_source_account_meet_a_trust_condition_on_it(clients):
    """CodeBuild, CodePipeline and EventBridge send aws:SourceAccount (the account of the project, pipeline or
    rule) when they assume a role; Lambda sends none for an execution role."""
    from pipeline.local import execrole

    statement = {"Effect": "Allow", "Principal": {"Service": ["codebuild.amazonaws.com", "lambda.amazonaws.com"]},
                 "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}
    _, arn = execution_role(clients["iam"], [], trust=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    assert execrole.service_session(arn, "codebuild.amazonaws.com", "b", REGION, source_account="123456789012")
    assert execrole.service_session(arn, "codebuild.amazonaws.com", "b", REGION, source_account="999999999999") is None
    assert execrole.service_session(arn, "lambda.amazonaws.com", "fn", REGION) is None
