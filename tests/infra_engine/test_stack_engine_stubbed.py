"""Stack engine states the emulator cannot produce, with botocore's Stubber: exact API call sequences."""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from pipeline.aws.retry import RetryingClient, RetryPolicy
from pipeline.core.stacks import Poll, StackSpec
from pipeline.engine.stacks import StackEngine
from pipeline.errors import EXIT_FAILED, EXIT_REFUSED, PipelineError, RefusedError

NAME = "greeter-prod-function"
SID = f"arn:aws:cloudformation:us-east-1:333333333333:stack/{NAME}/1111"
SID2 = f"arn:aws:cloudformation:us-east-1:333333333333:stack/{NAME}/2222"
CS = "pipeline-cs"
T0 = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
BODY = "Resources: {}"
SPEC = StackSpec(NAME, BODY, {"Memory": "256"}, {"pipeline:kind": "function"})


def at(seconds: int) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def stack(status: str, sid: str = SID, outputs: dict[str, str] | None = None, protected: bool = False,
          reason: str | None = None) -> dict[str, Any]:
    s: dict[str, Any] = {"StackId": sid, "StackName": NAME, "CreationTime": T0, "StackStatus": status,
                         "EnableTerminationProtection": protected,
                         "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in (outputs or {}).items()],
                         "Tags": [{"Key": "pipeline:kind", "Value": "function"}]}
    if reason:
        s["StackStatusReason"] = reason
    return {"Stacks": [s]}


def event(seconds: int, logical: str, status: str, reason: str = "", rtype: str = "AWS::Lambda::Function",
          sid: str = SID) -> dict[str, Any]:
    e = {"StackId": sid, "EventId": f"{logical}-{status}-{seconds}", "StackName": NAME, "LogicalResourceId": logical,
         "ResourceType": rtype, "Timestamp": at(seconds), "ResourceStatus": status}
    if reason:
        e["ResourceStatusReason"] = reason
    return e


def change_set(status: str = "CREATE_COMPLETE", changes: list[dict[str, Any]] | None = None, reason: str = "",
               sid: str = SID) -> dict[str, Any]:
    cs: dict[str, Any] = {"ChangeSetName": CS, "StackId": sid, "StackName": NAME, "Status": status,
                          "ExecutionStatus": "AVAILABLE" if status == "CREATE_COMPLETE" else "UNAVAILABLE",
                          "CreationTime": at(10), "Changes": changes or []}
    if reason:
        cs["StatusReason"] = reason
    return cs


def modify(logical: str, rtype: str, replacement: str, prop: str = "MemorySize") -> dict[str, Any]:
    return {"Type": "Resource", "ResourceChange": {
        "Action": "Modify", "LogicalResourceId": logical, "ResourceType": rtype, "Replacement": replacement,
        "Details": [{"Target": {"Attribute": "Properties", "Name": prop, "RequiresRecreation": "Always"}}]}}


def add(logical: str, rtype: str) -> dict[str, Any]:
    return {"Type": "Resource", "ResourceChange": {"Action": "Add", "LogicalResourceId": logical,
                                                   "ResourceType": rtype}}


def create_cs_params(kind: str) -> dict[str, Any]:
    return {"StackName": NAME, "ChangeSetName": CS, "ChangeSetType": kind, "TemplateBody": BODY,
            "Parameters": [{"ParameterKey": "Memory", "ParameterValue": "256"}],
            "Tags": [{"Key": "pipeline:kind", "Value": "function"}], "Capabilities": ["CAPABILITY_NAMED_IAM"],
            "ClientToken": CS}


