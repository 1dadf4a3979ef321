"""The adapters under eventual consistency: S3's 409 ConditionalRequestConflict and roles not yet propagated."""

from __future__ import annotations

import json
import time
import uuid
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError
from helpers import client

from pipeline.aws.ledger import LedgerConflict, LedgerStore
from pipeline.aws.retry import FreshRoleWait, RetryPolicy, is_retryable, is_unpropagated_role
from pipeline.aws.sandbox_guard import GuardAWS, LockTaken
from pipeline.aws.session import AssumeDenied, SessionFactory
from pipeline.errors import PipelineError
from pipeline.local import timing

CONFLICT = "The conditional request cannot succeed due to a conflicting operation against this resource."
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [  # Lambda, and the organization's admin (the test's)
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"},
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]})


def _error(code: str, status: int, operation: str = "PutObject", message: str = "x") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


def test_a_conditional_write_conflict_is_retried_and_a_precondition_failure_is_not():
    assert is_retryable(_error("ConditionalRequestConflict", 409, message=CONFLICT))
    assert not is_retryable(_error("PreconditionFailed", 412))
    answers = [_error("ConditionalRequestConflict", 409), _error("ConditionalRequestConflict", 409), "written"]
    sleeps: list[float] = []

    def put() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert RetryPolicy(sleep=sleeps.append, base_delay=0.01).call(put) == "written" and len(sleeps) == 2


class _S3:
    """An S3 client whose conditional put keeps answering 409 (what is left after the client's retries)."""

    def __init__(self, error: ClientError) -> None:
        self.error = error
        self.reads = 0

    def put_object(self, **_kwargs):
        raise self.error

    def get_object(self, **_kwargs):
        self.reads += 1
        raise AssertionError("a 409 says nothing about what is at the key: it must not be read as ours")


def _ledger(s3: _S3) -> LedgerStore:
    store = LedgerStore.__new__(LedgerStore)
    store.bucket, store.s3, store._encryption, store.views = "b", s3, {}, []
    store.config = SimpleNamespace(artifact_bucket="b", tooling=SimpleNamespace(account="444444444444"))
    return store


def test_the_ledger_never_takes_a_lasting_409_for_written_or_for_lost():
    import datetime as dt

    s3 = _S3(_error("ConditionalRequestConflict", 409, message=CONFLICT))
    with pytest.raises(PipelineError, match="PutObject: ConditionalRequestConflict") as err:
        _ledger(s3).append("dev", None, {"kind": "started"}, dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    assert not isinstance(err.value, LedgerConflict) and s3.reads == 0
    # a 412 is still someone's record: read to see whether it is ours
    s3 = _S3(_error("PreconditionFailed", 412))
    with pytest.raises(AssertionError):
        _ledger(s3).append("dev", None, {"kind": "started"}, dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    assert s3.reads == 1


def test_the_sandbox_lock_is_not_taken_by_a_409():
    def guard(error: ClientError) -> GuardAWS:
        g = GuardAWS.__new__(GuardAWS)
        g.region = "us-east-1"
        g.session = SimpleNamespace(client=lambda *_a: _S3(error))  # type: ignore[assignment]
        return g

    with pytest.raises(PipelineError, match="ConditionalRequestConflict"):
        guard(_error("ConditionalRequestConflict", 409)).put_lock("b", "lock", b"{}")
    with pytest.raises(LockTaken):
        guard(_error("PreconditionFailed", 412)).put_lock("b", "lock", b"{}")


def test_fresh_role_wait_grows_and_gives_up_at_its_timeout():
    sleeps: list[float] = []
    denied = _error("AccessDenied", 403, "AssumeRole",
                    "User: arn:aws:sts::1:user/x is not authorized to perform: sts:AssumeRole on resource: r")
    assert is_unpropagated_role(denied)
    assert is_unpropagated_role(_error("InvalidParameterValueException", 400, "CreateFunction",
                                       "The role defined for the function cannot be assumed by Lambda."))
    assert not is_unpropagated_role(_error("InvalidParameterValueException", 400, "CreateFunction", "Bad runtime"))

    def never():
        raise denied

    with pytest.raises(ClientError):
        FreshRoleWait(timeout=10.0, sleep=sleeps.append).call(never)
    assert sleeps[:3] == pytest.approx([0.25, 0.375, 0.5625]) and max(sleeps) == 4.0 and 10.0 <= sum(sleeps) < 14.0


def test_a_role_just_created_is_usable_through_fresh_role_wait(aws):
    """Against the emulator (role propagation 1 s): the product's session assumes the role, and Lambda takes it."""
    iam = client("iam", "111111111111")
    with timing.using(iam_propagation=1.0):
        arn = iam.create_role(RoleName=f"fresh-{uuid.uuid4().hex[:6]}", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        born = time.monotonic()
        factory = SessionFactory(region="us-east-1")
        lam = factory.assume("111111111111", "OrganizationAccountAccessRole").client("lambda")
        attempts = []

        def create() -> dict:
            attempts.append(time.monotonic())
            return lam.create_function(FunctionName=f"fresh-{uuid.uuid4().hex[:6]}", Runtime="python3.12", Role=arn,
                                       Handler="index.handler", Code={"ZipFile": _zip()})

        assert FreshRoleWait(timeout=20).call(create)["Role"] == arn
        assert len(attempts) >= 2 and attempts[-1] - born >= 0.5
        # the session factory's AssumeRole: refused as AssumeDenied (exit 1 if unwaited), usable once propagated
        name = f"fresh-{uuid.uuid4().hex[:6]}"
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
        with pytest.raises(AssumeDenied, match="not authorized to perform: sts:AssumeRole"):
            factory.assume("111111111111", name)
        session = FreshRoleWait(timeout=20).call(lambda: factory.assume("111111111111", name),
                                                 pending=lambda e: isinstance(e, AssumeDenied))
        assert session.identity.arn.startswith(f"arn:aws:sts::111111111111:assumed-role/{name}/")


def _zip() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return 1\n")
    return buffer.getvalue()
