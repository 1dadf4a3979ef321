"""The validated, merged configuration the rest of the product reads (plain frozen dataclasses).

Nothing here imports pydantic: a cached configuration (`config/cache.py`) is read without the file models.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config.values import (
    CodeConnectionsSource,
    FunctionSettings,
    Gates,
    S3Source,
    SandboxSettings,
    SmokeCase,
    Strategy,
)
from pipeline.errors import InputError


@dataclass(frozen=True)
class Target:
    """One place an environment's function lives."""

    account: str
    region: str


@dataclass(frozen=True)
class ServiceFunction:
    """One Lambda function of the service: its `functions:` key ("" for the one-function service, whose
    function keeps today's name) and its merged settings in the env."""

    key: str
    settings: FunctionSettings


@dataclass(frozen=True)
class Environment:
    name: str
    targets: tuple[Target, ...]
    deploy_role: str
    external_id: str | None
    protect: bool
    timezone: str
    gates: Gates
    strategy: Strategy
    smoke: tuple[SmokeCase, ...]
    function: FunctionSettings
    wave_size: int
    promoters: tuple[str, ...]
    source: str = ""
    admin_role: str = "OrganizationAccountAccessRole"  # bootstrap's role for the target stack
    keep_versions: int = 10  # versions a prune keeps (besides those an alias or the ledger needs)
    # every function, in pipeline.yml's order. The one-function service (built with () or its one key ""
    # function) always holds `function`, also after dataclasses.replace(env, function=...); in a
    # multi-function service `function` is the first function's settings (replace `functions` there)
    functions: tuple[ServiceFunction, ...] = ()

    def __post_init__(self) -> None:
        if all(not f.key for f in self.functions):
            object.__setattr__(self, "functions", (ServiceFunction("", self.function),))

    @property
    def http_functions(self) -> tuple[ServiceFunction, ...]:
        """The functions serving routes of the env's HTTP API (none in the one-function service)."""
        return tuple(f for f in self.functions if f.settings.routes)

    def service_function(self, key: str) -> ServiceFunction:
        """The function with this `functions:` key ("" in the one-function service); KeyError when unknown."""
        for function in self.functions:
            if function.key == key:
                return function
        raise KeyError(key)

    @property
    def account(self) -> str:
        return self.targets[0].account

    @property
    def region(self) -> str:
        return self.targets[0].region


@dataclass(frozen=True)
class ToolingAccount:
    account: str
    region: str
    role: str | None
    external_id: str | None
    operators: tuple[str, ...] = ()  # may assume `role` (besides CodeBuild); () = the tooling account


@dataclass(frozen=True)
class PipelineConfig:
    directory: Path
    name: str
    region: str
    tooling: ToolingAccount
    order: tuple[str, ...]
    environments: dict[str, Environment]
    sandbox: SandboxSettings | None = None
    function_defaults: FunctionSettings = field(default_factory=FunctionSettings)
    source: S3Source | CodeConnectionsSource | None = None  # the CodePipeline's source (None: S3 default)
    go_dir: str = "go-function"  # pipeline.yml go_dir: relative to the folder holding environments/
    build_tests: bool = True  # pipeline.yml build_tests: the pipeline's Build action runs the tests first
    # a service's functions in the sandbox (pipeline.yml's layers, sandbox.yml `function:` on top); () for the
    # one-function form, whose sandbox function is core.sandbox.function_settings
    sandbox_functions: tuple[ServiceFunction, ...] = ()

    def go_module(self) -> Path:
        """The Go module `build` and `sandbox deploy` compile (pipeline.yml `go_dir`)."""
        return Path(self.directory).resolve().parent / self.go_dir

    @property
    def artifact_bucket(self) -> str:
        """The home bucket (tooling region; naming.artifact_bucket names the per-region replicas the same way).

        Globally unique by construction: name, tooling account and region."""
        return f"{self.name}-artifacts-{self.tooling.account}-{self.tooling.region}"

    @property
    def service_functions(self) -> tuple[str, ...]:
        """The `functions:` keys of a multi-function service (pipeline.yml's order); () for the one-function form."""
        return tuple(dict.fromkeys(f.key for env in self.environments.values() for f in env.functions if f.key))

    def env(self, name: str) -> Environment:
        """The named environment, or exit 2 with a did-you-mean hint."""
        try:
            return self.environments[name]
        except KeyError:
            hint = difflib.get_close_matches(name, list(self.environments), n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else f" (known: {', '.join(self.order)})"
            raise InputError(f"unknown environment {name!r}{extra}") from None

    def select(self, name: str | None) -> list[Environment]:
        """The named environment (exit 2 when unknown), or every environment in stage order."""
        return [self.env(name)] if name else [self.environments[n] for n in self.order]

    def predecessor(self, name: str) -> str | None:
        """The env whose smoke record gates `name`: gates.requires (None for the first stage)."""
        return self.env(name).gates.requires
