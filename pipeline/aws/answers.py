"""AWS answers as dicts that name what is missing.

Adapters index answers directly (`resp["Credentials"]`, `obj["Key"]`). When a service, a proxy
or an emulator answers without a field, a bare KeyError would end the command as "unexpected
error: KeyError: 'Key'". Every answer that passes through RetryingClient is wrapped instead, so
a missing field is one clear line (exit 1) naming the service, the operation and the field.
`.get()` behaves as on a plain dict.
"""

from __future__ import annotations

from typing import Any

from pipeline.errors import PipelineError


class MalformedAnswer(PipelineError, KeyError):
    """An AWS answer lacks a field the pipeline needs (exit 1). Also a KeyError, for code that expects one."""

    def __str__(self) -> str:
        return self.message


class Answer(dict):  # type: ignore[type-arg]
    """A response dict whose missing keys raise MalformedAnswer naming the call."""

    __slots__ = ("_call",)

    def __init__(self, data: dict[str, Any], call: str) -> None:
        super().__init__(data)
        self._call = call

    def __missing__(self, key: str) -> Any:
        raise MalformedAnswer(f"AWS answered {self._call} without {key!r} (a malformed or partial response)")


def wrap(value: Any, call: str) -> Any:
    """`value` with every nested dict made an Answer (lists are copied; other values pass through)."""
    if isinstance(value, dict):
        return Answer({k: wrap(v, call) for k, v in value.items()}, call)
    if isinstance(value, list):
        return [wrap(v, call) for v in value]
    return value
