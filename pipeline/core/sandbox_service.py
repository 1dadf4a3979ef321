"""A sandbox's functions, the pure part: one for the one-function form (its name unchanged), one per
`functions:` key for a service, each with its names (within Lambda's and EventBridge's 64 characters),
settings and handler; whether the sandbox has an HTTP API or schedules; which function a request reaches.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.config.merged import PipelineConfig
from pipeline.config.routes import select
from pipeline.config.values import FunctionSettings
from pipeline.core.function import GO_HANDLER
from pipeline.core.sandbox import SANDBOX_ENVIRONMENT, SandboxNames, function_settings
from pipeline.errors import InputError

MAX_NAME = 64  # Lambda function names and EventBridge rule names


@dataclass(frozen=True)
class SandboxFunction:
    """One Lambda function of the sandbox. `key` is "" for the one-function form."""

    key: str
    name: str
    log_group: str
    settings: FunctionSettings

    @property
    def id(self) -> str:
        """Its CloudFormation logical id / parameter prefix (`my-fn` -> `MyFn`)."""
        return "".join(part[:1].upper() + part[1:] for part in self.key.split("-"))

    @property
    def handler(self) -> str:
        """The handler the Go artifact runs it with (`_HANDLER`): its `functions.<key>.handler`."""
        return self.settings.handler if self.key else GO_HANDLER

    @property
    def rule_name(self) -> str:
        return f"{self.name}-schedule"

    @property
    def label(self) -> str:
        return self.key or self.name


def is_service(config: PipelineConfig) -> bool:
    return bool(config.sandbox_functions)


def functions(config: PipelineConfig, sbx: SandboxNames) -> tuple[SandboxFunction, ...]:
    """Every function of the sandbox; InputError (exit 2) for a name over 64 characters or ENVIRONMENT set."""
    if not config.sandbox_functions:
        return (SandboxFunction("", sbx.function, sbx.log_group, function_settings(config)),)
    found = []
    for function in config.sandbox_functions:
        name = f"{sbx.function}-{function.key}"
        if "ENVIRONMENT" in function.settings.environment:
            raise InputError(f"{config.directory}/pipeline.yml: functions.{function.key}.environment.ENVIRONMENT "
                             f"is set by the sandbox (to {SANDBOX_ENVIRONMENT!r}); remove it")
        made = SandboxFunction(function.key, name, f"/aws/lambda/{name}", function.settings)
        for what, value in (("Lambda function name", made.name), ("schedule rule name", made.rule_name)):
            if (what == "Lambda function name" or made.settings.schedule) and len(value) > MAX_NAME:
                raise InputError(f"{config.directory}/pipeline.yml: functions.{function.key}: the sandbox's {what} "
                                 f"{value!r} is {len(value)} characters: at most {MAX_NAME} (a shorter --user, "
                                 "--branch or function key)")
        found.append(made)
    return tuple(found)


def http_functions(fns: tuple[SandboxFunction, ...]) -> tuple[SandboxFunction, ...]:
    return tuple(f for f in fns if f.key and f.settings.routes)


def scheduled(fns: tuple[SandboxFunction, ...]) -> tuple[SandboxFunction, ...]:
    return tuple(f for f in fns if f.key and f.settings.schedule)


def has_front_door(fns: tuple[SandboxFunction, ...]) -> bool:
    """A service with routes (an HTTP API) or schedules (rules): the sandbox gets a front-door stack."""
    return bool(http_functions(fns) or scheduled(fns))


def pick(fns: tuple[SandboxFunction, ...], key: str | None) -> SandboxFunction:
    """`--function KEY`; without it, as a smoke case: the one http function, else the only function."""
    if key is not None:
        found = next((f for f in fns if f.key == key and key), None)
        if found is None:
            declared = ", ".join(f.key for f in fns if f.key)
            raise InputError(f"--function {key!r}: " + (f"the service declares no such function (declared: "
                                                         f"{declared})" if declared else
                                                         "the one-function service has no functions: keys"))
        return found
    http = http_functions(fns)
    if len(fns) == 1 or len(http) == 1:
        return (http or fns)[0]
    raise InputError(f"give --function (one of {', '.join(f.key for f in fns)}): "
                     + (f"several have http routes ({', '.join(f.key for f in http)})" if http else
                        "none has http routes"))


def http_target(fns: tuple[SandboxFunction, ...], method: str, path: str) -> SandboxFunction | None:
    """The function whose route `method path` reaches (None: no route: the API answers 404)."""
    owner = {route: f for f in http_functions(fns) for route in f.settings.routes}
    route = select(owner, method, path)
    return owner[route] if route is not None else None


def parse_request(text: str) -> tuple[str, str]:
    """`--http 'GET /hello/bob'` -> (GET, /hello/bob); InputError (exit 2) for anything else."""
    method, _, path = text.strip().partition(" ")
    path = path.strip()
    if method.upper() not in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS") or not path.startswith("/"):
        raise InputError(f"--http {text!r}: give 'METHOD /path' (e.g. 'GET /hello/bob')")
    return method.upper(), path
