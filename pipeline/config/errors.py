"""Turn pydantic validation errors into `file:line: key.path: message` lines.

The JSON Schema of the model answers "which keys are allowed here", which gives the
"did you mean" hint for unknown keys without a second description of the models.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import Any

from pipeline.config.yamlsource import KeyPath, dotted

# (path) -> (file, line)
Locator = Callable[[KeyPath], tuple[str, int]]


def format_errors(errors: list[dict[str, Any]], data: Any, schema: dict[str, Any],
                  locate: Locator) -> list[str]:
    lines: list[str] = []
    for err in errors:
        path = _data_path(tuple(err["loc"]), data)
        file, line = locate(path)
        message = _message(err, path, schema)
        where = dotted(path)
        lines.append(f"{file}:{line}: {where}: {message}" if where else f"{file}:{line}: {message}")
    return sorted(set(lines), key=lines.index)


def _data_path(loc: tuple[Any, ...], data: Any) -> KeyPath:
    """Drop pydantic's union/validator tags from `loc`, keeping only real data keys."""
    path: list[str | int] = []
    current = data
    for i, item in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(item, int) and isinstance(current, list):
            path.append(item)
            current = current[item] if item < len(current) else None
        elif isinstance(item, str) and isinstance(current, dict) and (item in current or last):
            path.append(item)
            current = current.get(item)
    return tuple(path)


def _message(err: dict[str, Any], path: KeyPath, schema: dict[str, Any]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = allowed_keys(schema, path[:-1])
        hint = difflib.get_close_matches(str(path[-1]), allowed, n=1, cutoff=0.6)
        text = "unknown key"
        if hint:
            return f"{text} (did you mean {hint[0]!r}?)"
        return f"{text} (allowed: {', '.join(sorted(allowed))})" if allowed else text
    if kind == "missing":
        return "missing required key"
    msg: str = err["msg"]
    if kind in ("value_error", "assertion_error"):
        return msg.split(", ", 1)[1] if msg.startswith(("Value error, ", "Assertion failed, ")) else msg
    msg = msg[0].lower() + msg[1:]
    if kind == "string_pattern_mismatch":
        from pipeline.config.wording import pattern_words

        words = pattern_words(str((err.get("ctx") or {}).get("pattern", "")))
        if words:
            return f"{_shown(err.get('input'))} is not {words}"
    if kind.endswith("_type") or kind in ("literal_error", "string_pattern_mismatch", "enum"):
        value = err.get("input")
        return f"{msg}, got {type(value).__name__} {_shown(value)}"
    return msg


def _shown(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def allowed_keys(schema: dict[str, Any], path: KeyPath) -> list[str]:
    """The property names the schema allows at `path` (empty when unknown)."""
    defs = schema.get("$defs", {})

    def resolve(node: dict[str, Any]) -> list[dict[str, Any]]:
        if "$ref" in node:
            return resolve(defs[node["$ref"].rsplit("/", 1)[-1]])
        options = node.get("anyOf") or node.get("oneOf")
        if options:
            return [n for option in options for n in resolve(option)]
        return [node]

    nodes = resolve(schema)
    for part in path:
        nxt: list[dict[str, Any]] = []
        for node in nodes:
            if isinstance(part, int) and "items" in node:
                nxt += resolve(node["items"])
            elif isinstance(part, str) and part in node.get("properties", {}):
                nxt += resolve(node["properties"][part])
            elif isinstance(part, str):  # a map's entry (e.g. functions.<key>)
                nxt += [n for pattern, entry in node.get("patternProperties", {}).items() if re.search(pattern, part)
                        for n in resolve(entry)]
                if isinstance(node.get("additionalProperties"), dict):
                    nxt += resolve(node["additionalProperties"])
        nodes = nxt
    return sorted({key for node in nodes for key in node.get("properties", {})})
