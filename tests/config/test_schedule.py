"""EventBridge schedule expressions: what EventBridge accepts passes, the rest is named in one sentence."""

from __future__ import annotations

import pytest

from pipeline.config.schedule import schedule_problem

VALID = [
    "rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(12 hours)", "rate(1 day)", "rate(7 days)",
    "cron(0 12 * * ? *)", "cron(15 10 ? * 6L 2024-2030)", "cron(0/15 * * * ? *)", "cron(0 18 ? * MON-FRI *)",
    "cron(0 8 1 * ? *)", "cron(0/10 * ? * MON-FRI *)", "cron(0/5 8-17 ? * MON-FRI *)", "cron(0 9 ? * 2#1 *)",
    "cron(0 9 ? * FRI#3 *)", "cron(0 0 L * ? *)", "cron(0 0 LW * ? *)", "cron(0 0 15W * ? *)",
    "cron(0 0 ? * L *)", "cron(5,35 14 * JAN,MAR,DEC ? *)", "cron(1-10/2 * * * ? *)", "cron(0 0 */2 * ? *)",
    "cron(0 0 ? jan-jun sun *)", "cron(59 23 31 12 ? 2199)", "cron(0 0 1 1 ? 1970)", "cron(0 0 ? * FRI-MON *)",
]

INVALID = [
    ("every 5 minutes", "is neither rate(value unit) nor cron("),
    ("rate(5minutes)", "is not rate(value unit)"),
    ("rate( 5 minutes)", "is not rate(value unit)"),
    ("rate(0 minutes)", "needs a positive integer value, got '0'"),
    ("rate(-1 minutes)", "needs a positive integer value, got '-1'"),
    ("rate(1.5 hours)", "needs a positive integer value, got '1.5'"),
    ("rate(1 minutes)", "needs the singular unit 'minute' for the value 1"),
    ("rate(5 minute)", "needs the plural unit 'minutes' for a value above 1"),
    ("rate(2 weeks)", "has unit 'weeks': use minute(s), hour(s) or day(s)"),
    ("rate(2 Minutes)", "has unit 'Minutes'"),
    ("cron(0 12 * * ?)", "has 5 fields: cron needs 6"),
    ("cron(0 12 * * ? * *)", "has 7 fields: cron needs 6"),
    ("cron(0 12 * * * *)", "must have ? in exactly one of day-of-month and day-of-week"),
    ("cron(0 12 ? * ? *)", "must have ? in exactly one of day-of-month and day-of-week"),
    ("cron(0 12 1 * MON *)", "must have ? in exactly one of day-of-month and day-of-week"),
    ("cron(60 12 * * ? *)", "has 60 in minutes: outside 0-59"),
    ("cron(0 24 * * ? *)", "has 24 in hours: outside 0-23"),
    ("cron(0 0 0 * ? *)", "has 0 in day-of-month: outside 1-31"),
    ("cron(0 0 32 * ? *)", "has 32 in day-of-month: outside 1-31"),
    ("cron(0 0 1 13 ? *)", "has 13 in month: outside 1-12"),
    ("cron(0 0 1 FOO ? *)", "has 'FOO' in month: expected 1-12 or JAN-DEC"),
    ("cron(0 0 ? * 8 *)", "has 8 in day-of-week: outside 1-7"),
    ("cron(0 0 ? * MOM *)", "has 'MOM' in day-of-week: expected 1-7 or SUN-SAT"),
    ("cron(0 0 1 * ? 1969)", "has 1969 in year: outside 1970-2199"),
    ("cron(0 0 1 * ? 2200)", "has 2200 in year: outside 1970-2199"),
    ("cron(? 0 1 * ? *)", "has ? in minutes: only day-of-month and day-of-week take ?"),
    ("cron(0 0 ? * MON/2 *)", "day-of-week takes no / increments"),
    ("cron(0/0 * * * ? *)", "the increment after / must be a positive integer"),
    ("cron(30-10 * * * ? *)", "the range runs backwards"),
    ("cron(0 0 ? * 3#1,6#3 *)", "# takes one day and an instance 1-5, alone in the field"),
    ("cron(0 0 ? * 3#6 *)", "# takes one day and an instance 1-5"),
    ("cron(0 0 L * ? *)x", "is not cron("),
    ("cron(0 0 32W * ? *)", "has 32 in day-of-month: outside 1-31"),
    ("cron(0 0 ? * 8L *)", "has '8L' in day-of-week"),
    ("cron(0 0 W * ? *)", "has 'W' in day-of-month"),
    ("cron(0 0 L * ? *", "is not cron("),
    ("cron(0 0 1,,2 * ? *)", "has '' in day-of-month"),
]


@pytest.mark.parametrize("expression", VALID)
def test_eventbridge_accepts(expression: str):
    assert schedule_problem(expression) is None


@pytest.mark.parametrize(("expression", "said"), INVALID, ids=[e for e, _ in INVALID])
def test_eventbridge_refuses(expression: str, said: str):
    problem = schedule_problem(expression)
    assert problem is not None and problem.startswith(repr(expression)), problem
    assert said in problem, problem