class Harness:
    """A StackEngine over a stubbed client; records progress lines and sleeps, checks the call sequence."""

    def __init__(self) -> None:
        self.raw = boto3.client("cloudformation", region_name="us-east-1", aws_access_key_id="a",
                                aws_secret_access_key="b")
        self.client = RetryingClient(self.raw, RetryPolicy(attempts=1))
        self.stub = Stubber(self.client.raw)
        self.lines: list[str] = []
        self.sleeps: list[float] = []
        self.calls: list[str] = []
        self.raw.meta.events.register_first("before-parameter-build.cloudformation", self._record)
        self.engine = StackEngine(self.client, self.lines.append, poll=Poll(), sleep=self.sleeps.append,
                                  change_set_name=lambda: CS)

    def _record(self, model: Any, **_kw: Any) -> None:
        self.calls.append(model.name)

    def add(self, op: str, response: dict[str, Any], params: dict[str, Any] | None = None) -> None:
        self.stub.add_response(op, response, params)

    def error(self, op: str, code: str, message: str, params: dict[str, Any] | None = None) -> None:
        self.stub.add_client_error(op, code, message, http_status_code=400, expected_params=params)

    def __enter__(self) -> Harness:
        self.stub.activate()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stub.deactivate()
        if exc[0] is None:
            self.stub.assert_no_pending_responses()


@pytest.fixture
def h():
    with Harness() as harness:
        yield harness


def expect_create(h: Harness, sid: str, outputs: dict[str, str] | None = None) -> None:
    h.add("create_change_set", {"Id": "cs-arn", "StackId": sid}, create_cs_params("CREATE"))
    h.add("describe_change_set", change_set(changes=[add("Function", "AWS::Lambda::Function")], sid=sid),
          {"StackName": NAME, "ChangeSetName": CS})
    h.add("execute_change_set", {}, {"StackName": NAME, "ChangeSetName": CS, "ClientRequestToken": f"exec-{CS}"})
    h.add("describe_stacks", stack("CREATE_COMPLETE", sid, outputs), {"StackName": sid})
    h.add("describe_stack_events", {"StackEvents": [event(12, NAME, "CREATE_COMPLETE", sid=sid,
                                                          rtype="AWS::CloudFormation::Stack")]},
          {"StackName": sid})


def test_review_in_progress_stack_takes_a_new_create_change_set_without_delete(h):
    """Left by a CREATE change set never executed (a lost answer, a cut-off run): nothing to delete, even
    in a protected environment; CloudFormation attaches the new CREATE change set to that stack."""
    h.add("describe_stacks", stack("REVIEW_IN_PROGRESS"), {"StackName": NAME})
    expect_create(h, SID)
    h.add("update_termination_protection", {}, {"StackName": NAME, "EnableTerminationProtection": True})
    spec = StackSpec(NAME, BODY, SPEC.parameters, SPEC.tags, protect=True)
    result = h.engine.deploy(spec)
    assert (result.action, result.status) == ("created", "CREATE_COMPLETE")
    assert "DeleteStack" not in h.calls and h.calls[1] == "CreateChangeSet"


@pytest.mark.parametrize("status", ["ROLLBACK_COMPLETE", "CREATE_FAILED"])
def test_stuck_stack_is_deleted_and_created_again(h, status):
    h.add("describe_stacks", stack(status), {"StackName": NAME})
    h.add("delete_stack", {}, {"StackName": SID})
    h.add("describe_stacks", stack("DELETE_IN_PROGRESS"), {"StackName": SID})
    h.add("describe_stacks", stack("DELETE_COMPLETE"), {"StackName": SID})
    expect_create(h, SID2, {"FunctionArn": "arn:fn"})
    result = h.engine.deploy(SPEC)
    assert h.calls == ["DescribeStacks", "DeleteStack", "DescribeStacks", "DescribeStacks", "CreateChangeSet",
                       "DescribeChangeSet", "ExecuteChangeSet", "DescribeStacks", "DescribeStackEvents"]
    assert (result.action, result.status, result.changed) == ("recreated", "CREATE_COMPLETE", True)
    assert result.outputs == {"FunctionArn": "arn:fn"}
    assert h.sleeps == [0.2]  # one look while DELETE_IN_PROGRESS, first interval
    assert any("deleting the stack" in line for line in h.lines)


