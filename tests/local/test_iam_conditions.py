"""The emulator's IAM condition operators, one row per rule of AWS's documented condition logic: String, Numeric,
Date, Bool, Arn and Null operators, `IfExists`, the `ForAllValues`/`ForAnyValue` set operators, keys and operators
matched without regard to case, several keys (all must hold), and policy variables (`${aws:PrincipalArn}`, a
default value, `${$}`). The evaluator's other rules are in test_iam_evaluator.py.
"""

from __future__ import annotations

import pytest

from pipeline.local.iam.conditions import conditions_hold
from pipeline.local.iam.policy import parse_policy


def statement_with(condition: dict) -> object:
    document = {"Statement": [{"Effect": "Allow", "Action": "lambda:GetFunction", "Resource": "*",
                               "Condition": condition}]}
    return parse_policy(document, "p").statements[0]


CONDITIONS = [
    ({"StringEquals": {"k": "a"}}, {"k": ["a"]}, True),
    ({"StringEquals": {"k": "a"}}, {"k": ["A"]}, False),
    ({"StringEqualsIgnoreCase": {"k": "a"}}, {"k": ["A"]}, True),
    ({"StringEquals": {"k": ["a", "b"]}}, {"k": ["b"]}, True),
    ({"StringEquals": {"k": "a"}}, {}, False),
    ({"StringNotEquals": {"k": "a"}}, {}, True),
    ({"StringNotEquals": {"k": "a"}}, {"k": ["a"]}, False),
    ({"StringEqualsIfExists": {"k": "a"}}, {}, True),
    ({"StringEqualsIfExists": {"k": "a"}}, {"k": ["b"]}, False),
    ({"StringLike": {"k": "ab*"}}, {"k": ["abc"]}, True),
    ({"StringNotLike": {"k": "ab*"}}, {"k": ["abc"]}, False),
    ({"Null": {"k": "true"}}, {}, True),
    ({"Null": {"k": "true"}}, {"k": ["x"]}, False),
    ({"Null": {"k": "false"}}, {"k": ["x"]}, True),
    ({"Bool": {"aws:SecureTransport": "true"}}, {"aws:securetransport": ["true"]}, True),
    ({"Bool": {"aws:SecureTransport": True}}, {"aws:securetransport": ["false"]}, False),
    ({"NumericLessThan": {"n": "10"}}, {"n": ["9"]}, True),
    ({"NumericLessThan": {"n": "10"}}, {"n": ["10"]}, False),
    ({"NumericGreaterThanEquals": {"n": 10}}, {"n": ["10"]}, True),
    ({"NumericEquals": {"n": "1"}}, {"n": ["one"]}, False),
    ({"DateGreaterThan": {"d": "2026-01-01T00:00:00Z"}}, {"d": ["2026-06-01T00:00:00Z"]}, True),
    ({"ArnLike": {"a": "arn:aws:iam::*:role/x"}}, {"a": ["arn:aws:iam::1:role/x"]}, True),
    ({"ArnLike": {"a": "arn:aws:iam::*:role/x"}}, {"a": ["arn:aws:iam::1:role/y"]}, False),
    ({"ArnNotEquals": {"a": "arn:aws:iam::1:role/x"}}, {}, True),
    ({"ForAllValues:StringEquals": {"t": ["a", "b"]}}, {"t": ["a", "b"]}, True),
    ({"ForAllValues:StringEquals": {"t": ["a", "b"]}}, {"t": ["a", "c"]}, False),
    ({"ForAllValues:StringEquals": {"t": ["a"]}}, {}, True),
    ({"ForAnyValue:StringEquals": {"t": ["a"]}}, {}, False),
    ({"ForAnyValue:StringLike": {"t": ["a*"]}}, {"t": ["x", "ab"]}, True),
    ({"StringEquals": {"k": "a", "j": "b"}}, {"k": ["a"]}, False),
    ({"StringEquals": {"k": "a"}, "StringLike": {"j": "b*"}}, {"k": ["a"], "j": ["bb"]}, True),
    ({"stringequals": {"K": "a"}}, {"k": ["a"]}, True),
    # Policy variables: replaced by the context's value of that key.
    ({"StringEquals": {"tag": "${aws:PrincipalArn}"}}, {"tag": ["r"], "aws:principalarn": ["r"]}, True),
    ({"StringEquals": {"tag": "${aws:PrincipalArn}"}}, {"tag": ["x"], "aws:principalarn": ["r"]}, False),
    ({"StringNotEquals": {"tag": "${aws:PrincipalArn}"}}, {"tag": ["x"], "aws:principalarn": ["r"]}, True),
    ({"StringNotEquals": {"tag": "${aws:PrincipalArn}"}}, {"aws:principalarn": ["r"]}, True),  # tag missing
    ({"StringLike": {"p": "home/${aws:username}/*"}}, {"p": ["home/bob/x"], "aws:username": ["bob"]}, True),
    ({"StringLike": {"p": "home/${aws:username}/*"}}, {"p": ["home/eve/x"], "aws:username": ["bob"]}, False),
    # No value: matches nothing, and a negated test holding it does not apply; a default fills in.
    ({"StringEquals": {"p": "${aws:username}"}}, {"p": [""]}, False),
    ({"StringNotEquals": {"p": "${aws:username}"}}, {"p": ["x"]}, False),
    ({"StringEquals": {"p": "${aws:username, 'none'}"}}, {"p": ["none"]}, True),
    ({"StringEquals": {"p": "a${$}b"}}, {"p": ["a$b"]}, True),
]


@pytest.mark.parametrize("condition,context,expected", CONDITIONS)
def test_condition(condition, context, expected):
    assert conditions_hold(statement_with(condition).conditions, context) is expected
