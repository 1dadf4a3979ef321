"""Does a policy document allow one request? AWS's rules for a single policy, for the product's own
use: `validate` checks that the sandbox boundary it renders lets the tool's own calls through.

An explicit Deny whose Action, Resource and Condition match wins; else a matching Allow allows; else
nothing allows. Action names match case-insensitively, resources case-sensitively, `*` and `?` as
IAM's wildcards. Conditions: the string, ARN, Bool and Null operators with `IfExists` and policy
variables (`${aws:PrincipalArn}`); a key missing from the context makes a positive test false and a
negated one true, as AWS documents. An operator outside that set raises ValueError: never a guess.
(The emulator has its own full evaluator in pipeline/local/iam, which the product may not import.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Context = Mapping[str, Sequence[str]]
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_OPERATORS = {"stringequals": (False, False), "stringnotequals": (False, True), "stringlike": (True, False),
              "stringnotlike": (True, True), "arnequals": (True, False), "arnlike": (True, False),
              "arnnotequals": (True, True), "arnnotlike": (True, True), "bool": (False, False),
              "stringequalsignorecase": (False, False), "stringnotequalsignorecase": (False, True)}


NOT_ALLOWED = "no statement allows it"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    why: str  # "allowed by <sid>", "denied by <sid>", "no statement allows it"


def _list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [] if value is None else [str(value)]


def _glob(pattern: str, value: str, ignore_case: bool = False) -> bool:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(body, value, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None


def _resolve(pattern: str, context: Context) -> str | None:
    missing = False

    def fill(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1).split(",")[0].strip()
        if name in ("*", "?", "$"):
            return name
        values = {k.lower(): v for k, v in context.items()}.get(name.lower())
        if values and len(values) == 1:
            return str(values[0])
        missing = True
        return ""

    resolved = _VARIABLE.sub(fill, pattern)
    return None if missing else resolved


def _holds(operator: str, key: str, patterns: list[str], context: Context) -> bool:
    base = operator.lower()
    if ":" in base:
        raise ValueError(f"condition operator {operator!r} is not supported here")
    values = {k.lower(): v for k, v in context.items()}.get(key.lower())
    present = bool(values)
    if base == "null":
        return (not present) == any(p.lower() == "true" for p in patterns)
    if_exists = base.endswith("ifexists")
    base = base.removesuffix("ifexists")
    if base not in _OPERATORS:
        raise ValueError(f"condition operator {operator!r} is not supported here")
    wildcard, negated = _OPERATORS[base]
    resolved = [_resolve(p, context) for p in patterns]
    if negated and None in resolved:
        return False
    if not present:
        return if_exists or negated
    fold = "ignorecase" in base or base == "bool"
    hit = any(_glob(p, v, fold) if wildcard else (p.lower() == v.lower() if fold else p == v)
              for p in resolved if p is not None for v in values or ())
    return not hit if negated else hit


def _applies(statement: Mapping[str, Any], action: str, resource: str, context: Context) -> bool:
    if "Action" in statement and not any(_glob(p, action, True) for p in _list(statement["Action"])):
        return False
    if "NotAction" in statement and any(_glob(p, action, True) for p in _list(statement["NotAction"])):
        return False
    if "Resource" in statement and not any(_glob(p, resource) for p in _list(statement["Resource"])):
        return False
    if "NotResource" in statement and any(_glob(p, resource) for p in _list(statement["NotResource"])):
        return False
    return all(_holds(op, key, _list(patterns), context)
               for op, block in (statement.get("Condition") or {}).items() for key, patterns in block.items())


def decide(document: Mapping[str, Any], action: str, resource: str, context: Context) -> Verdict:
    statements = document.get("Statement") or []
    statements = [statements] if isinstance(statements, Mapping) else list(statements)
    matched = [(i, s) for i, s in enumerate(statements) if _applies(s, action, resource, context)]
    for i, s in matched:
        if s.get("Effect") == "Deny":
            return Verdict(False, f"denied by {s.get('Sid') or f'statement {i}'}")
    for i, s in matched:
        if s.get("Effect") == "Allow":
            return Verdict(True, f"allowed by {s.get('Sid') or f'statement {i}'}")
    return Verdict(False, NOT_ALLOWED)
