"""Stack engine happy paths against the embedded emulator: create, update, no-op, dry run."""

from __future__ import annotations

import pytest

from pipeline.aws.session import SessionFactory
from pipeline.core.stacks import StackSpec
from pipeline.engine.stacks import StackEngine

pytestmark = pytest.mark.emulator

BODY = """
Parameters:
  Retention: {Type: Number}
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties: {LogGroupName: /engine/test, RetentionInDays: !Ref Retention}
Outputs:
  LogGroupArn: {Value: !GetAtt Logs.Arn}
  Retention: {Value: !Ref Retention}
"""


def spec(retention: str = "7", version: str = "v1") -> StackSpec:
    return StackSpec("engine-test", BODY, {"Retention": retention},
                     {"pipeline:bootstrap-version": version, "pipeline:kind": "test"})


@pytest.fixture
def engine(aws):
    lines: list[str] = []
    client = SessionFactory(region="us-east-1").base().client("cloudformation")
    eng = StackEngine(client, lines.append)
    eng.lines = lines  # type: ignore[attr-defined]
    return eng


def test_create_then_noop_then_update(engine):
    created = engine.deploy(spec())
    assert (created.action, created.status, created.changed) == ("created", "CREATE_COMPLETE", True)
    assert created.outputs["Retention"] == "7"
    assert "engine/test" in created.outputs["LogGroupArn"]
    assert any("+ Add" in line and "Logs" in line for line in engine.lines)
    assert any("CREATE_COMPLETE" in line for line in engine.lines)  # events were streamed

    again = engine.deploy(spec())
    assert (again.action, again.changed) == ("unchanged", False)
    assert again.outputs == created.outputs

    updated = engine.deploy(spec("14", "v2"))
    assert (updated.action, updated.status) == ("updated", "UPDATE_COMPLETE")
    assert updated.outputs["Retention"] == "14"
    state = engine.describe("engine-test")
    assert state is not None and state.version == "v2" and state.tags["pipeline:kind"] == "test"


def test_dry_run_writes_nothing(engine):
    planned = engine.deploy(spec(), dry_run=True)
    assert planned.action == "would create"
    assert [c.logical_id for c in planned.changes] == ["Logs"]
    assert engine.describe("engine-test") is None  # the review stack is gone too

    engine.deploy(spec())
    before = {s["ChangeSetName"] for s in engine.stacks.client.list_change_sets(StackName="engine-test")["Summaries"]}
    planned = engine.deploy(spec("30"), dry_run=True)
    assert planned.action == "would update"
    # (moto lists no Changes for a parameter-only change; the diff itself is covered by the Stubber tests)
    state = engine.describe("engine-test")
    assert state is not None and state.parameters["Retention"] == "7" and state.status == "CREATE_COMPLETE"
    after = {s["ChangeSetName"] for s in engine.stacks.client.list_change_sets(StackName="engine-test")["Summaries"]}
    assert after == before  # the dry run's change set was deleted


def test_parameterless_stack_is_unchanged_on_second_deploy(engine):
    body = "Resources:\n  Logs:\n    Type: AWS::Logs::LogGroup\n    Properties: {LogGroupName: /engine/plain}\n"
    first = engine.deploy(StackSpec("engine-plain", body, {}, {"pipeline:kind": "test"}))
    second = engine.deploy(StackSpec("engine-plain", body, {}, {"pipeline:kind": "test"}))
    assert (first.action, second.action) == ("created", "unchanged")
    third = engine.deploy(StackSpec("engine-plain", body.replace("plain", "plain2"), {}, {"pipeline:kind": "v2"}))
    assert third.action == "updated"
    state = engine.describe("engine-plain")
    assert state is not None and state.tags == {"pipeline:kind": "v2"}  # tags follow the change set


def test_describe_of_a_missing_stack_is_none(engine):
    assert engine.describe("no-such-stack") is None


def test_protected_stack_gets_termination_protection(engine):
    protected = StackSpec("engine-protected", BODY, {"Retention": "7"}, {"pipeline:kind": "test"}, protect=True)
    engine.deploy(protected)
    state = engine.describe("engine-protected")
    assert state is not None and state.termination_protection
    assert not any("warning" in line for line in engine.lines)
    with pytest.raises(Exception, match="TerminationProtection is enabled"):
        engine.stacks.client.delete_stack(StackName="engine-protected")


def test_a_stack_left_in_review_in_progress_is_created_without_delete_or_force(engine):
    """A CREATE change set whose answer was lost (or whose run was cut off) left the stack REVIEW_IN_PROGRESS;
    the next deploy creates it through a new change set, even when protected, and it ends up one stack."""
    first = spec()
    engine.stacks.client.create_change_set(StackName=first.name, ChangeSetName="lost-answer", ChangeSetType="CREATE",
                                           TemplateBody=first.body, Parameters=first.cfn_parameters())
    assert engine.describe(first.name).status == "REVIEW_IN_PROGRESS"
    protected = StackSpec(first.name, first.body, first.parameters, first.tags, protect=True)
    result = engine.deploy(protected)
    assert (result.action, result.status) == ("created", "CREATE_COMPLETE")
    names = [s["StackName"] for s in engine.stacks.client.list_stacks()["StackSummaries"]]
    assert names == [first.name]