def test_stuck_stack_in_protected_env_is_refused_without_force(h):
    h.add("describe_stacks", stack("ROLLBACK_COMPLETE", protected=True), {"StackName": NAME})
    spec = StackSpec(NAME, BODY, SPEC.parameters, SPEC.tags, protect=True)
    with pytest.raises(RefusedError, match=r"ROLLBACK_COMPLETE in a protected environment.*--force") as err:
        h.engine.deploy(spec)
    assert err.value.exit_code == EXIT_REFUSED
    assert h.calls == ["DescribeStacks"]  # no write


def test_stuck_stack_in_protected_env_with_force_lifts_protection_then_recreates(h):
    spec = StackSpec(NAME, BODY, SPEC.parameters, SPEC.tags, protect=True)
    h.add("describe_stacks", stack("ROLLBACK_COMPLETE", protected=True), {"StackName": NAME})
    h.add("update_termination_protection", {}, {"StackName": NAME, "EnableTerminationProtection": False})
    h.add("delete_stack", {}, {"StackName": SID})
    h.error("describe_stacks", "ValidationError", f"Stack with id {SID} does not exist", {"StackName": SID})
    expect_create(h, SID2)
    h.add("update_termination_protection", {}, {"StackName": NAME, "EnableTerminationProtection": True})
    result = h.engine.deploy(spec, force=True)
    assert result.action == "recreated"
    assert h.calls[:3] == ["DescribeStacks", "UpdateTerminationProtection", "DeleteStack"]
    assert h.calls[-1] == "UpdateTerminationProtection"


def test_update_rollback_failed_is_continued_then_reported(h):
    h.add("describe_stacks", stack("UPDATE_ROLLBACK_FAILED"), {"StackName": NAME})
    old = [event(5, "Function", "UPDATE_FAILED", "Resource handler returned message: memory too large"),
           event(6, "LogGroup", "UPDATE_FAILED", "Log group was deleted out of band", "AWS::Logs::LogGroup")]
    h.add("describe_stack_events", {"StackEvents": old[::-1]}, {"StackName": SID})
    h.add("continue_update_rollback", {}, {"StackName": NAME, "ClientRequestToken": CS})
    h.add("describe_stacks", stack("UPDATE_ROLLBACK_COMPLETE"), {"StackName": SID})
    h.add("describe_stack_events", {"StackEvents": [event(20, NAME, "UPDATE_ROLLBACK_COMPLETE",
                                                          rtype="AWS::CloudFormation::Stack"), *old[::-1]]},
          {"StackName": SID})
    with pytest.raises(PipelineError) as err:
        h.engine.deploy(SPEC)
    assert err.value.exit_code == EXIT_FAILED
    assert "UPDATE_ROLLBACK_COMPLETE" in err.value.message
    assert err.value.details == [
        "Function (AWS::Lambda::Function): UPDATE_FAILED: Resource handler returned message: memory too large",
        "LogGroup (AWS::Logs::LogGroup): UPDATE_FAILED: Log group was deleted out of band"]
    assert h.calls == ["DescribeStacks", "DescribeStackEvents", "ContinueUpdateRollback", "DescribeStacks",
                       "DescribeStackEvents"]
    # only the new event is streamed, not the history read before
    assert [line for line in h.lines if "UPDATE_ROLLBACK_COMPLETE" in line]
    assert not [line for line in h.lines if "memory too large" in line]


