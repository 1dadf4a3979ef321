"""Policy documents as frozen values, and the matching of their Action, Resource and Principal elements.

A document that is not a valid policy (no Statement, an Effect that is neither Allow nor Deny, an
Action that is not `service:name`, Action and NotAction together) raises PolicyError naming the
statement, so a malformed policy is never read as "allows nothing" or "allows everything".
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Conditions = Mapping[str, Mapping[str, tuple[str, ...]]]  # operator -> key -> values


class PolicyError(ValueError):
    """A policy document the evaluator cannot read."""


@dataclass(frozen=True)
class Statement:
    effect: str  # "Allow" | "Deny"
    sid: str = ""
    actions: tuple[str, ...] | None = None
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None
    not_resources: tuple[str, ...] | None = None
    principals: Mapping[str, tuple[str, ...]] | None = None  # "AWS"/"Service"/"Federated"/"*" -> values
    not_principals: Mapping[str, tuple[str, ...]] | None = None
    conditions: Conditions = field(default_factory=dict)
    index: int = 0

    @property
    def label(self) -> str:
        return self.sid or f"#{self.index}"


@dataclass(frozen=True)
class Policy:
    name: str  # where it came from, e.g. "arn:aws:iam::1:role/r (inline deploy)"
    statements: tuple[Statement, ...]


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float, bool)) for v in value):
        return tuple(_scalar(v) for v in value)
    if isinstance(value, (int, float, bool)):
        return (_scalar(value),)
    raise PolicyError(f"{where}: expected a string or a list of strings, got {value!r}")


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _principals(value: Any, where: str) -> Mapping[str, tuple[str, ...]]:
    if value == "*":
        return {"*": ("*",)}
    if not isinstance(value, Mapping):
        raise PolicyError(f"{where}: Principal must be \"*\" or a map, got {value!r}")
    out = {}
    for kind, items in value.items():
        if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
            raise PolicyError(f"{where}: unknown principal type {kind!r}")
        out[kind] = _strings(items, f"{where}.{kind}")
    return out


def _conditions(value: Any, where: str) -> Conditions:
    if not isinstance(value, Mapping):
        raise PolicyError(f"{where}: Condition must be a map")
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for operator, block in value.items():
        if not isinstance(block, Mapping):
            raise PolicyError(f"{where}.{operator}: expected a map of condition keys")
        out[operator] = {key: _strings(v, f"{where}.{operator}.{key}") for key, v in block.items()}
    return out


def _actions(value: Any, where: str) -> tuple[str, ...]:
    actions = _strings(value, where)
    for action in actions:
        if action != "*" and not re.fullmatch(r"[A-Za-z0-9-]+:[A-Za-z0-9*?]+", action):
            raise PolicyError(f"{where}: {action!r} is not an action (service:Name)")
    return actions


def parse_statement(raw: Any, index: int, where: str) -> Statement:
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where}: a statement must be a map")
    here = f"{where}.Statement[{raw.get('Sid') or index}]"
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"{here}: Effect must be Allow or Deny, got {effect!r}")
    for a, b in (("Action", "NotAction"), ("Resource", "NotResource"), ("Principal", "NotPrincipal")):
        if a in raw and b in raw:
            raise PolicyError(f"{here}: {a} and {b} together")
    if "Action" not in raw and "NotAction" not in raw:
        raise PolicyError(f"{here}: no Action or NotAction")
    opt = raw.get
    return Statement(
        effect=effect, sid=str(opt("Sid") or ""), index=index,
        actions=_actions(raw["Action"], f"{here}.Action") if "Action" in raw else None,
        not_actions=_actions(raw["NotAction"], f"{here}.NotAction") if "NotAction" in raw else None,
        resources=_strings(raw["Resource"], f"{here}.Resource") if "Resource" in raw else None,
        not_resources=_strings(raw["NotResource"], f"{here}.NotResource") if "NotResource" in raw else None,
        principals=_principals(raw["Principal"], f"{here}.Principal") if "Principal" in raw else None,
        not_principals=_principals(raw["NotPrincipal"], f"{here}.NotPrincipal") if "NotPrincipal" in raw else None,
        conditions=_conditions(opt("Condition") or {}, f"{here}.Condition"),
    )


def parse_policy(document: Any, name: str) -> Policy:
    """A policy from a dict or its JSON text (URL-encoded JSON, as IAM returns it, is accepted too)."""
    if isinstance(document, (bytes, bytearray)):
        document = document.decode("utf-8")
    if isinstance(document, str):
        text = document.strip()
        if text.startswith("%7B") or text.startswith("%7b"):
            from urllib.parse import unquote
            text = unquote(text)
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise PolicyError(f"{name}: not JSON ({exc})") from None
    if not isinstance(document, Mapping) or "Statement" not in document:
        raise PolicyError(f"{name}: no Statement")
    raw = document["Statement"]
    items = [raw] if isinstance(raw, Mapping) else list(raw)
    return Policy(name, tuple(parse_statement(s, i, name) for i, s in enumerate(items)))


@functools.lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def glob_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM wildcards: `*` any run of characters (also `:` and `/`), `?` one character."""
    if pattern == "*":
        return True
    if "*" not in pattern and "?" not in pattern:
        return pattern.lower() == value.lower() if ignore_case else pattern == value
    return _glob(pattern, ignore_case).fullmatch(value) is not None


def action_matches(patterns: Sequence[str], action: str) -> bool:
    """Action names are case-insensitive (`S3:getobject` is `s3:GetObject`)."""
    return any(glob_match(p, action, ignore_case=True) for p in patterns)


def resource_matches(patterns: Sequence[str], resource: str) -> bool:
    """ARNs are case-sensitive; a `*` in a pattern also spans `:` and `/`."""
    return any(glob_match(p, resource) for p in patterns)


def statement_applies(statement: Statement, action: str, resource: str) -> bool:
    """Action/NotAction and Resource/NotResource (a statement with neither Resource element, as in a
    trust policy, applies to the resource the policy is attached to)."""
    if statement.actions is not None and not action_matches(statement.actions, action):
        return False
    if statement.not_actions is not None and action_matches(statement.not_actions, action):
        return False
    if statement.resources is not None and not resource_matches(statement.resources, resource):
        return False
    return not (statement.not_resources is not None and resource_matches(statement.not_resources, resource))
