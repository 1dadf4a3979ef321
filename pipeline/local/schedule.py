"""EventBridge schedule expressions: `rate(value unit)` and `cron(min hour day-of-month month day-of-week year)`.

As EventBridge documents them (docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html):
a rate's value is a positive whole number, its unit `minute` for 1 and `minutes` otherwise (hours, days
alike); a cron has six fields, all UTC, and exactly one of day-of-month and day-of-week is `?`. `parse`
raises InvalidSchedule for what PutRule refuses ("Parameter ScheduleExpression is not valid.") and
Unsupported for a valid cron the emulator cannot fire (the `L`, `W` and `#` wildcards): the rule is
stored, the scheduler logs that it never fires it. Times here are wall-clock UTC minutes; the scheduler
scales the gaps between them (`events_scheduler`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

_RATE = re.compile(r"^rate\((?P<value>[1-9]\d*) (?P<unit>minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((?P<fields>[^()]+)\)$")
_UNIT_S = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())}
_DAYS = {d: i + 1 for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split())}  # EventBridge: 1 = Sunday
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (1, 7), (1970, 2199))
_HORIZON_DAYS = 366 * 5


class InvalidSchedule(ValueError):
    """PutRule refuses this expression."""


class Unsupported(ValueError):
    """A valid expression the emulator's scheduler cannot compute (it never fires the rule)."""


@dataclass(frozen=True)
class Rate:
    seconds: int  # wall-clock seconds between two runs


@dataclass(frozen=True)
class Cron:
    fields: tuple[frozenset[int] | None, ...]  # None: any (`*` or `?`)

    def next_after(self, moment: datetime) -> datetime | None:
        """The first matching minute strictly after `moment` (naive UTC), None within five years."""
        minutes, hours, doms, months, dows, years = self.fields
        start = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        for _ in range(_HORIZON_DAYS):
            if _ok(years, day.year) and _ok(months, day.month) and _ok(doms, day.day) \
                    and _ok(dows, day.isoweekday() % 7 + 1):
                for hour in sorted(hours) if hours else range(24):
                    for minute in sorted(minutes) if minutes else range(60):
                        candidate = day.replace(hour=hour, minute=minute)
                        if candidate >= start:
                            return candidate
            day += timedelta(days=1)
        return None


def _ok(allowed: frozenset[int] | None, value: int) -> bool:
    return allowed is None or value in allowed


def parse(expression: str) -> Rate | Cron:
    rate = _RATE.match(expression or "")
    if rate is not None:
        value, unit = int(rate["value"]), rate["unit"]
        if (value == 1) != (not unit.endswith("s")):
            raise InvalidSchedule(f"{expression}: the unit is singular for 1 and plural otherwise")
        return Rate(value * _UNIT_S[unit.rstrip("s")])
    cron = _CRON.match(expression or "")
    if cron is None:
        raise InvalidSchedule(f"{expression!r} is neither rate(...) nor cron(...)")
    parts = cron["fields"].split()
    if len(parts) != 6:
        raise InvalidSchedule(f"{expression}: a cron has 6 fields, not {len(parts)}")
    if (parts[2] == "?") == (parts[4] == "?"):
        raise InvalidSchedule(f"{expression}: exactly one of day-of-month and day-of-week must be '?'")
    fields = tuple(_field(text, index, expression) for index, text in enumerate(parts))
    return Cron(fields)


def _field(text: str, index: int, expression: str) -> frozenset[int] | None:
    if text == "?" and index in (2, 4):
        return None
    if text == "*":
        return None
    if index in (2, 4) and re.search(r"[LW#]", re.sub(r"SUN|MON|TUE|WED|THU|FRI|SAT", "", text.upper())):
        raise Unsupported(f"{expression}: the emulator does not compute the L, W and # wildcards")
    low, high = _BOUNDS[index]
    names = _MONTHS if index == 3 else _DAYS if index == 4 else {}
    values: set[int] = set()
    for item in text.split(","):
        base, _, step_text = item.partition("/")
        first, last = (low, high) if base == "*" else _range(base, names, expression)
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise InvalidSchedule(f"{expression}: bad step {item!r}")
        if step and base != "*" and "-" not in base:
            last = high  # `5/15`: from 5 on, every 15
        if not (low <= first <= high and low <= last <= high):
            raise InvalidSchedule(f"{expression}: {item!r} is out of {low}-{high}")
        values.update(range(first, last + 1, step or 1) if first <= last else
                      [*range(first, high + 1, step or 1), *range(low, last + 1, step or 1)])
    return frozenset(values)


def _range(text: str, names: dict[str, int], expression: str) -> tuple[int, int]:
    ends = text.split("-")
    if len(ends) > 2 or not all(ends):
        raise InvalidSchedule(f"{expression}: bad field {text!r}")
    try:
        numbers = [names[e.upper()] if e.upper() in names else int(e) for e in ends]
    except ValueError:
        raise InvalidSchedule(f"{expression}: bad field {text!r}") from None
    return numbers[0], numbers[-1]