def test_update_that_rolls_back_fails_naming_the_resource_and_reason(h):
    h.add("describe_stacks", stack("UPDATE_COMPLETE"), {"StackName": NAME})
    h.add("create_change_set", {"Id": "cs-arn", "StackId": SID}, create_cs_params("UPDATE"))
    h.add("describe_change_set", change_set(changes=[modify("Function", "AWS::Lambda::Function", "False")]))
    h.add("execute_change_set", {}, {"StackName": NAME, "ChangeSetName": CS, "ClientRequestToken": f"exec-{CS}"})
    h.add("describe_stacks", stack("UPDATE_IN_PROGRESS"), {"StackName": SID})
    running = [event(11, NAME, "UPDATE_IN_PROGRESS", "User Initiated", "AWS::CloudFormation::Stack"),
               event(3, "Old", "UPDATE_FAILED", "an old failure before this change set")]
    h.add("describe_stack_events", {"StackEvents": running}, {"StackName": SID})
    h.add("describe_stacks", stack("UPDATE_ROLLBACK_IN_PROGRESS"), {"StackName": SID})
    failed = [event(13, "Function", "UPDATE_FAILED", "MemorySize value failed to satisfy constraint"), *running]
    h.add("describe_stack_events", {"StackEvents": failed}, {"StackName": SID})
    h.add("describe_stacks", stack("UPDATE_ROLLBACK_COMPLETE"), {"StackName": SID})
    h.add("describe_stack_events", {"StackEvents": failed}, {"StackName": SID})
    with pytest.raises(PipelineError) as err:
        h.engine.deploy(SPEC)
    assert err.value.exit_code == EXIT_FAILED
    assert err.value.message == (f"stack {NAME}: update ended in UPDATE_ROLLBACK_COMPLETE: Function (AWS::Lambda::"
                                 "Function): UPDATE_FAILED: MemorySize value failed to satisfy constraint")
    assert err.value.details == [
        "Function (AWS::Lambda::Function): UPDATE_FAILED: MemorySize value failed to satisfy constraint"]
    assert h.sleeps == [0.2, pytest.approx(0.3)]  # short, rising poll interval
    streamed = [line for line in h.lines if "UPDATE_FAILED" in line]
    assert len(streamed) == 1  # each event printed once; the old failure not at all


def test_empty_change_set_in_aws_failed_form_is_success(h):
    h.add("describe_stacks", stack("UPDATE_COMPLETE", outputs={"FunctionArn": "arn:fn"}), {"StackName": NAME})
    h.add("create_change_set", {"Id": "cs-arn", "StackId": SID}, create_cs_params("UPDATE"))
    h.add("describe_change_set", change_set("FAILED", reason="The submitted information didn't contain changes. "
                                            "Submit different information to create a change set."))
    h.add("delete_change_set", {}, {"StackName": NAME, "ChangeSetName": CS})
    result = h.engine.deploy(SPEC)
    assert (result.action, result.changed, result.outputs) == ("unchanged", False, {"FunctionArn": "arn:fn"})
    assert h.calls == ["DescribeStacks", "CreateChangeSet", "DescribeChangeSet", "DeleteChangeSet"]


def test_empty_change_set_in_emulator_validation_form_is_success(h):
    h.add("describe_stacks", stack("UPDATE_COMPLETE"), {"StackName": NAME})
    h.error("create_change_set", "ValidationError", "No updates are to be performed.", create_cs_params("UPDATE"))
    result = h.engine.deploy(SPEC)
    assert (result.action, result.changed) == ("unchanged", False)
    assert h.calls == ["DescribeStacks", "CreateChangeSet"]


def test_same_template_parameters_and_tags_is_unchanged_without_a_change_set(h):
    current = stack("UPDATE_COMPLETE")
    current["Stacks"][0]["Parameters"] = [{"ParameterKey": "Memory", "ParameterValue": "256"}]
    h.add("describe_stacks", current, {"StackName": NAME})
    h.add("get_template", {"TemplateBody": BODY}, {"StackName": SID, "TemplateStage": "Original"})
    assert h.engine.deploy(SPEC).action == "unchanged"
    assert h.calls == ["DescribeStacks", "GetTemplate"]


def test_same_parameters_but_new_template_makes_a_change_set(h):
    current = stack("UPDATE_COMPLETE")
    current["Stacks"][0]["Parameters"] = [{"ParameterKey": "Memory", "ParameterValue": "256"}]
    h.add("describe_stacks", current, {"StackName": NAME})
    h.add("get_template", {"TemplateBody": "Resources: {Old: 1}"}, {"StackName": SID, "TemplateStage": "Original"})
    h.error("create_change_set", "ValidationError", "No updates are to be performed.", create_cs_params("UPDATE"))
    assert h.engine.deploy(SPEC).action == "unchanged"
    assert h.calls == ["DescribeStacks", "GetTemplate", "CreateChangeSet"]


