"""CloudFormation's state machine in the emulator: every path a deploy tool has to wait through or recover from.

The windows are stretched for these tests (cfn_clock.window) so each state can be seen; polls have deadlines.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from pipeline.local import cfn_clock

from .helpers import REGION

pytestmark = pytest.mark.emulator

BODY = """
Parameters:
  Days: {Type: Number, Default: 7}
Resources:
  First:
    Type: AWS::Logs::LogGroup
    Properties: {LogGroupName: /states/first, RetentionInDays: !Ref Days}
  Second:
    Type: AWS::SSM::Parameter
    Properties: {Name: /states/second, Type: String, Value: !Sub "${First}-${Days}"}
"""


@pytest.fixture
def cfn(aws: object, monkeypatch: pytest.MonkeyPatch) -> Any:
    # long enough that the describe right after a create still sees CREATE_IN_PROGRESS on a loaded 2-core
    # machine (0.15 s was missed once in a full `make test` beside other jobs)
    monkeypatch.setattr(cfn_clock, "window", lambda name: 0.4)
    return boto3.client("cloudformation", region_name=REGION)


def fail(aws: Any, **fault: Any) -> dict[str, Any]:
    request = urllib.request.Request(f"{aws.endpoint_url}/_emulator/cfn/fail", data=json.dumps(fault).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5, context=aws.ssl_context()) as answer:
        return json.loads(answer.read())  # type: ignore[no-any-return]


def watch(cfn: Any, name: str, timeout: float = 20.0) -> list[str]:
    """Every distinct status DescribeStacks shows until the stack settles (the last one settled)."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        if not seen or seen[-1] != status:
            seen.append(status)
        if not status.endswith("_IN_PROGRESS"):
            return seen
        time.sleep(0.01)
    raise AssertionError(f"{name} still {seen[-1]} after {timeout} s")


def passes_through(cfn: Any, name: str, expected: list[str]) -> None:
    """DescribeStacks showed these statuses in this order (a short phase may fall between two polls on a
    busy machine, so what was seen must be a subsequence), and the stack's own events are exactly them."""
    seen = watch(cfn, name)
    assert seen[0] == expected[0] and seen[-1] == expected[-1], seen
    rest = iter(expected)
    assert all(status in rest for status in seen), seen
    stack_rows = [status for lid, status, _ in events(cfn, name) if lid == name]
    assert stack_rows[-len(expected):] == expected


