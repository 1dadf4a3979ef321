"""EventBridge schedule expressions (`functions.<key>.schedule`), parsed as EventBridge documents them.

`rate(value unit)`: value a positive integer, unit minute(s), hour(s) or day(s), singular exactly when the
value is 1. `cron(minutes hours day-of-month month day-of-week year)`: six fields; `, - * /` everywhere but
day-of-week (no `/`); `?` only in day-of-month or day-of-week, and exactly one of the two must be `?`;
`L` and `W` in day-of-month (`L`, `LW`, `15W`); `L` and `#` in day-of-week (`L`, `6L`, `3#2`, `FRI#2`, a
`#` expression alone in its field); month names JAN-DEC, day names SUN-SAT (SUN = 1); years 1970-2199.
`schedule_problem` answers None or what is wrong, in one sentence. Pure: no pydantic, no AWS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RATE = re.compile(r"rate\((\S+) (\S+)\)")
_CRON = re.compile(r"cron\((.*)\)")
_UNITS = ("minute", "hour", "day")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names for low, low+1, ...
    step: bool = True  # `/` allowed


_FIELDS = (_Field("minutes", 0, 59), _Field("hours", 0, 23), _Field("day-of-month", 1, 31),
           _Field("month", 1, 12, _MONTHS), _Field("day-of-week", 1, 7, _DAYS, step=False),
           _Field("year", 1970, 2199))


class _Bad(ValueError):
    pass


def schedule_problem(expression: str) -> str | None:
    """None when EventBridge accepts `expression`, else why not (one sentence, no trailing period)."""
    try:
        if expression.startswith("rate("):
            _rate(expression)
        elif expression.startswith("cron("):
            _cron(expression)
        else:
            raise _Bad("is neither rate(value unit) nor cron(minutes hours day-of-month month day-of-week year)")
    except _Bad as exc:
        return f"{expression!r} {exc}"
    return None


def _rate(expression: str) -> None:
    match = _RATE.fullmatch(expression)
    if not match:
        raise _Bad("is not rate(value unit) (one space between a positive integer and minute(s), hour(s) or day(s))")
    value, unit = match.groups()
    if not value.isdigit() or int(value) < 1:
        raise _Bad(f"needs a positive integer value, got {value!r}")
    singular = unit.removesuffix("s")
    if singular not in _UNITS:
        raise _Bad(f"has unit {unit!r}: use minute(s), hour(s) or day(s)")
    if int(value) == 1 and unit != singular:
        raise _Bad(f"needs the singular unit {singular!r} for the value 1")
    if int(value) > 1 and unit == singular:
        raise _Bad(f"needs the plural unit {singular + 's'!r} for a value above 1")


def _cron(expression: str) -> None:
    match = _CRON.fullmatch(expression)
    if not match:
        raise _Bad("is not cron(minutes hours day-of-month month day-of-week year)")
    parts = match.group(1).split()
    if len(parts) != 6:
        raise _Bad(f"has {len(parts)} fields: cron needs 6 (minutes hours day-of-month month day-of-week year)")
    for spec, text in zip(_FIELDS, parts, strict=True):
        _field(spec, text.upper())
    dom, dow = parts[2], parts[4]
    if (dom == "?") == (dow == "?"):
        raise _Bad("must have ? in exactly one of day-of-month and day-of-week (the other names the days)")


def _field(spec: _Field, text: str) -> None:
    if text == "?":
        if spec.name not in ("day-of-month", "day-of-week"):
            raise _Bad(f"has ? in {spec.name}: only day-of-month and day-of-week take ?")
        return
    if spec.name == "day-of-month" and re.fullmatch(r"L|LW|\d{1,2}W", text):
        if text.endswith("W") and text != "LW":
            _number(spec, text[:-1])
        return
    if spec.name == "day-of-week":
        if re.fullmatch(r"L|[1-7]L", text):
            if text != "L":
                _number(spec, text[:-1])
            return
        if "#" in text:
            day, _, nth = text.partition("#")
            if "," in text or "-" in day or not nth.isdigit() or not 1 <= int(nth) <= 5:
                raise _Bad(f"has {text!r} in day-of-week: # takes one day and an instance 1-5, alone in the field "
                           "(like 3#2 or FRI#2)")
            _number(spec, day)
            return
    for item in text.split(","):
        _item(spec, item)


def _item(spec: _Field, item: str) -> None:
    base, slash, step = item.partition("/")
    if slash:
        if not spec.step:
            raise _Bad(f"has {item!r} in {spec.name}: {spec.name} takes no / increments")
        if not step.isdigit() or int(step) < 1:
            raise _Bad(f"has {item!r} in {spec.name}: the increment after / must be a positive integer")
    if base == "*":
        return
    low, dash, high = base.partition("-")
    first = _number(spec, low)
    if dash and _number(spec, high) < first and spec.name not in ("day-of-week", "month"):
        raise _Bad(f"has {item!r} in {spec.name}: the range runs backwards")


def _number(spec: _Field, text: str) -> int:
    if text in spec.names:
        return spec.low + spec.names.index(text)
    if not text.isdigit():
        allowed = f"{spec.low}-{spec.high}" + (f" or {spec.names[0]}-{spec.names[-1]}" if spec.names else "")
        raise _Bad(f"has {text!r} in {spec.name}: expected {allowed}")
    value = int(text)
    if not spec.low <= value <= spec.high:
        raise _Bad(f"has {value} in {spec.name}: outside {spec.low}-{spec.high}")
    return value