def test_other_failed_change_set_is_an_error(h):
    h.add("describe_stacks", stack("UPDATE_COMPLETE"), {"StackName": NAME})
    h.add("create_change_set", {"Id": "cs-arn", "StackId": SID}, create_cs_params("UPDATE"))
    h.add("describe_change_set", change_set("FAILED", reason="Template format error: unresolved resource"))
    h.add("delete_change_set", {}, {"StackName": NAME, "ChangeSetName": CS})
    with pytest.raises(PipelineError, match="change set failed: Template format error"):
        h.engine.deploy(SPEC)


@pytest.mark.parametrize("replacement", ["True", "Conditional"])
def test_replacing_the_function_in_a_protected_env_is_refused(h, replacement):
    spec = StackSpec(NAME, BODY, SPEC.parameters, SPEC.tags, protect=True)
    h.add("describe_stacks", stack("UPDATE_COMPLETE", protected=True), {"StackName": NAME})
    h.add("create_change_set", {"Id": "cs-arn", "StackId": SID}, create_cs_params("UPDATE"))
    h.add("describe_change_set", change_set(changes=[modify("Function", "AWS::Lambda::Function", replacement,
                                                            "FunctionName")]))
    h.add("delete_change_set", {}, {"StackName": NAME, "ChangeSetName": CS})
    with pytest.raises(RefusedError, match=r"would replace Function \(AWS::Lambda::Function") as err:
        h.engine.deploy(spec)
    assert err.value.exit_code == EXIT_REFUSED
    assert "ExecuteChangeSet" not in h.calls
    assert any("replacement: " + replacement in line for line in h.lines)  # the diff was shown first


def test_replacing_the_function_with_force_executes(h):
    spec = StackSpec(NAME, BODY, SPEC.parameters, SPEC.tags, protect=True)
    h.add("describe_stacks", stack("UPDATE_COMPLETE", protected=True), {"StackName": NAME})
    h.add("create_change_set", {"Id": "cs-arn", "StackId": SID}, create_cs_params("UPDATE"))
    h.add("describe_change_set", change_set(changes=[modify("Function", "AWS::Lambda::Function", "True")]))
    h.add("execute_change_set", {}, {"StackName": NAME, "ChangeSetName": CS, "ClientRequestToken": f"exec-{CS}"})
    h.add("describe_stacks", stack("UPDATE_COMPLETE", protected=True), {"StackName": SID})
    h.add("describe_stack_events", {"StackEvents": []}, {"StackName": SID})
    assert h.engine.deploy(spec, force=True).action == "updated"


def test_replacing_other_resources_in_a_protected_env_is_allowed(h):
    spec = StackSpec(NAME, BODY, SPEC.parameters, SPEC.tags, protect=True)
    h.add("describe_stacks", stack("UPDATE_COMPLETE", protected=True), {"StackName": NAME})
    h.add("create_change_set", {"Id": "cs-arn", "StackId": SID}, create_cs_params("UPDATE"))
    h.add("describe_change_set", change_set(changes=[modify("LogGroup", "AWS::Logs::LogGroup", "True")]))
    h.add("execute_change_set", {}, {"StackName": NAME, "ChangeSetName": CS, "ClientRequestToken": f"exec-{CS}"})
    h.add("describe_stacks", stack("UPDATE_COMPLETE", protected=True), {"StackName": SID})
    h.add("describe_stack_events", {"StackEvents": []}, {"StackName": SID})
    assert h.engine.deploy(spec).action == "updated"


