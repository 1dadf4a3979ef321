"""The session factory: names, retries, account guard, caching, refresh, and the emulator round trip."""

from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber
from helpers import client

from pipeline.aws.botodata import shared_loader
from pipeline.aws.retry import RetryingClient, RetryPolicy, is_retryable
from pipeline.aws.session import AccountSession, Identity, SessionFactory, role_arn, session_name
from pipeline.errors import InputError, PipelineError, RefusedError

FAST = RetryPolicy(attempts=4, base_delay=0.0, max_delay=0.0, sleep=lambda _s: None)


def _client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


def test_session_name_for_people_and_codebuild():
    assert session_name({"USER": "alice"}) == "pipeline-alice"
    assert session_name({"USER": "Bob Smith/ü"}) == "pipeline-Bob-Smith--"
    assert session_name({"CODEBUILD_BUILD_ID": "greeter-build:5c2f-11"}) == "pipeline-codebuild-5c2f-11"
    assert len(session_name({"USER": "x" * 200})) == 64


def test_role_arn_uses_the_region_partition():
    assert role_arn("111111111111", "r", "us-east-1") == "arn:aws:iam::111111111111:role/r"
    assert role_arn("111111111111", "r", "cn-north-1").startswith("arn:aws-cn:")
    assert role_arn("111111111111", "r", "us-gov-west-1").startswith("arn:aws-us-gov:")


@pytest.mark.parametrize(("exc", "retry"), [
    (_client_error("ThrottlingException", 400), True),
    (_client_error("TooManyRequestsException", 429), True),
    (_client_error("SlowDown", 503), True),
    (_client_error("InternalError", 500), True),
    (EndpointConnectionError(endpoint_url="http://x"), True),
    (_client_error("AccessDenied", 403), False),
    (_client_error("ValidationError", 400), False),
    (_client_error("ResourceNotFoundException", 404), False),
    (ValueError("x"), False),
])
def test_retry_classification(exc, retry):
    assert is_retryable(exc) is retry


