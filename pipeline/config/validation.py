"""Validate `environments/`: parse each file, merge pipeline defaults into each env, check, cross-check.

All problems found are collected and raised together as one ConfigError, each one line
`file:line: key.path: message`. No AWS call happens here. `config/load.py` is the entry point (it
skips this module when the same files were validated before); this one imports pydantic.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from pipeline.config import functions, service_checks
from pipeline.config.errors import format_errors
from pipeline.config.files import EnvironmentFile, FunctionSettings, PipelineFile, SandboxFile
from pipeline.config.iam_services import is_service_prefix
from pipeline.config.merge import deep_merge
from pipeline.config.merged import Environment, PipelineConfig, ServiceFunction, Target, ToolingAccount
from pipeline.config.plain import plain
from pipeline.config.values import SmokeCase
from pipeline.config.yamlsource import KeyPath, Located, YamlProblem, display_path, load_file
from pipeline.errors import ConfigError

PIPELINE_FILE = "pipeline.yml"
SANDBOX_FILE = "sandbox.yml"


@cache
def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


def validate_files(directory: Path, entries: list[Path]) -> PipelineConfig:
    """The merged configuration of `directory` (its sorted `entries`), or ConfigError listing every problem."""
    return _Loader(directory, entries).load()


class _Loader:
    def __init__(self, directory: Path, entries: list[Path]) -> None:
        self.directory = directory
        self.entries = entries
        self.problems: list[str] = []

    def _read(self, path: Path) -> Located | None:
        try:
            return load_file(path)
        except YamlProblem as exc:
            self.problems.append(str(exc))
            return None

    def _validate(self, model: type[BaseModel], data: Any, locate: Any) -> Any:
        if not isinstance(data, dict):
            file, line = locate(())
            self.problems.append(f"{file}:{line}: expected a mapping of keys, got {type(data).__name__}")
            return None
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            self.problems += format_errors(exc.errors(), data, _schema(model), locate)
            return None

    def load(self) -> PipelineConfig:
        pipeline_path = self.directory / PIPELINE_FILE
        env_paths = {p.stem: p for p in self.entries
                     if p.suffix in (".yml", ".yaml") and p.name not in (PIPELINE_FILE, SANDBOX_FILE)}
        top = self._read(pipeline_path)
        pipeline = self._validate(PipelineFile, top.data, _single(top)) if top else None
        base = _defaults(top.data) if top and pipeline else {}

        environments: dict[str, EnvironmentFile] = {}
        sources: dict[str, Located] = {}
        services: dict[str, tuple[ServiceFunction, ...]] = {}
        for name, path in env_paths.items():
            if path.suffix == ".yaml":
                self.problems.append(f"{display_path(path)}:1: use the .yml extension ({name}.yml)")
                continue
            located = self._read(path)
            if located is None:
                continue
            sources[name] = located
            if not isinstance(located.data, dict):
                self._validate(EnvironmentFile, located.data, _single(located))
                continue
            merged = deep_merge(base, located.data)
            env = self._validate(EnvironmentFile, merged, _layered(located, top))
            if env is not None:
                environments[name] = env
                if pipeline is not None and top is not None:
                    self._functions(pipeline, top, env, located, services, name)

        sandbox, sandbox_lines = None, {}
        sandbox_path = self.directory / SANDBOX_FILE
        sandbox_located = Located(display_path(sandbox_path), {})
        if sandbox_path.exists():
            located = self._read(sandbox_path)
            sandbox_located = located if located is not None and isinstance(located.data, dict) else sandbox_located
            if located is not None:
                sandbox = self._validate(SandboxFile, located.data, _single(located))
                if sandbox is not None:
                    self._check_services(sandbox.allowed_services or [], located)
                    sandbox_lines = {str(key): located.line_of((key,)) for key in located.data}

        if pipeline is not None and top is not None:
            self._cross_check(pipeline, top, environments, sources, env_paths)
        smoke: dict[str, tuple[SmokeCase, ...]] = {}
        multi = pipeline is not None and pipeline.functions is not None
        for name, env in environments.items():
            if pipeline is None or (multi and name not in services):
                continue  # its functions did not validate: whom a case reaches is not known
            cases, problems = service_checks.resolve_smoke(
                tuple(plain(env.smoke)), services.get(name, ()), multi, _layered(sources[name], top))
            self._add(problems)
            smoke[name] = cases
        sandboxed = self._sandbox(pipeline, top, sandbox, sandbox_located) if multi and top else None
        if self.problems:
            raise ConfigError(self.problems)
        assert pipeline is not None and top is not None
        config = _build(self.directory, pipeline, environments, sources, sandbox, sandbox_lines, services, smoke)
        if sandboxed is not None:  # a service's sandbox: every function (sandbox.yml `function:` on top), its smoke
            config = replace(config, sandbox_functions=sandboxed[0],
                             sandbox=replace(config.sandbox, smoke=list(sandboxed[1])) if config.sandbox else None)
        self._add(service_checks.name_problems(config, lambda key: (top.file, top.line_of(("functions", key)))))
        if self.problems:
            raise ConfigError(self.problems)
        return config

    def _add(self, problems: list[str]) -> None:
        """Add problems not reported yet (a pipeline.yml line found wrong in every env is said once)."""
        self.problems += [p for p in dict.fromkeys(problems) if p not in self.problems]

    def _functions(self, pipeline: PipelineFile, top: Located, env: EnvironmentFile, located: Located,
                   services: dict[str, tuple[ServiceFunction, ...]], name: str) -> None:
        missing = functions.undeclared(pipeline, top, env, located)
        self._add(missing)
        if missing or not pipeline.functions:
            return
        service, problems = functions.service_functions(pipeline, top, located)
        self._add(problems)
        if service is not None:
            clashes = service_checks.route_problems(service, functions.locator(top, located))
            self._add(clashes)
            if not clashes:  # with a route claimed twice, whom a smoke case reaches is not known
                services[name] = service

    def _sandbox(self, pipeline: PipelineFile, top: Located, sandbox: SandboxFile | None, located: Located
                 ) -> tuple[tuple[ServiceFunction, ...], tuple[SmokeCase, ...]] | None:
        """A service's functions in the sandbox (pipeline.yml's layers, then sandbox.yml `function:`) and the
        sandbox.yml smoke cases with the function each reaches."""
        service, problems = functions.service_functions(pipeline, top, located)
        self._add(problems)
        if service is None:
            return None
        cases, problems = service_checks.resolve_smoke(tuple(plain(sandbox.smoke)) if sandbox else (), service,
                                                       True, _single(located))
        self._add(problems)
        return service, cases

    def _check_services(self, services: list[str], located: Located) -> None:
        for i, service in enumerate(services):
            if not is_service_prefix(service):
                line = located.line_of(("allowed_services", i))
                self.problems.append(f"{located.file}:{line}: allowed_services[{i}]: {service!r} is not an IAM "
                                     "service prefix (e.g. lambda, dynamodb, sqs)")

    def _cross_check(self, pipeline: PipelineFile, top: Located, envs: dict[str, EnvironmentFile],
                     sources: dict[str, Located], env_paths: dict[str, Path]) -> None:
        p = top.file
        for i, name in enumerate(pipeline.order):
            if name not in env_paths:
                known = ", ".join(sorted(env_paths)) or "none"
                self.problems.append(f"{p}:{top.line_of(('order', i))}: order[{i}]: no environment file "
                                     f"{display_path(self.directory / (name + '.yml'))} (env files: {known})")
        for name, located in sources.items():
            if name not in pipeline.order:
                self.problems.append(f"{located.file}:1: environment {name!r} is not listed in {p} order "
                                     f"({', '.join(pipeline.order)})")
        position = {name: i for i, name in enumerate(pipeline.order)}
        for name, env in envs.items():
            req = env.gates.requires
            if req is None:
                continue
            where = f"{sources[name].file}:{sources[name].line_of(('gates', 'requires'))}: gates.requires"
            cycle = _cycle(name, envs)
            if cycle:
                self.problems.append(f"{where}: cycle {' -> '.join(cycle)}")
            elif req not in position:
                self.problems.append(f"{where}: names {req!r}, which is not in order ({', '.join(pipeline.order)})")
            elif name in position and position[req] >= position[name]:
                self.problems.append(f"{where}: {req!r} must come before {name!r} in order")
        seen: dict[tuple[str, str], str] = {}
        for name in pipeline.order:
            env = envs.get(name)
            if env is None:
                continue
            for target in _targets(env, pipeline.region):
                key = (target.account, target.region)
                if key in seen:
                    line = sources[name].line_of(("account",)) if env.account else sources[name].line_of(("targets",))
                    self.problems.append(f"{sources[name].file}:{line}: account: {target.account} in {target.region} "
                                         f"is already used by environment {seen[key]!r}")
                else:
                    seen[key] = name


def _cycle(start: str, envs: dict[str, EnvironmentFile]) -> list[str]:
    path = [start]
    current = envs[start].gates.requires
    while current is not None and current in envs:
        if current in path:
            return [*path[path.index(current):], current]
        path.append(current)
        current = envs[current].gates.requires
    return []


def _defaults(data: dict[str, Any]) -> dict[str, Any]:
    base: dict[str, Any] = dict(data.get("defaults") or {})
    if data.get("function"):
        base["function"] = data["function"]
    if "timezone" in data:
        base.setdefault("timezone", data["timezone"])
    return base


def _single(located: Located) -> Any:
    return lambda path: (located.file, located.line_of(path))


def _layered(env: Located, top: Located | None) -> Any:
    """Locate a merged key: in the env file when it set it, else where pipeline.yml did."""

    def replaced(path: KeyPath) -> bool:
        node = env.data
        for part in path:
            if isinstance(node, dict) and part in node:
                node = node[part]
                if not isinstance(node, dict):
                    return True
            else:
                return False
        return False

    def pipeline_path(path: KeyPath) -> KeyPath:
        if path[:1] == ("function",) or path[:1] == ("timezone",):
            return path
        return ("defaults", *path)

    def locate(path: KeyPath) -> tuple[str, int]:
        for end in range(len(path), 0, -1):
            prefix = path[:end]
            if prefix in env.lines:
                return env.file, env.lines[prefix]
            if top is not None and not replaced(prefix) and pipeline_path(prefix) in top.lines:
                return top.file, top.lines[pipeline_path(prefix)]
        return env.file, 1

    return locate


def _targets(env: EnvironmentFile, default_region: str) -> list[Target]:
    if env.targets:
        return [Target(t.account, t.region or env.region or default_region) for t in env.targets]
    assert env.account is not None
    return [Target(env.account, env.region or default_region)]


def _build(directory: Path, pipeline: PipelineFile, envs: dict[str, EnvironmentFile],
           sources: dict[str, Located], sandbox: SandboxFile | None, sandbox_lines: dict[str, int],
           services: dict[str, tuple[ServiceFunction, ...]], smoke: dict[str, tuple[SmokeCase, ...]]) -> PipelineConfig:
    environments = {}
    for name in pipeline.order:
        env = envs[name]
        service = services.get(name, ())  # (): the one-function service (Environment fills in its one function)
        environments[name] = Environment(
            name=name, targets=tuple(_targets(env, pipeline.region)), deploy_role=env.deploy_role,
            external_id=env.external_id, protect=env.protect, timezone=env.timezone, gates=plain(env.gates),
            strategy=plain(env.strategy), smoke=smoke[name],
            function=service[0].settings if service else plain(env.function),
            wave_size=env.wave_size, keep_versions=env.keep_versions,
            promoters=tuple(env.promoters), source=sources[name].file, admin_role=env.admin_role, functions=service,
        )
    function_defaults = plain(FunctionSettings.model_validate(
        {k: v for k, v in pipeline.function.model_dump().items() if v is not None}))
    tooling = ToolingAccount(pipeline.tooling.account, pipeline.tooling.region or pipeline.region,
                             pipeline.tooling.role, pipeline.tooling.external_id, tuple(pipeline.tooling.operators))
    return PipelineConfig(directory=directory, name=pipeline.name, region=pipeline.region, tooling=tooling,
                          order=tuple(pipeline.order), environments=environments,
                          sandbox=replace(plain(sandbox), lines=sandbox_lines) if sandbox else None,
                          function_defaults=function_defaults, source=plain(pipeline.source),
                          go_dir=pipeline.go_dir, build_tests=pipeline.build_tests)
