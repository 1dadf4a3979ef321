"""Eventual consistency in the emulator: IAM propagation of new roles, atomic S3 conditional writes, 409s."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from pipeline.local import consistency, timing

from .helpers import REGION, make_zip

pytestmark = pytest.mark.emulator
CODE = make_zip({"index.py": "def handler(event, context):\n    return 1\n"}, executable=())
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [  # Lambda, and the account's own principals (the test's)
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"},
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]})
NO_RETRY = Config(retries={"total_max_attempts": 1})


def _error(call, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    return err.value


def _until(call, deadline: float, **kwargs):
    """Call until it stops failing (polling, bounded); the answer and how many refusals came first."""
    refused = 0
    while True:
        try:
            return call(**kwargs), refused
        except ClientError:
            refused += 1
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _role(iam) -> tuple[str, float]:
    arn = iam.create_role(RoleName=f"r-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    return arn, time.monotonic()


def test_a_new_role_cannot_be_assumed_until_it_has_propagated(clients):
    iam, sts = clients["iam"], clients["sts"]
    with timing.using(iam_propagation=1.0):
        arn, born = _role(iam)
        err = _error(sts.assume_role, RoleArn=arn, RoleSessionName="s1")
        assert err.response["Error"]["Code"] == "AccessDenied"
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert err.response["Error"]["Message"].endswith(f"is not authorized to perform: sts:AssumeRole on "
                                                         f"resource: {arn}")
        answer, _ = _until(sts.assume_role, born + 10, RoleArn=arn, RoleSessionName="s1")
        assert time.monotonic() - born >= 0.5  # never before the window (less the create's answer)
        assert answer["AssumedRoleUser"]["Arn"].startswith(arn.replace(":iam::", ":sts::").replace(":role/",
                                                                                                     ":assumed-role/"))
        # once propagated it stays usable; a role that does not exist is AccessDenied, as on AWS (IAM enforcement)
        sts.assume_role(RoleArn=arn, RoleSessionName="again")
        missing = "arn:aws:iam::123456789012:role/never-created"
        refused = _error(sts.assume_role, RoleArn=missing, RoleSessionName="s1")
        assert refused.response["Error"]["Code"] == "AccessDenied"


def test_lambda_refuses_a_role_that_has_not_propagated(clients):
    iam, lam = clients["iam"], clients["lambda"]
    with timing.using(iam_propagation=1.0):
        arn, born = _role(iam)
        name = f"c-{uuid.uuid4().hex[:8]}"
        spec = {"FunctionName": name, "Runtime": "python3.12", "Role": arn, "Handler": "index.handler",
                "Code": {"ZipFile": CODE}}
        err = _error(lam.create_function, **spec)
        assert err.response["Error"]["Code"] == "InvalidParameterValueException"
        assert err.response["Error"]["Message"] == consistency.LAMBDA_ROLE_MESSAGE
        with pytest.raises(ClientError):
            lam.get_function(FunctionName=name)  # the refused create made nothing
        _until(lam.create_function, born + 10, **spec)
        assert time.monotonic() - born >= 0.5  # never before the window (less the create's answer)
        # passing a new role to an existing function: refused the same way; other changes are not
        newer, born = _role(iam)
        _until(lam.get_function_configuration, born + 10, FunctionName=name)
        deadline = time.monotonic() + 10
        while lam.get_function_configuration(FunctionName=name).get("LastUpdateStatus") == "InProgress":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        err = _error(lam.update_function_configuration, FunctionName=name, Role=newer)
        assert err.response["Error"]["Message"] == consistency.LAMBDA_ROLE_MESSAGE
        assert lam.get_function_configuration(FunctionName=name)["Role"] == arn
        lam.update_function_configuration(FunctionName=name, Description="no role in this one")


def test_the_window_comes_from_the_timing_profile():
    assert timing.profile("instant").window("iam.propagation") == 0
    assert timing.profile("aws").window("iam.propagation") >= 3.0  # IAM: "a few seconds"
    assert timing.profile("aws", 0.1).window("iam.propagation") == pytest.approx(
        timing.profile("aws").window("iam.propagation") * 0.1)
    with timing.using(timing.profile("instant")):
        assert consistency.usable_at("arn:aws:iam::123456789012:role/anything") is None


@pytest.fixture()
def s3(clients):
    client = boto3.client("s3", config=NO_RETRY, **clients["kw"])
    bucket = f"cw-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=bucket)
    return client, bucket


def test_concurrent_if_none_match_writes_have_exactly_one_winner(s3, monkeypatch):
    from moto.s3.models import S3Backend

    client, bucket = s3
    put = S3Backend.put_object

    def slow_put(self, *args, **kwargs):  # widen moto's check-then-write gap: without the key lock, all 8 win
        time.sleep(0.05)
        return put(self, *args, **kwargs)

    monkeypatch.setattr(S3Backend, "put_object", slow_put)
    outcomes: dict[int, str] = {}
    start = threading.Barrier(8)

    def write(i: int) -> None:
        start.wait()
        try:
            client.put_object(Bucket=bucket, Key="lock", Body=f"writer {i}".encode(), IfNoneMatch="*")
            outcomes[i] = "200"
        except ClientError as exc:
            outcomes[i] = exc.response["Error"]["Code"]

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    winners = [i for i, code in outcomes.items() if code == "200"]
    assert len(outcomes) == 8 and len(winners) == 1, outcomes
    assert set(outcomes.values()) <= {"200", "PreconditionFailed", "ConditionalRequestConflict"}
    assert client.get_object(Bucket=bucket, Key="lock")["Body"].read() == f"writer {winners[0]}".encode()


def _arm(emulator, **request) -> tuple[int, dict]:
    req = urllib.request.Request(f"{emulator.endpoint_url}{consistency.CONTROL}", method="POST",
                                 data=json.dumps(request).encode())
    try:
        with urllib.request.urlopen(req, timeout=10, context=emulator.ssl_context()) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_an_injected_conflict_answers_409_and_writes_nothing(emulator, s3):
    client, bucket = s3
    assert _arm(emulator, bucket=bucket, key="ledger/dev/1.json", count=2)[0] == 200
    for _ in range(2):
        err = _error(client.put_object, Bucket=bucket, Key="ledger/dev/1.json", Body=b"x", IfNoneMatch="*")
        assert (err.response["Error"]["Code"], err.response["ResponseMetadata"]["HTTPStatusCode"]) == (
            "ConditionalRequestConflict", 409)
        assert client.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    etag = client.put_object(Bucket=bucket, Key="ledger/dev/1.json", Body=b"x", IfNoneMatch="*")["ETag"]
    # If-Match too, by prefix; an unconditional write is never a conditional conflict
    assert _arm(emulator, bucket=bucket, prefix="ledger/", count=1)[0] == 200
    err = _error(client.put_object, Bucket=bucket, Key="ledger/dev/1.json", Body=b"y", IfMatch=etag)
    assert err.response["Error"]["Code"] == "ConditionalRequestConflict"
    client.put_object(Bucket=bucket, Key="ledger/dev/other", Body=b"z")
    assert client.get_object(Bucket=bucket, Key="ledger/dev/1.json")["Body"].read() == b"x"
    # and the conditions themselves still hold (moto's 412s)
    assert _error(client.put_object, Bucket=bucket, Key="ledger/dev/1.json", Body=b"y",
                  IfNoneMatch="*").response["Error"]["Code"] == "PreconditionFailed"
    assert _error(client.put_object, Bucket=bucket, Key="ledger/dev/1.json", Body=b"y",
                  IfMatch='"0123"').response["Error"]["Code"] == "PreconditionFailed"
    client.put_object(Bucket=bucket, Key="ledger/dev/1.json", Body=b"y", IfMatch=etag)


def test_the_conflict_endpoint_names_what_is_wrong(emulator):
    assert _arm(emulator, key="k")[0] == 400
    assert _arm(emulator, key="k")[1]["error"] == "bucket: required (a non-empty string)"
    assert _arm(emulator, bucket="b")[1]["error"] == "key or prefix: give exactly one"
    assert _arm(emulator, bucket="b", key="k", count=0)[1]["error"] == "count: a whole number >= 1"
    assert _arm(emulator, bucket="b", key="k")[1]["armed"][-1] == {"bucket": "b", "key": "k", "prefix": None,
                                                                   "count": 1}
    emulator.reset()  # a reset clears armed conflicts
    with urllib.request.urlopen(f"{emulator.endpoint_url}{consistency.CONTROL}", timeout=10,
                                context=emulator.ssl_context()) as resp:
        assert json.loads(resp.read())["armed"] == []
    assert REGION  # the clients' region (helpers)
