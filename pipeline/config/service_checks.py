"""Cross-checks of a multi-function service in one env, on the merged plain values: no route claimed twice,
every smoke case reaching a function (`http` cases a route of the HTTP API), every Lambda name within
Lambda's limits. Each problem is one `file:line: key.path: message` line."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from pipeline.config.errors import Locator
from pipeline.config.merged import PipelineConfig, ServiceFunction
from pipeline.config.routes import select, shape
from pipeline.config.values import SmokeCase
from pipeline.infra import naming

LAMBDA_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def route_problems(functions: tuple[ServiceFunction, ...], locate: Locator) -> list[str]:
    """A route two functions (or one function twice) claim: the same route to API Gateway."""
    problems = []
    seen: dict[str, tuple[str, str]] = {}  # shape -> (function key, file:line)
    for function in functions:
        for i, route in enumerate(function.settings.routes):
            file, line = locate(("functions", function.key, "http", i))
            where = f"{file}:{line}"
            first = seen.get(shape(route))
            if first is None:
                seen[shape(route)] = (function.key, where)
                continue
            other = (f"is listed twice (also at {first[1]})" if first[0] == function.key else
                     f"is already served by function {first[0]!r} ({first[1]})")
            problems.append(f"{where}: functions.{function.key}.http[{i}]: route {route.key!r} {other}")
    return problems


def resolve_smoke(smoke: tuple[SmokeCase, ...], functions: tuple[ServiceFunction, ...], multi: bool,
                  locate: Locator) -> tuple[tuple[SmokeCase, ...], list[str]]:
    """Each case with the function it reaches (multi-function service), or the problems."""
    problems: list[str] = []
    resolved = []
    keys = [f.key for f in functions]
    http = [f for f in functions if f.settings.routes]
    owner = {route: f.key for f in functions for route in f.settings.routes}
    for i, case in enumerate(smoke):
        def problem(field: str, message: str, i: int = i) -> None:
            file, line = locate(("smoke", i, field))
            problems.append(f"{file}:{line}: smoke[{i}].{field}: {message}")

        if case.function is not None and not multi:
            problem("function", f"names function {case.function!r}, but the service declares no functions: "
                                "(the one-function service)")
            continue
        if case.function is not None and case.function not in keys:
            problem("function", f"names function {case.function!r}, which pipeline.yml does not declare "
                                f"(declared: {', '.join(keys)})")
            continue
        if case.http is not None:
            named = next((f for f in functions if f.key == case.function), None)
            if named is not None and not named.settings.routes:
                problem("function", f"names function {case.function!r} for an http case, but it has no http "
                                    "routes (functions.<key>.http)")
                continue
            route = select(owner, case.http.method, case.http.path)
            if route is None:
                request = f"{case.http.method} {case.http.path}"
                if owner:
                    problem("http", f"{request} reaches no route of the env's HTTP API (routes: "
                                    f"{', '.join(r.key for r in owner)})")
                else:
                    problem("http", f"{request}: the env has no HTTP API (no function has http routes)")
                continue
            if case.function is not None and owner[route] != case.function:
                problem("function", f"names function {case.function!r}, but {case.http.method} {case.http.path} "
                                    f"reaches route {route.key!r} of function {owner[route]!r}")
                continue
            resolved.append(replace(case, function=owner[route]))
            continue
        if not multi or case.function is not None:
            resolved.append(case)
        elif len(http) == 1 or len(functions) == 1:
            resolved.append(replace(case, function=(http or list(functions))[0].key))
        else:
            which = (f"several have http routes: {', '.join(f.key for f in http)}" if http else
                     "none has http routes")
            problem("name", f"name the function this case invokes (function: one of {', '.join(keys)}; {which})")
    return tuple(resolved), problems


def name_problems(config: PipelineConfig, locate_key: Callable[[str], tuple[str, int]]) -> list[str]:
    """Each function key whose Lambda name breaks Lambda's limit in some env (its longest name is named)."""
    problems = []
    keys = [f.key for env in config.environments.values() for f in env.functions if f.key]
    for key in dict.fromkeys(keys):
        names = [(naming.service_function_name(config, env, key), env.name) for env in config.environments.values()]
        bad = sorted((n for n in names if not LAMBDA_NAME.fullmatch(n[0])), key=lambda n: -len(n[0]))
        if bad:
            full, env = bad[0]
            file, line = locate_key(key)
            problems.append(f"{file}:{line}: functions.{key}: the Lambda function name {full!r} in env {env!r} is "
                            f"{len(full)} characters: Lambda allows at most 64 of A-Z a-z 0-9 _ -")
    return problems
