"""Turn validated file models (pydantic, `config/files.py`) into the plain values of `config/values.py`."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from pydantic import BaseModel

from pipeline.config import files, values

PLAIN: dict[type[BaseModel], type[Any]] = {
    files.PolicyStatement: values.PolicyStatement,
    files.FunctionSettings: values.FunctionSettings,
    files.FunctionDefaults: values.FunctionDefaults,
    files.Gates: values.Gates,
    files.Canary: values.Canary,
    files.Strategy: values.Strategy,
    files.SmokeExpect: values.SmokeExpect,
    files.SmokeCase: values.SmokeCase,
    files.HttpRequest: values.HttpRequest,
    files.S3Source: values.S3Source,
    files.CodeConnectionsSource: values.CodeConnectionsSource,
    files.SandboxFile: values.SandboxSettings,
}


def plain(obj: Any) -> Any:
    """The same data with every file model replaced by its plain value (lists and dicts copied)."""
    if isinstance(obj, BaseModel):
        kind = PLAIN[type(obj)]
        # a `derived` field (e.g. source lines) is not in the file model: its loader fills it in
        return kind(**{f.name: plain(getattr(obj, f.name)) for f in fields(kind) if not f.metadata.get("derived")})
    if isinstance(obj, list):
        return [plain(item) for item in obj]
    if isinstance(obj, dict):
        return {key: plain(value) for key, value in obj.items()}
    return obj
