"""The settings of each function of a multi-function service in one env, merged and checked (pydantic).

Merge order per function, each layer per key (maps merge, lists and scalars replace, `config/merge.py`):
built-in defaults <- pipeline.yml `function:` <- pipeline.yml `functions.<key>` <- env `function:` <- env
`functions.<key>`. Whatever an env file writes wins over pipeline.yml (today's rule for `function:`); inside
one file, `functions.<key>` wins over `function:`. The result of each function is validated as
`ServiceFunctionSettings` and located at the layer that wrote the key.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.config.errors import Locator, format_errors
from pipeline.config.files import EnvironmentFile, FunctionSettings, PipelineFile
from pipeline.config.function_fields import MAX_RESERVED_CONCURRENCY, Handler, RouteKey, Schedule
from pipeline.config.merge import deep_merge
from pipeline.config.merged import ServiceFunction
from pipeline.config.plain import plain
from pipeline.config.routes import parse_route
from pipeline.config.values import FunctionSettings as FunctionValues
from pipeline.config.yamlsource import KeyPath, Located


class ServiceFunctionSettings(FunctionSettings):
    """One function's merged settings in one env."""

    handler: Handler
    reserved_concurrency: int | None = Field(None, ge=0, le=MAX_RESERVED_CONCURRENCY)
    http: list[RouteKey] = Field(default_factory=list)
    schedule: Schedule | None = None


class _Merged(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    functions: dict[str, ServiceFunctionSettings]


@cache
def _schema() -> dict[str, Any]:
    return _Merged.model_json_schema()


def _mapping(data: Any, *path: str) -> dict[str, Any]:
    for part in path:
        data = data.get(part) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def merged_data(top: Located, env: Located, key: str) -> dict[str, Any]:
    """The four written layers of function `key` in this env, merged in order (built-in defaults come last,
    from the model)."""
    merged: dict[str, Any] = {}
    for layer in (_mapping(top.data, "function"), _mapping(top.data, "functions", key),
                  _mapping(env.data, "function"), _mapping(env.data, "functions", key)):
        merged = deep_merge(merged, layer)
    return merged


def locator(top: Located, env: Located) -> Locator:
    """Locate `functions.<key>.…` of the merged settings at the highest layer that wrote it."""

    def locate(path: KeyPath) -> tuple[str, int]:
        key, rest = path[1], path[2:]
        for end in range(len(rest), -1, -1):
            for source, prefix in ((env, ("functions", key)), (env, ("function",)), (top, ("functions", key)),
                                   (top, ("function",))):
                if end == 0 and prefix == ("function",):
                    continue
                line = source.lines.get((*prefix, *rest[:end]))
                if line is not None:
                    return source.file, line
        return top.file, top.line_of(("functions", key))

    return locate


def undeclared(pipeline: PipelineFile, top: Located, env: EnvironmentFile, located: Located) -> list[str]:
    """An env file's `functions.<key>` that pipeline.yml does not declare."""
    declared = list(pipeline.functions or {})
    known = (f" (declared: {', '.join(declared)})" if declared else
             ": it has no functions: (the one-function service), whose settings are function:")
    return [f"{located.file}:{located.line_of(('functions', key))}: functions.{key}: {top.file} declares no "
            f"function {key!r}{known}" for key in env.functions if key not in declared]


def service_functions(pipeline: PipelineFile, top: Located, located: Located
                      ) -> tuple[tuple[ServiceFunction, ...] | None, list[str]]:
    """The env's functions in pipeline.yml's order, or None and the problems found."""
    assert pipeline.functions
    data = {"functions": {key: merged_data(top, located, key) for key in pipeline.functions}}
    locate = locator(top, located)
    try:
        model = _Merged.model_validate(data)
    except ValidationError as exc:
        return None, format_errors(exc.errors(), data, _schema(), locate)
    problems = _architecture(top, located)
    if problems:
        return None, problems
    return tuple(ServiceFunction(key, _values(settings)) for key, settings in model.functions.items()), []


def _architecture(top: Located, env: Located) -> list[str]:
    service = deep_merge(_mapping(top.data, "function"), _mapping(env.data, "function")).get("architecture",
                                                                                           "x86_64")
    problems = []
    for source in (top, env):
        for key, written in _mapping(source.data, "functions").items():
            arch = written.get("architecture") if isinstance(written, dict) else None
            if arch is not None and arch != service:
                problems.append(f"{source.file}:{source.line_of(('functions', key, 'architecture'))}: "
                                f"functions.{key}.architecture: {arch} is not the service's architecture {service} "
                                "(function.architecture): one binary serves every function")
    return problems


def _values(settings: ServiceFunctionSettings) -> FunctionValues:
    shared = {name: plain(getattr(settings, name)) for name in FunctionSettings.model_fields}
    return FunctionValues(**shared, handler=settings.handler, reserved_concurrency=settings.reserved_concurrency,
                          routes=tuple(parse_route(key) for key in settings.http), schedule=settings.schedule)
