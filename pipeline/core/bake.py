"""What a canary bake says while it waits: a calm ticker with the time left and the alarms' states. Pure.

A 30-minute bake that prints "baking 1800s" and then nothing looks hung; one line a second is noise.
About ten lines per bake, at most one per 10 s and at least one a minute (in CodeBuild each is a JSON
log record, like every progress line).
"""

from __future__ import annotations


def ticker_interval(bake_seconds: int) -> float:
    """How often a bake says how it goes: about ten lines per bake, never more than one per 10 s or less than
    one per minute (a 5 s bake says nothing between its start and its end)."""
    return min(60.0, max(10.0, bake_seconds / 10))


def duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def alarm_summary(states: dict[str, str | None]) -> str:
    if not states:
        return "no alarms watched"
    return "alarms: " + ", ".join(f"{name} {state or 'not found'}" for name, state in sorted(states.items()))
