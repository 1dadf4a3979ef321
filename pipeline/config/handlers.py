"""Which handler each function of the service wants, and where that is written: what `pipeline build` checks
against the handlers the binary serves (`artifact/handlers.py`).

The one-function service runs the Handler every promoted artifact has (`core/function.py` GO_HANDLER). In a
multi-function service each function's `handler` is written in pipeline.yml `functions.<key>` and may be
overridden per env (`<env>.yml functions.<key>.handler`): every env's value is checked, each at its own
file:line. The files are read again for the lines (the merged configuration keeps values, not positions).
"""

from __future__ import annotations

from pathlib import Path

from pipeline.config.merged import PipelineConfig
from pipeline.config.yamlsource import Located, load_file

ONE_FUNCTION_WHERE = "pipeline/core/function.py GO_HANDLER (the function's Handler)"


def _line(located: Located | None, path: tuple[str, ...]) -> int | None:
    return located.lines.get(path) if located is not None else None


def wanted_handlers(config: PipelineConfig, one_function_handler: str) -> dict[str, tuple[str, str]]:
    """`<env>/<key>` (or "function" for the one-function service) -> (handler, "file:line functions.<key>.handler"),
    one entry per distinct (handler, place)."""
    if not config.service_functions:
        return {"function": (one_function_handler, ONE_FUNCTION_WHERE)}
    directory = Path(config.directory)
    top = load_file(directory / "pipeline.yml")
    wanted: dict[str, tuple[str, str]] = {}
    seen: set[tuple[str, str]] = set()
    for name in config.order or tuple(config.environments):
        env = config.environments[name]
        env_file = directory / f"{name}.yml"
        located = load_file(env_file) if env_file.is_file() else None
        for function in env.functions:
            path = ("functions", function.key, "handler")
            line = _line(located, path)
            where = (f"{located.file}:{line}" if located is not None and line is not None
                     else f"{top.file}:{top.line_of(path)}")
            entry = (function.settings.handler, f"{where} functions.{function.key}.handler")
            if entry not in seen:
                seen.add(entry)
                wanted[f"{name}/{function.key}"] = entry
    return wanted