def _sts_client():
    return boto3.client("sts", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")


def test_throttling_is_retried_then_succeeds():
    raw = _sts_client()
    with Stubber(raw) as stub:
        stub.add_client_error("get_caller_identity", "Throttling", http_status_code=400)
        stub.add_client_error("get_caller_identity", "ServiceUnavailable", http_status_code=503)
        stub.add_response("get_caller_identity", {"Account": "111111111111", "Arn": "arn:aws:iam::1:user/x",
                                                  "UserId": "X"})
        assert RetryingClient(raw, FAST).get_caller_identity()["Account"] == "111111111111"
        stub.assert_no_pending_responses()


def test_access_denied_fails_fast():
    raw = _sts_client()
    with Stubber(raw) as stub:
        stub.add_client_error("get_caller_identity", "AccessDenied", http_status_code=403)
        stub.add_response("get_caller_identity", {"Account": "111111111111", "Arn": "arn:aws:iam::111111111111:user/x",
                                                  "UserId": "u"})
        with pytest.raises(ClientError):
            RetryingClient(raw, FAST).get_caller_identity()
        with pytest.raises(AssertionError):
            stub.assert_no_pending_responses()  # the second answer was never asked for


def test_retries_give_up_after_the_policy_attempts():
    raw = _sts_client()
    with Stubber(raw) as stub:
        for _ in range(4):
            stub.add_client_error("get_caller_identity", "Throttling", http_status_code=400)
        with pytest.raises(ClientError):
            RetryingClient(raw, FAST).get_caller_identity()
        stub.assert_no_pending_responses()


def _parent(factory: SessionFactory) -> tuple[AccountSession, Stubber]:
    parent = AccountSession("444444444444", "pipeline-promoter", Credentials("a", "b"), factory,
                            known_identity=Identity("444444444444",
                                                    "arn:aws:sts::444444444444:assumed-role/pipeline-promoter/x"))
    return parent, Stubber(parent.client("sts").raw)


def _assumed(account: str, expires_in: dt.timedelta, key: str = "AKIAEXAMPLE000001") -> dict:
    return {
        "Credentials": {"AccessKeyId": key, "SecretAccessKey": "s" * 40, "SessionToken": "t" * 20,
                        "Expiration": dt.datetime.now(dt.timezone.utc) + expires_in},
        "AssumedRoleUser": {"AssumedRoleId": "AROA:x", "Arn": f"arn:aws:sts::{account}:assumed-role/pipeline-deploy/x"},
    }


def test_assume_goes_through_the_parent_and_is_cached():
    factory = SessionFactory(region="us-east-1", retry=FAST, environ={"USER": "alice"})
    parent, stub = _parent(factory)
    expected = {"RoleArn": "arn:aws:iam::111111111111:role/pipeline-deploy", "RoleSessionName": "pipeline-alice",
                "DurationSeconds": 3600, "ExternalId": "xyz"}
    stub.add_response("assume_role", _assumed("111111111111", dt.timedelta(hours=1)), expected)
    with stub:
        first = factory.assume("111111111111", "pipeline-deploy", external_id="xyz", via=parent)
        second = factory.assume("111111111111", "pipeline-deploy", external_id="xyz", via=parent)
        stub.assert_no_pending_responses()
    assert first is second
    assert first.identity.arn.startswith("arn:aws:sts::111111111111:assumed-role/")


def test_account_guard_refuses_the_wrong_account():
    factory = SessionFactory(region="us-east-1", retry=FAST)
    parent, stub = _parent(factory)
    stub.add_response("assume_role", _assumed("999999999999", dt.timedelta(hours=1)))
    with stub, pytest.raises(RefusedError) as err:
        factory.assume("111111111111", "pipeline-deploy", via=parent, expected_by="environments/dev.yml account")
    assert err.value.exit_code == 3
    assert "gave account 999999999999" in err.value.message and "names 111111111111" in err.value.message


def test_access_denied_on_assume_is_one_clear_error():
    factory = SessionFactory(region="us-east-1", retry=FAST)
    parent, stub = _parent(factory)
    stub.add_client_error("assume_role", "AccessDenied", "not allowed", http_status_code=403)
    with stub, pytest.raises(PipelineError) as err:
        factory.assume("111111111111", "pipeline-deploy", via=parent)
    assert err.value.message == ("assume role arn:aws:iam::111111111111:role/pipeline-deploy: AccessDenied: "
                                 "not allowed")


def test_credentials_refresh_before_expiry():
    """A wait longer than the credential lifetime survives: near expiry, the role is assumed again."""
    factory = SessionFactory(region="us-east-1", retry=FAST)
    parent, stub = _parent(factory)
    stub.add_response("assume_role", _assumed("111111111111", dt.timedelta(minutes=5), key="AKIAOLD0000000001"))
    stub.add_response("assume_role", _assumed("111111111111", dt.timedelta(hours=1), key="AKIANEW0000000001"))
    with stub:
        session = factory.assume("111111111111", "pipeline-deploy", via=parent)
        # 5 minutes left is inside botocore's mandatory refresh window: the next use refreshes.
        frozen = session.credentials.get_frozen_credentials()
        stub.assert_no_pending_responses()
    assert frozen.access_key == "AKIANEW0000000001"


def test_refresh_also_runs_the_account_guard():
    factory = SessionFactory(region="us-east-1", retry=FAST)
    parent, stub = _parent(factory)
    stub.add_response("assume_role", _assumed("111111111111", dt.timedelta(minutes=5)))
    stub.add_response("assume_role", _assumed("999999999999", dt.timedelta(hours=1)))
    with stub:
        session = factory.assume("111111111111", "pipeline-deploy", via=parent)
        with pytest.raises(RefusedError):
            session.credentials.get_frozen_credentials()


def _role(account: str, name: str, trusted_account: str) -> None:
    """A role `name` in `account` that `trusted_account`'s principals may assume and that may assume any role."""
    iam = client("iam", account)
    trust = {"Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"AWS": f"arn:aws:iam::{trusted_account}:root"}}
    grant = {"Effect": "Allow", "Action": ["sts:AssumeRole", "iam:CreateRole", "iam:ListRoles"], "Resource": "*"}
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [trust]}))
    iam.put_role_policy(RoleName=name, PolicyName="p",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [grant]}))


