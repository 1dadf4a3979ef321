"""RetryPolicy and Lambda's 409s: a passing conflict is waited out, a Failed function is not."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from pipeline.aws.retry import RetryPolicy, is_passing_conflict

ARN = "arn:aws:lambda:us-east-1:111111111111:function:greeter-dev"
BUSY = f"The operation cannot be performed at this time. An update is in progress for resource: {ARN}"
PENDING = "The operation cannot be performed at this time. The function is currently in the following state: Pending"
FAILED = "The operation cannot be performed at this time. The function is currently in the following state: Failed"


def _error(code: str, message: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "UpdateFunctionCode")


class Flaky:
    def __init__(self, *errors: ClientError) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def test_which_conflicts_pass_by_themselves():
    assert is_passing_conflict(_error("ResourceConflictException", BUSY, 409))
    assert is_passing_conflict(_error("ResourceConflictException", PENDING, 409))
    assert not is_passing_conflict(_error("ResourceConflictException", FAILED, 409))
    assert not is_passing_conflict(_error("ResourceConflictException", "Alias already exists: x", 409))
    assert not is_passing_conflict(_error("AccessDeniedException", BUSY, 403))


def test_an_update_in_progress_is_retried_with_a_growing_capped_interval():
    sleeps: list[float] = []
    policy = RetryPolicy(attempts=2, sleep=sleeps.append, conflict_first=0.05, conflict_cap=0.2)
    flaky = Flaky(*[_error("ResourceConflictException", BUSY, 409)] * 6)
    assert policy.call(flaky) == "done"
    assert flaky.calls == 7  # six conflicts did not use up the two attempts for transient errors
    assert sleeps == pytest.approx([0.05, 0.075, 0.1125, 0.16875, 0.2, 0.2])


def test_conflicts_do_not_use_up_the_attempts_for_transient_errors():
    sleeps: list[float] = []
    policy = RetryPolicy(attempts=2, base_delay=0.001, sleep=sleeps.append)
    flaky = Flaky(_error("ResourceConflictException", PENDING, 409), _error("ResourceConflictException", BUSY, 409),
                  _error("ThrottlingException", "Rate exceeded", 400))
    assert policy.call(flaky) == "done" and flaky.calls == 4
    with pytest.raises(ClientError):  # the two transient attempts are still counted
        RetryPolicy(attempts=2, base_delay=0.001, sleep=sleeps.append).call(
            Flaky(*[_error("ThrottlingException", "Rate exceeded", 400)] * 2))


def test_a_failed_function_and_other_conflicts_fail_at_once():
    for message in (FAILED, "Alias already exists: x"):
        flaky = Flaky(_error("ResourceConflictException", message, 409))
        with pytest.raises(ClientError):
            RetryPolicy(sleep=lambda _s: None).call(flaky)
        assert flaky.calls == 1


def test_a_conflict_that_never_ends_stops_at_the_deadline():
    policy = RetryPolicy(sleep=lambda _s: None, conflict_timeout=0.0)
    flaky = Flaky(*[_error("ResourceConflictException", BUSY, 409)] * 3)
    with pytest.raises(ClientError):
        policy.call(flaky)
    assert flaky.calls == 1
