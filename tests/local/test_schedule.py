"""EventBridge schedule expressions (`schedule.py`) and the scheduler's scaled clock (`events_scheduler.py`)."""

from __future__ import annotations

from datetime import datetime

import boto3
import pytest
from botocore.exceptions import ClientError

from pipeline.local import events_scheduler, schedule, timing


@pytest.mark.parametrize(("expression", "seconds"), [
    ("rate(1 minute)", 60), ("rate(5 minutes)", 300), ("rate(1 hour)", 3600), ("rate(2 days)", 172800)])
def test_rates(expression, seconds):
    assert schedule.parse(expression) == schedule.Rate(seconds)


@pytest.mark.parametrize("expression", [
    "rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(1 week)", "rate(1minute)", "every minute",
    "cron(0 12 * * *)", "cron(0 12 * * * *)", "cron(0 12 ? * ? *)", "cron(61 * * * ? *)", "cron(0 25 * * ? *)"])
def test_what_eventbridge_refuses(expression):
    with pytest.raises(schedule.InvalidSchedule):
        schedule.parse(expression)


def test_cron_next_runs():
    every_ten = schedule.parse("cron(0/10 * * * ? *)")
    assert every_ten.next_after(datetime(2026, 3, 1, 8, 3, 30)) == datetime(2026, 3, 1, 8, 10)
    assert every_ten.next_after(datetime(2026, 3, 1, 8, 50)) == datetime(2026, 3, 1, 9, 0)
    weekdays = schedule.parse("cron(15 10 ? * MON-FRI *)")
    assert weekdays.next_after(datetime(2026, 3, 6, 10, 15)) == datetime(2026, 3, 9, 10, 15)  # Fri -> Mon
    first = schedule.parse("cron(0 0 1 JAN,JUL ? 2027)")
    assert first.next_after(datetime(2026, 3, 1)) == datetime(2027, 1, 1)
    assert schedule.parse("cron(0 0 1 1 ? 2020)").next_after(datetime(2026, 1, 1)) is None


def test_l_w_and_hash_are_valid_but_not_computed():
    for expression in ("cron(0 0 L * ? *)", "cron(0 0 ? * 6#3 *)", "cron(0 0 15W * ? *)"):
        with pytest.raises(schedule.Unsupported):
            schedule.parse(expression)


def test_the_period_follows_the_time_scale():
    for chosen, minute in ((timing.profile("aws"), 60.0), (timing.profile("aws", 0.1), 6.0),
                           (timing.profile("instant"), 0.5)):
        with timing.using(chosen):
            assert timing.active().window("events.minute") == pytest.approx(minute)
            plan = {"schedule": schedule.Rate(300), "due": None, "cursor": datetime(2026, 1, 1)}
            events_scheduler._advance(plan, 100.0)
            assert plan["due"] == pytest.approx(100.0 + 5 * minute)
            plan = {"schedule": schedule.parse("cron(0/10 * * * ? *)"), "due": None,
                    "cursor": datetime(2026, 1, 1, 0, 3)}
            events_scheduler._advance(plan, 100.0)
            assert plan["due"] == pytest.approx(100.0 + 7 * minute) and plan["cursor"] == datetime(2026, 1, 1, 0, 10)


@pytest.mark.emulator
def test_put_rule_refuses_an_invalid_schedule_and_keeps_a_valid_one(clients):
    events = boto3.client("events", **clients["kw"])
    with pytest.raises(ClientError) as caught:
        events.put_rule(Name="bad-rate", ScheduleExpression="rate(1 minutes)")
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert caught.value.response["Error"]["Message"] == "Parameter ScheduleExpression is not valid."
    events.put_rule(Name="last-day", ScheduleExpression="cron(0 0 L * ? *)", State="DISABLED")
    assert events.describe_rule(Name="last-day")["ScheduleExpression"] == "cron(0 0 L * ? *)"
