"""The request's tags become aws:RequestTag/<key> and aws:TagKeys, from every form the product sends them in."""

from __future__ import annotations

from pipeline.local.authz.tags import condition_keys, request_tags
from pipeline.local.iam.evaluate import Policies, Principal, Request, evaluate
from pipeline.local.iam.policy import parse_policy


def test_query_json_map_json_list_and_s3_header_forms() -> None:
    assert request_tags({"Tags.member.1.Key": "owner", "Tags.member.1.Value": "dora",
                         "Tags.member.2.Key": "ttl", "Tags.member.2.Value": "7"}, {}) == {"owner": "dora", "ttl": "7"}
    assert request_tags({"Tags": {"owner": "dora"}}, {}) == {"owner": "dora"}
    assert request_tags({"ResourceTags": [{"Key": "owner", "Value": "dora"}]}, {}) == {"owner": "dora"}
    assert request_tags({}, {"X-Amz-Tagging": "owner=dora&team=a"}) == {"owner": "dora", "team": "a"}
    assert request_tags({"FunctionName": "f"}, {}) == {}


def test_condition_keys_are_absent_without_tags() -> None:
    assert condition_keys({}) == {}
    assert condition_keys({"owner": "dora", "a": "1"}) == {
        "aws:RequestTag/owner": ["dora"], "aws:RequestTag/a": ["1"], "aws:TagKeys": ["a", "owner"]}


def test_a_deny_without_the_owner_tag_refuses_only_untagged_requests() -> None:
    policy = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "cloudformation:CreateChangeSet", "Resource": "*",
         "Condition": {"Null": {"aws:RequestTag/owner": "true"}}}]}, "boundary-test")
    who = Principal("arn:aws:sts::666666666666:assumed-role/dev/dora", "666666666666", "assumed-role",
                    "arn:aws:iam::666666666666:role/dev")
    action, stack = "cloudformation:CreateChangeSet", "arn:aws:cloudformation:us-east-1:666666666666:stack/s/*"
    tagged = condition_keys(request_tags({"Tags.member.1.Key": "owner", "Tags.member.1.Value": "dora"}, {}))
    assert evaluate(Request(who, action, stack, tagged, "666666666666"), Policies((policy,), None)).allowed
    assert not evaluate(Request(who, action, stack, {}, "666666666666"), Policies((policy,), None)).allowed
