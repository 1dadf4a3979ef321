"""The pure parts of the stack engine: change set diff and status classification."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.core.changeset import guarded_replacements, parse_changes, render_diff
from pipeline.core.stacks import Health, StackEvent, classify, failure_lines, is_empty_change_set, stack_tags

RAW = [
    {"Type": "Resource", "ResourceChange": {"Action": "Add", "LogicalResourceId": "LogGroup",
                                            "ResourceType": "AWS::Logs::LogGroup"}},
    {"Type": "Resource", "ResourceChange": {
        "Action": "Modify", "LogicalResourceId": "Function", "ResourceType": "AWS::Lambda::Function",
        "PhysicalResourceId": "greeter-dev", "Replacement": "True",
        "Details": [{"Target": {"Attribute": "Properties", "Name": "FunctionName"}},
                    {"Target": {"Attribute": "Properties", "Name": "MemorySize"}},
                    {"Target": {"Attribute": "Properties", "Name": "MemorySize"}}]}},
    {"Type": "Resource", "ResourceChange": {"Action": "Remove", "LogicalResourceId": "Old",
                                            "ResourceType": "AWS::SQS::Queue"}},
]


def test_diff_lists_each_resource_with_sign_replacement_and_properties():
    lines = render_diff(parse_changes(RAW))
    assert len(lines) == 3
    assert lines[0].split() == ["+", "Add", "LogGroup", "AWS::Logs::LogGroup"]
    assert lines[1].split() == ["~", "Modify", "Function", "AWS::Lambda::Function", "replacement:", "True",
                                "(FunctionName,", "MemorySize)"]
    assert lines[2].split() == ["-", "Remove", "Old", "AWS::SQS::Queue"]


def test_diff_without_replacement_info_says_nothing_about_it():
    changes = parse_changes([{"Type": "Resource", "ResourceChange": {
        "Action": "Modify", "LogicalResourceId": "Function", "ResourceType": "AWS::Lambda::Function"}}])
    assert "replacement" not in render_diff(changes)[0]
    assert guarded_replacements(changes, ["AWS::Lambda::Function"]) == []
    assert render_diff(()) == ["  (no resource-level changes listed)"]


def test_guarded_replacements_only_names_guarded_types():
    changes = parse_changes(RAW)
    assert [c.logical_id for c in guarded_replacements(changes, ["AWS::Lambda::Function"])] == ["Function"]
    assert guarded_replacements(changes, ["AWS::S3::Bucket"]) == []


@pytest.mark.parametrize(("status", "health"), [
    (None, Health.ABSENT), ("DELETE_COMPLETE", Health.ABSENT),
    ("CREATE_COMPLETE", Health.HEALTHY), ("UPDATE_COMPLETE", Health.HEALTHY),
    ("UPDATE_ROLLBACK_COMPLETE", Health.HEALTHY),
    ("CREATE_IN_PROGRESS", Health.IN_PROGRESS), ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", Health.IN_PROGRESS),
    ("ROLLBACK_COMPLETE", Health.STUCK_RECREATE), ("CREATE_FAILED", Health.STUCK_RECREATE),
    ("REVIEW_IN_PROGRESS", Health.STUCK_RECREATE), ("ROLLBACK_FAILED", Health.STUCK_RECREATE),
    ("UPDATE_ROLLBACK_FAILED", Health.STUCK_CONTINUE_ROLLBACK),
    ("DELETE_FAILED", Health.FAILED), ("UPDATE_FAILED", Health.FAILED),
])
def test_status_classes(status, health):
    assert classify(status) is health


@pytest.mark.parametrize(("reason", "empty"), [
    ("The submitted information didn't contain changes. Submit different information to create a change set.", True),
    ("No updates are to be performed.", True),
    ("Template error: unresolved resource dependencies", False),
    (None, False),
])
def test_empty_change_set_reasons(reason, empty):
    assert is_empty_change_set(reason) is empty


def test_failure_lines_prefer_resources_over_the_stack():
    t = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    events = [StackEvent("1", t, "s", "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_COMPLETE"),
              StackEvent("2", t, "s", "AWS::CloudFormation::Stack", "UPDATE_FAILED", "The following failed: Fn"),
              StackEvent("3", t, "Fn", "AWS::Lambda::Function", "UPDATE_FAILED", "bad memory")]
    assert failure_lines(events) == ["Fn (AWS::Lambda::Function): UPDATE_FAILED: bad memory"]
    assert failure_lines(events[:2]) == ["s (AWS::CloudFormation::Stack): UPDATE_FAILED: The following failed: Fn"]


def test_stack_tags():
    assert stack_tags("abc", "function", "dev") == {"pipeline:bootstrap-version": "abc", "pipeline:kind": "function",
                                                    "pipeline:env": "dev"}
    assert "pipeline:env" not in stack_tags("abc", "tooling", None)