def test_dry_run_of_a_new_stack_removes_the_change_set_and_the_review_stack(h):
    h.error("describe_stacks", "ValidationError", f"Stack with id {NAME} does not exist", {"StackName": NAME})
    h.add("create_change_set", {"Id": "cs-arn", "StackId": SID}, create_cs_params("CREATE"))
    h.add("describe_change_set", change_set(changes=[add("Function", "AWS::Lambda::Function")]))
    h.add("delete_change_set", {}, {"StackName": NAME, "ChangeSetName": CS})
    h.add("delete_stack", {}, {"StackName": SID})
    # the review stack takes a moment to go: waited for, so the next command finds no stack
    h.add("describe_stacks", stack("DELETE_IN_PROGRESS"), {"StackName": SID})
    h.add("describe_stacks", stack("DELETE_IN_PROGRESS"), {"StackName": SID})
    h.add("describe_stacks", stack("DELETE_COMPLETE"), {"StackName": SID})
    result = h.engine.deploy(SPEC, dry_run=True)
    assert result.action == "would create"
    assert h.sleeps == [0.2]
    assert [c.logical_id for c in result.changes] == ["Function"]
    assert "ExecuteChangeSet" not in h.calls


def test_pending_change_set_and_running_stack_are_polled_with_growing_intervals(h):
    h.add("describe_stacks", stack("UPDATE_IN_PROGRESS"), {"StackName": NAME})
    h.add("describe_stacks", stack("UPDATE_IN_PROGRESS"), {"StackName": SID})
    h.add("describe_stack_events", {"StackEvents": []}, {"StackName": SID})
    h.add("describe_stacks", stack("UPDATE_COMPLETE"), {"StackName": SID})
    h.add("describe_stack_events", {"StackEvents": []}, {"StackName": SID})
    h.add("create_change_set", {"Id": "cs-arn", "StackId": SID}, create_cs_params("UPDATE"))
    h.add("describe_change_set", change_set("CREATE_PENDING"))
    h.add("describe_change_set", change_set("CREATE_IN_PROGRESS"))
    h.add("describe_change_set", change_set("FAILED", reason="No updates are to be performed."))
    h.add("delete_change_set", {}, {"StackName": NAME, "ChangeSetName": CS})
    assert h.engine.deploy(SPEC).action == "unchanged"
    assert h.sleeps == [0.2, 0.2, pytest.approx(0.3)]


def test_poll_interval_is_capped():
    engine = StackEngine(None, poll=Poll(first=0.2, factor=1.5, cap=5.0))
    intervals = engine._intervals()
    seen = [next(intervals) for _ in range(12)]
    assert seen[0] == 0.2 and max(seen) == 5.0 and seen == sorted(seen)


def test_protected_stack_gets_termination_protection_once(h):
    spec = StackSpec(NAME, BODY, SPEC.parameters, SPEC.tags, protect=True)
    h.add("describe_stacks", stack("UPDATE_COMPLETE", protected=False), {"StackName": NAME})
    h.error("create_change_set", "ValidationError", "No updates are to be performed.", None)
    h.add("update_termination_protection", {}, {"StackName": NAME, "EnableTerminationProtection": True})
    assert h.engine.deploy(spec).action == "unchanged"
    h.add("describe_stacks", stack("UPDATE_COMPLETE", protected=True), {"StackName": NAME})
    h.error("create_change_set", "ValidationError", "No updates are to be performed.", None)
    assert h.engine.deploy(spec).action == "unchanged"
    assert h.calls.count("UpdateTerminationProtection") == 1


def test_failed_stack_state_is_reported_not_touched(h):
    h.add("describe_stacks", stack("DELETE_FAILED", reason="bucket not empty"), {"StackName": NAME})
    h.add("describe_stack_events", {"StackEvents": [event(4, "Bucket", "DELETE_FAILED", "The bucket is not empty",
                                                          "AWS::S3::Bucket")]}, {"StackName": SID})
    with pytest.raises(PipelineError, match="DELETE_FAILED: bucket not empty") as err:
        h.engine.deploy(SPEC)
    assert err.value.details == ["Bucket (AWS::S3::Bucket): DELETE_FAILED: The bucket is not empty"]
