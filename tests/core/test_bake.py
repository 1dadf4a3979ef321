"""The bake ticker's words and rate (core.bake)."""

from __future__ import annotations

from pipeline.core.bake import alarm_summary, duration, ticker_interval


def test_about_ten_lines_per_bake_between_one_per_10_s_and_one_per_minute():
    assert ticker_interval(5) == 10.0  # a short bake: nothing between its start and end
    assert ticker_interval(300) == 30.0
    assert ticker_interval(1800) == 60.0


def test_time_left_and_alarm_states_read_as_written():
    assert duration(59.6) == "1m00s" and duration(12.2) == "12s" and duration(-1) == "0s"
    assert duration(1790) == "29m50s"
    assert alarm_summary({}) == "no alarms watched"
    assert alarm_summary({"b": "ALARM", "a": "OK", "c": None}) == "alarms: a OK, b ALARM, c not found"