def events(cfn: Any, name: str) -> list[tuple[str, str, str]]:
    raw = cfn.describe_stack_events(StackName=name)["StackEvents"]
    return [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason", "")) for e in reversed(raw)]


def test_create_goes_through_in_progress_with_events_resource_by_resource(cfn: Any) -> None:
    cfn.create_stack(StackName="states", TemplateBody=BODY)
    first = cfn.describe_stacks(StackName="states")["Stacks"][0]["StackStatus"]
    assert first == "CREATE_IN_PROGRESS"
    assert ("Second", "CREATE_COMPLETE", "") not in events(cfn, "states")  # its time has not come yet
    assert watch(cfn, "states")[-1] == "CREATE_COMPLETE"
    assert [(lid, status) for lid, status, _ in events(cfn, "states")] == [
        ("states", "CREATE_IN_PROGRESS"), ("First", "CREATE_IN_PROGRESS"), ("First", "CREATE_COMPLETE"),
        ("Second", "CREATE_IN_PROGRESS"), ("Second", "CREATE_COMPLETE"), ("states", "CREATE_COMPLETE")]


def test_a_failing_resource_rolls_the_create_back(cfn: Any, aws: Any) -> None:
    fail(aws, stack="states", logical_id="Second", reason="boom: no capacity")
    cfn.create_stack(StackName="states", TemplateBody=BODY)
    passes_through(cfn, "states", ["CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"])
    seen = events(cfn, "states")
    assert ("Second", "CREATE_FAILED", "boom: no capacity") in seen
    rollback = next(reason for lid, status, reason in seen if status == "ROLLBACK_IN_PROGRESS")
    assert rollback == "The following resource(s) failed to create: [Second]. Rollback requested by user."
    assert [s for lid, s, _ in seen if lid == "First"][-1] == "DELETE_COMPLETE"
    assert boto3.client("logs", region_name=REGION).describe_log_groups(
        logGroupNamePrefix="/states/first")["logGroups"] == []  # really deleted
    with pytest.raises(ClientError, match="is in ROLLBACK_COMPLETE state and can not be updated"):
        update(cfn, "14")


def test_a_type_the_emulator_cannot_create_fails_the_stack(cfn: Any) -> None:
    from moto.cloudformation import parsing

    assert parsing.resource_class_from_type("AWS::AppRunner::Service") is None
    body = BODY + "  Runner:\n    Type: AWS::AppRunner::Service\n    Properties: {ServiceName: x}\n"
    cfn.create_stack(StackName="states", TemplateBody=body)
    assert watch(cfn, "states")[-1] == "ROLLBACK_COMPLETE"
    failed = [(lid, reason) for lid, status, reason in events(cfn, "states") if status == "CREATE_FAILED"
              and reason != "Resource creation cancelled"]  # a sibling still running when Runner failed
    assert failed == [("Runner", "The emulator cannot create AWS::AppRunner::Service: no provider implements this "
                                 "resource type (moto has none and pipeline.local adds none)")]


def update(cfn: Any, days: str, **extra: Any) -> None:
    cfn.update_stack(StackName="states", TemplateBody=BODY, Parameters=days_parameter(days), **extra)


def days_parameter(days: str) -> list[dict[str, str]]:
    return [{"ParameterKey": "Days", "ParameterValue": days}]


def retention() -> int:
    logs = boto3.client("logs", region_name=REGION)
    (group,) = logs.describe_log_groups(logGroupNamePrefix="/states/first")["logGroups"]
    return int(group["retentionInDays"])


def test_a_failing_update_rolls_back_to_the_previous_template(cfn: Any, aws: Any) -> None:
    cfn.create_stack(StackName="states", TemplateBody=BODY)
    watch(cfn, "states")
    fail(aws, stack="states", logical_id="Second", operation="update", reason="Second refused the change")
    update(cfn, "14")
    passes_through(cfn, "states", ["UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS",
                                   "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"])
    assert ("Second", "UPDATE_FAILED", "Second refused the change") in events(cfn, "states")
    assert retention() == 7  # First was updated to 14, then put back
    stack = cfn.describe_stacks(StackName="states")["Stacks"][0]
    assert stack["Parameters"] == [{"ParameterKey": "Days", "ParameterValue": "7"}]
    update(cfn, "30")  # the stack can be updated again
    assert watch(cfn, "states")[-1] == "UPDATE_COMPLETE" and retention() == 30


def test_update_rollback_failed_then_continue_update_rollback(cfn: Any, aws: Any) -> None:
    cfn.create_stack(StackName="states", TemplateBody=BODY)
    watch(cfn, "states")
    fail(aws, stack="states", logical_id="Second", operation="update")
    fail(aws, stack="states", logical_id="First", operation="rollback", reason="First cannot go back")
    update(cfn, "14")
    assert watch(cfn, "states")[-1] == "UPDATE_ROLLBACK_FAILED"
    stack = cfn.describe_stacks(StackName="states")["Stacks"][0]
    assert stack["StackStatusReason"] == "The following resource(s) failed to update: [First]."
    with pytest.raises(ClientError, match="UPDATE_ROLLBACK_FAILED state and can not be updated"):
        update(cfn, "30")
    cfn.continue_update_rollback(StackName="states")
    passes_through(cfn, "states", ["UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
                                   "UPDATE_ROLLBACK_COMPLETE"])
    assert retention() == 7


def test_an_update_while_one_runs_is_refused(cfn: Any) -> None:
    cfn.create_stack(StackName="states", TemplateBody=BODY)
    with pytest.raises(ClientError, match="is in CREATE_IN_PROGRESS state and can not be updated"):
        update(cfn, "14")
    watch(cfn, "states")


def change_set(cfn: Any, name: str, kind: str = "UPDATE", days: str = "7", **extra: Any) -> dict[str, Any]:
    return cfn.create_change_set(StackName="states", ChangeSetName=name, ChangeSetType=kind, TemplateBody=BODY,
                                 Parameters=[{"ParameterKey": "Days", "ParameterValue": days}], **extra)


def settled_set(cfn: Any, name: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    statuses = []
    while time.monotonic() < deadline:
        described = cfn.describe_change_set(StackName="states", ChangeSetName=name)
        statuses.append(described["Status"])
        if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
            return {**described, "seen": list(dict.fromkeys(statuses))}
        time.sleep(0.01)
    raise AssertionError(f"change set {name} still {statuses[-1]}")


def test_an_empty_change_set_ends_failed_with_aws_reason(cfn: Any) -> None:
    cfn.create_stack(StackName="states", TemplateBody=BODY, Parameters=days_parameter("7"))
    watch(cfn, "states")
    change_set(cfn, "same")
    described = settled_set(cfn, "same")
    assert described["seen"][0] in ("CREATE_PENDING", "CREATE_IN_PROGRESS") and described["Status"] == "FAILED"
    assert described["StatusReason"] == ("The submitted information didn't contain changes. Submit different "
                                         "information to create a change set.")
    assert described["ExecutionStatus"] == "UNAVAILABLE"
    with pytest.raises(ClientError, match="InvalidChangeSetStatus"):
        cfn.execute_change_set(StackName="states", ChangeSetName="same")


def test_client_tokens_make_retries_idempotent(cfn: Any) -> None:
    first = cfn.create_stack(StackName="states", TemplateBody=BODY, ClientRequestToken="create-1")
    again = cfn.create_stack(StackName="states", TemplateBody=BODY, ClientRequestToken="create-1")
    assert again["StackId"] == first["StackId"]
    with pytest.raises(ClientError, match="AlreadyExistsException"):
        cfn.create_stack(StackName="states", TemplateBody=BODY)
    watch(cfn, "states")

    made = change_set(cfn, "longer", days="14", ClientToken="cs-1")
    assert change_set(cfn, "longer", days="14", ClientToken="cs-1")["Id"] == made["Id"]
    with pytest.raises(ClientError, match="AlreadyExistsException"):
        change_set(cfn, "longer", days="14")
    settled_set(cfn, "longer")
    cfn.execute_change_set(StackName="states", ChangeSetName="longer", ClientRequestToken="exec-1")
    cfn.execute_change_set(StackName="states", ChangeSetName="longer", ClientRequestToken="exec-1")  # retried
    assert watch(cfn, "states")[-1] == "UPDATE_COMPLETE"
    updates = [e for e in events(cfn, "states") if e[:2] == ("states", "UPDATE_IN_PROGRESS")]
    assert len(updates) == 1  # one operation, however often the call was retried
    tokens = {e.get("ClientRequestToken") for e in cfn.describe_stack_events(StackName="states")["StackEvents"]
              if e["ResourceStatus"].startswith("UPDATE")}
    assert tokens == {"exec-1"}
    with pytest.raises(ClientError, match="InvalidChangeSetStatus"):
        cfn.execute_change_set(StackName="states", ChangeSetName="longer")  # no token: a second execution

    first = cfn.update_stack(StackName="states", TemplateBody=BODY, Parameters=days_parameter("30"),
                             ClientRequestToken="update-1")
    again = cfn.update_stack(StackName="states", TemplateBody=BODY, Parameters=days_parameter("30"),
                             ClientRequestToken="update-1")  # retried while the first still runs
    assert again["StackId"] == first["StackId"]
    with pytest.raises(ClientError, match="UPDATE_IN_PROGRESS state and can not be updated"):
        update(cfn, "31")
    assert watch(cfn, "states")[-1] == "UPDATE_COMPLETE" and retention() == 30


def test_a_create_change_set_retried_under_another_name_joins_the_review_stack(cfn: Any) -> None:
    lost = change_set(cfn, "attempt-1", kind="CREATE")  # its answer "was lost"
    retried = change_set(cfn, "attempt-2", kind="CREATE")
    assert retried["StackId"] == lost["StackId"]
    summaries = cfn.list_stacks()["StackSummaries"]
    assert [s["StackStatus"] for s in summaries if s["StackName"] == "states"] == ["REVIEW_IN_PROGRESS"]
    settled_set(cfn, "attempt-2")
    cfn.execute_change_set(StackName="states", ChangeSetName="attempt-2")
    passes_through(cfn, "states", ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"])
    with pytest.raises(ClientError, match="already exists and cannot be created again"):
        change_set(cfn, "attempt-3", kind="CREATE")


def test_a_deleting_stack_is_visible_by_name_until_it_is_gone(cfn: Any) -> None:
    stack_id = cfn.create_stack(StackName="states", TemplateBody=BODY)["StackId"]
    watch(cfn, "states")
    cfn.delete_stack(StackName="states")
    assert cfn.describe_stacks(StackName="states")["Stacks"][0]["StackStatus"] == "DELETE_IN_PROGRESS"
    with pytest.raises(ClientError, match="AlreadyExistsException"):
        cfn.create_stack(StackName="states", TemplateBody=BODY)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            cfn.describe_stacks(StackName="states")
        except ClientError as exc:
            assert "does not exist" in str(exc)
            break
        time.sleep(0.01)
    else:
        raise AssertionError("the stack never finished deleting")
    assert cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"
    deleted = [(lid, status) for lid, status, _ in events(cfn, stack_id)][-6:]
    assert deleted[0] == ("states", "DELETE_IN_PROGRESS") and deleted[-1] == ("states", "DELETE_COMPLETE")
    assert {("First", "DELETE_COMPLETE"), ("Second", "DELETE_COMPLETE")} <= set(deleted)


def test_a_failing_delete_leaves_the_stack_delete_failed_and_a_second_delete_finishes(cfn: Any, aws: Any) -> None:
    cfn.create_stack(StackName="states", TemplateBody=BODY)
    watch(cfn, "states")
    fail(aws, stack="states", logical_id="First", operation="delete", reason="log group is in use")
    cfn.delete_stack(StackName="states")
    passes_through(cfn, "states", ["DELETE_IN_PROGRESS", "DELETE_FAILED"])
    stack = cfn.describe_stacks(StackName="states")["Stacks"][0]
    assert stack["StackStatusReason"] == "The following resource(s) failed to delete: [First]."
    assert ("First", "DELETE_FAILED", "log group is in use") in events(cfn, "states")
    cfn.delete_stack(StackName="states")
    deadline = time.monotonic() + 10
    while cfn.list_stacks(StackStatusFilter=["DELETE_IN_PROGRESS", "DELETE_FAILED"])["StackSummaries"]:
        assert time.monotonic() < deadline, "the second delete never finished"
        time.sleep(0.01)
    assert [s["StackStatus"] for s in cfn.list_stacks()["StackSummaries"]] == ["DELETE_COMPLETE"]


@pytest.mark.parametrize(("body", "field"), [({"logical_id": "X"}, "stack"), ({"stack": "s"}, "logical_id"),
                                             ({"stack": "s", "logical_id": "X", "operation": "explode"}, "operation"),
                                             ({"stack": "s", "logical_id": "X", "count": -1}, "count")])
def test_the_fault_endpoint_names_the_wrong_field(aws: Any, body: dict[str, Any], field: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as raised:
        fail(aws, **body)
    assert raised.value.code == 400
    assert json.loads(raised.value.read())["error"].startswith(f"{field}:")