@pytest.fixture
def chain(aws) -> None:
    """The promoter in the tooling account (trusting the base identity's account), deploy roles trusting it."""
    _role("444444444444", "pipeline-promoter", "123456789012")
    for account in ("111111111111", "222222222222"):
        _role(account, "pipeline-deploy", "444444444444")
        _role(account, "pipeline-direct", "123456789012")


def test_round_trip_through_the_emulator(aws, chain):
    factory = SessionFactory(region="us-east-1", environ={"USER": "carol"})
    base = factory.base()
    assert base.identity.account == "123456789012"  # moto's account for unknown keys
    tooling = factory.assume("444444444444", "pipeline-promoter")
    dev = factory.assume("111111111111", "pipeline-deploy", via=tooling)
    ident = dev.client("sts").get_caller_identity()
    assert ident["Account"] == "111111111111"
    assert ident["Arn"] == "arn:aws:sts::111111111111:assumed-role/pipeline-deploy/pipeline-carol"
    # accounts are isolated: a function made in dev is not visible in the tooling account
    dev.client("iam").create_role(RoleName="only-in-dev", AssumeRolePolicyDocument="{}")
    names = [r["RoleName"] for r in tooling.client("iam").list_roles()["Roles"]]
    assert "only-in-dev" not in names


def test_event_hooks_see_every_call(aws, chain):
    calls: list[str] = []
    factory = SessionFactory(region="us-east-1", event_hooks=[("before-call", lambda model, **_: calls.append(
        model.name))])
    factory.assume("111111111111", "pipeline-direct").client("sts").get_caller_identity()
    # the base identity is never asked for unless needed: one STS call to get into the account
    assert calls == ["AssumeRole", "GetCallerIdentity"]


def test_guard_on_base_credentials(aws):
    factory = SessionFactory(region="us-east-1")
    with pytest.raises(RefusedError) as err:
        factory.guard(factory.base(), "444444444444", "environments/pipeline.yml tooling.account")
    assert "credentials act in account 123456789012" in err.value.message


def test_unknown_profile_is_one_clear_line(monkeypatch):
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with pytest.raises(InputError) as err:
        SessionFactory(profile="no-such-profile-here", region="us-east-1").base()
    assert err.value.message == "--profile no-such-profile-here: no such AWS profile ('no-such-profile-here')"
    monkeypatch.setenv("AWS_PROFILE", "nor-this-one")
    with pytest.raises(InputError) as err:
        SessionFactory(region="us-east-1").base()
    assert err.value.message.startswith("AWS_PROFILE: no such AWS profile")


def test_roles_share_one_botocore_session_and_act_with_their_own_credentials(aws, chain):
    """Every assumed role makes its clients from the factory's one botocore session (client creation stays
    cheap), each client signing with its own role's credentials, and the base session keeps its own."""
    factory = SessionFactory(region="us-east-1")
    a = factory.assume("111111111111", "pipeline-direct")
    b = factory.assume("222222222222", "pipeline-direct")
    sts_a, sts_b, sts_base = a.client("sts"), b.client("sts"), factory.base().client("sts")
    assert sts_a.get_caller_identity()["Account"] == "111111111111"
    assert sts_b.get_caller_identity()["Account"] == "222222222222"
    assert sts_base.get_caller_identity()["Account"] == "123456789012"
    core = factory.boto._session
    assert core._credentials is factory.boto.get_credentials()  # the base chain's, not a role's
    assert core.get_component("data_loader") is shared_loader()



def test_models_asked_for_are_parsed_during_the_next_sts_request(aws, chain, monkeypatch):
    """`preload` waits for the next STS request (the process then only waits) and starts the parses once."""
    factory = SessionFactory(region="us-east-1")
    loader = shared_loader()
    real = loader.preload
    started: list[tuple[tuple[str, ...], int]] = []  # the services, and how many roles were assumed by then
    monkeypatch.setattr(loader, "preload", lambda services: started.append((tuple(services), len(factory._cache)))
                        or real(services))
    factory.preload("s3", "lambda")
    factory.preload("lambda")
    assert started == []  # asked for, not started: no STS request yet
    factory.assume("111111111111", "pipeline-direct")
    factory.assume("222222222222", "pipeline-direct")
    assert started == [(("s3", "lambda"), 0)]  # once, before the first role's answer was taken
