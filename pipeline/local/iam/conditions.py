"""The Condition element: AWS's operators over a request context.

The context maps each key (case-insensitive, stored lower-case) to its values; single-valued keys
hold one value. Rules, as AWS documents them:
- operators of one block AND together, keys within an operator AND, values of one key OR;
- a key missing from the context makes a positive operator false and a negated one (`...Not...`)
  true; `...IfExists` makes a missing key true; `Null: true` means "missing";
- `ForAnyValue:` is true when some request value matches (false for a missing key),
  `ForAllValues:` when every request value matches (true for a missing or empty key).
- a policy variable in a value (`${aws:PrincipalArn}`, `${aws:username, 'default'}`) is replaced by
  the context's single value of that key; `${*}`, `${?}`, `${$}` are the literal characters; a
  variable with no value and no default resolves to nothing, so that value matches no request
  value, and a negated operator holding it is false (the statement cannot apply).
An operator this module does not know raises PolicyError: never a silent allow or deny.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence

from pipeline.local.iam.policy import Conditions, PolicyError, glob_match

Context = Mapping[str, Sequence[str]]


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _date(text: str) -> float | None:
    try:
        return float(text) if text.replace(".", "", 1).isdigit() else \
            dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _numeric(test: Callable[[float, float], bool], parse: Callable[[str], float | None]) \
        -> Callable[[str, str], bool]:
    def match(value: str, pattern: str) -> bool:
        a, b = parse(value), parse(pattern)
        return a is not None and b is not None and test(a, b)
    return match


def _arn_like(value: str, pattern: str) -> bool:
    # ARNs compare per colon-separated part, so a `*` never spans the `:` between partition, service,
    # region and account; the last part (resource) may hold `:` itself.
    v, p = value.split(":", 5), pattern.split(":", 5)
    if len(v) != len(p):
        return False
    return all(glob_match(pp, vv) for pp, vv in zip(p, v, strict=True))


# base operator -> (value matches pattern, negated)
_OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "stringequals": (lambda v, p: v == p, False),
    "stringnotequals": (lambda v, p: v == p, True),
    "stringequalsignorecase": (lambda v, p: v.lower() == p.lower(), False),
    "stringnotequalsignorecase": (lambda v, p: v.lower() == p.lower(), True),
    "stringlike": (lambda v, p: glob_match(p, v), False),
    "stringnotlike": (lambda v, p: glob_match(p, v), True),
    "arnequals": (_arn_like, False),
    "arnlike": (_arn_like, False),
    "arnnotequals": (_arn_like, True),
    "arnnotlike": (_arn_like, True),
    "bool": (lambda v, p: v.lower() == p.lower(), False),
    "numericequals": (_numeric(lambda a, b: a == b, _number), False),
    "numericnotequals": (_numeric(lambda a, b: a == b, _number), True),
    "numericlessthan": (_numeric(lambda a, b: a < b, _number), False),
    "numericlessthanequals": (_numeric(lambda a, b: a <= b, _number), False),
    "numericgreaterthan": (_numeric(lambda a, b: a > b, _number), False),
    "numericgreaterthanequals": (_numeric(lambda a, b: a >= b, _number), False),
    "dateequals": (_numeric(lambda a, b: a == b, _date), False),
    "datenotequals": (_numeric(lambda a, b: a == b, _date), True),
    "datelessthan": (_numeric(lambda a, b: a < b, _date), False),
    "datelessthanequals": (_numeric(lambda a, b: a <= b, _date), False),
    "dategreaterthan": (_numeric(lambda a, b: a > b, _date), False),
    "dategreaterthanequals": (_numeric(lambda a, b: a >= b, _date), False),
}


_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_LITERALS = {"*": "*", "?": "?", "$": "$"}


def resolve(pattern: str, context: Context) -> str | None:
    """`pattern` with its policy variables replaced from `context`; None when one has no value."""
    if "${" not in pattern:
        return pattern
    missing = False

    def fill(match: re.Match[str]) -> str:
        nonlocal missing
        name, _, default = match.group(1).partition(",")
        name = name.strip()
        if name in _LITERALS:
            return _LITERALS[name]
        values = context.get(name.lower())
        if values is not None and len(values) == 1:
            return str(values[0])
        default = default.strip()
        if len(default) >= 2 and default[0] == default[-1] == "'":
            return default[1:-1]
        missing = True
        return ""

    resolved = _VARIABLE.sub(fill, pattern)
    return None if missing else resolved


_NEGATED = frozenset(name for name, (_match, negated) in _OPERATORS.items() if negated)


def parse_operator(operator: str) -> tuple[str, str, bool]:
    """`ForAnyValue:StringLikeIfExists` -> ("any", "stringlike", True)."""
    qualifier, _, base = operator.rpartition(":")
    qualifier = qualifier.lower()
    if qualifier not in ("", "foranyvalue", "forallvalues"):
        raise PolicyError(f"unsupported condition set qualifier {operator!r}")
    base = base.lower()
    if_exists = base.endswith("ifexists") and base != "null"
    if if_exists:
        base = base[: -len("ifexists")]
    if base != "null" and base not in _OPERATORS:
        raise PolicyError(f"unsupported condition operator {operator!r}")
    return {"": "single", "foranyvalue": "any", "forallvalues": "all"}[qualifier], base, if_exists


def _one_key(operator: str, values: Sequence[str] | None, patterns: Sequence[str]) -> bool:
    mode, base, if_exists = parse_operator(operator)
    present = values is not None and len(values) > 0
    if base == "null":
        wanted_missing = any(p.lower() == "true" for p in patterns)
        return (not present) == wanted_missing
    match, negated = _OPERATORS[base]
    if mode == "all":
        if not present:
            return True
        return all(any(match(v, p) for p in patterns) != negated for v in values or ())
    if not present:
        return mode == "single" and (if_exists or negated)
    if mode == "any":
        return any(any(match(v, p) for p in patterns) != negated for v in values or ())
    hits = [any(match(v, p) for p in patterns) for v in values or ()]
    return not any(hits) if negated else any(hits)


def conditions_hold(conditions: Conditions, context: Context) -> bool:
    for operator, block in conditions.items():
        for key, patterns in block.items():
            resolved = [resolve(p, context) for p in patterns]
            if None in resolved and parse_operator(operator)[1] in _NEGATED:
                return False  # a negated test against an unresolvable variable: the statement does not apply
            if not _one_key(operator, context.get(key.lower()), [p for p in resolved if p is not None]):
                return False
    return True


def validate_conditions(conditions: Conditions) -> None:
    """Raise PolicyError for an operator the evaluator would not understand."""
    for operator in conditions:
        parse_operator(operator)
