"""buildspec.yml as CodeBuild reads it, and the rules it runs by: pure, so the local runner and its
tests share one description of phases, variables and failure handling.

What is modelled (buildspec version 0.2): `env.shell` (bash/sh), `env.variables`,
`env.exported-variables`, `env.parameter-store`/`env.secrets-manager` (locally their names must
be given with --env), and per phase `commands`, `finally`, `on-failure` (ABORT or CONTINUE).
`runtime-versions`, `run-as`, `artifacts`, `reports`, `cache` and `proxy` are read but not acted
on locally. The transitions follow CodeBuild: a failing install or pre_build ends the build; a
failing build still runs post_build (with CODEBUILD_BUILD_SUCCEEDING=0); `on-failure: CONTINUE`
goes on to the next phase with the build marked failed; `finally` runs whether or not the
phase's commands failed. Within a build, exported variables and the working directory carry
over from command to command and phase to phase (set -a: plain assignments carry over too).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.errors import InputError

PHASES = ("install", "pre_build", "build", "post_build")
ON_FAILURE = ("ABORT", "CONTINUE")
IGNORED_LOCALLY = ("artifacts", "reports", "cache", "proxy", "batch", "run-as")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PHASE_KEYS = {"commands", "finally", "on-failure", "runtime-versions", "run-as"}
_ENV_KEYS = {"shell", "variables", "exported-variables", "parameter-store", "secrets-manager",
             "git-credential-helper"}
STATE_PREFIX = "__PL_"  # the runner's own variables in the shell; never exported onward
_NOT_CARRIED = frozenset({"_", "SHLVL", "PWD", "OLDPWD"})


@dataclass(frozen=True)
class Phase:
    name: str
    commands: tuple[str, ...]
    finally_: tuple[str, ...] = ()
    on_failure: str = "ABORT"
    runtime_versions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Buildspec:
    source: str
    shell: str
    variables: dict[str, str]
    exported: tuple[str, ...]
    secrets: tuple[str, ...]  # parameter-store / secrets-manager names: the runner cannot fetch them
    phases: tuple[Phase, ...]
    ignored: tuple[str, ...] = ()

    def phase(self, name: str) -> Phase | None:
        return next((p for p in self.phases if p.name == name), None)


def parse_buildspec(text: str, source: str) -> Buildspec:
    """Parse and check a buildspec; any problem is an InputError `source: key: problem` (exit 2)."""
    import yaml  # here: `pipeline --help` imports this module and stays light

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise InputError(f"{source}{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{source}: expected a mapping with version and phases")
    version = data.get("version")
    if str(version) != "0.2":
        raise InputError(f"{source}: version: only buildspec version 0.2 is supported, got {version!r}")
    env = data.get("env") or {}
    if not isinstance(env, dict):
        raise InputError(f"{source}: env: expected a mapping")
    unknown = sorted(set(env) - _ENV_KEYS)
    if unknown:
        raise InputError(f"{source}: env.{unknown[0]}: unknown key (allowed: {', '.join(sorted(_ENV_KEYS))})")
    shell = str(env.get("shell") or "bash")
    if shell not in ("bash", "sh"):
        raise InputError(f"{source}: env.shell: {shell!r} is not supported locally (bash or sh)")
    variables = _string_map(env.get("variables"), f"{source}: env.variables")
    exported = _names(env.get("exported-variables"), f"{source}: env.exported-variables")
    secrets = tuple(_string_map(env.get("parameter-store"), f"{source}: env.parameter-store")) + tuple(
        _string_map(env.get("secrets-manager"), f"{source}: env.secrets-manager"))
    phases_data = data.get("phases")
    if not isinstance(phases_data, dict) or not phases_data:
        raise InputError(f"{source}: phases: expected a mapping of phases ({', '.join(PHASES)})")
    phases = []
    for name, body in phases_data.items():
        if name not in PHASES:
            raise InputError(f"{source}: phases.{name}: unknown phase (phases are {', '.join(PHASES)})")
        phases.append(_phase(name, body, f"{source}: phases.{name}"))
    phases.sort(key=lambda p: PHASES.index(p.name))
    ignored = tuple(k for k in IGNORED_LOCALLY if k in data)
    return Buildspec(source, shell, variables, exported, secrets, tuple(phases), ignored)


def _phase(name: str, body: Any, where: str) -> Phase:
    if body is None:
        return Phase(name, ())
    if not isinstance(body, dict):
        raise InputError(f"{where}: expected a mapping with commands")
    unknown = sorted(set(body) - _PHASE_KEYS)
    if unknown:
        raise InputError(f"{where}.{unknown[0]}: unknown key (allowed: {', '.join(sorted(_PHASE_KEYS))})")
    on_failure = str(body.get("on-failure") or "ABORT")
    if on_failure not in ON_FAILURE:
        raise InputError(f"{where}.on-failure: {on_failure!r} is not supported (ABORT or CONTINUE)")
    return Phase(name, _commands(body.get("commands"), f"{where}.commands"),
                 _commands(body.get("finally"), f"{where}.finally"), on_failure,
                 _string_map(body.get("runtime-versions"), f"{where}.runtime-versions"))


def _commands(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InputError(f"{where}: expected a list of commands")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, str):
            hint = " (a ': ' in a command makes YAML read a mapping: quote the command)" \
                if isinstance(item, dict) else ""
            raise InputError(f"{where}[{i}]: expected a command string, got {type(item).__name__}{hint}")
        out.append(item)
    return tuple(out)


def _string_map(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(f"{where}: expected a mapping of NAME: value")
    out = {}
    for key, item in value.items():
        if not isinstance(key, str) or not _NAME.match(key):
            raise InputError(f"{where}.{key}: not a valid variable name")
        if isinstance(item, (dict, list)) or item is None:
            raise InputError(f"{where}.{key}: expected a string value")
        out[key] = item if isinstance(item, str) else str(item).lower() if isinstance(item, bool) else str(item)
    return out


def _names(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and _NAME.match(v) for v in value):
        raise InputError(f"{where}: expected a list of variable names")
    return tuple(value)


# -- variables ----------------------------------------------------------------------------------

def parse_assignment(text: str, flag: str = "--env") -> tuple[str, str]:
    """`NAME=value` from the command line (exit 2 otherwise)."""
    name, sep, value = text.partition("=")
    if not sep or not _NAME.match(name):
        raise InputError(f"{flag} {text!r}: expected NAME=value")
    return name, value


def check_env_file(data: Any, source: str) -> dict[str, str]:
    """The JSON an `--export-file` wrote: an object of NAME -> string."""
    if not isinstance(data, dict) or not all(isinstance(k, str) and _NAME.match(k) and isinstance(v, str)
                                             for k, v in data.items()):
        raise InputError(f"{source}: expected a JSON object of NAME: \"value\" strings")
    return dict(data)


def build_environment(inherited: Mapping[str, str], spec: Buildspec, env_file: Mapping[str, str],
                      overrides: Mapping[str, str], codebuild: Mapping[str, str]) -> dict[str, str]:
    """The build's starting environment, lowest precedence first: the caller's environment, the
    buildspec's env.variables, --env-file, --env (CodeBuild: the start-build overrides, which is
    what CodePipeline's action variables are), and the CODEBUILD_* variables, which nothing overrides."""
    missing = [name for name in spec.secrets if name not in overrides and name not in env_file]
    if missing:
        raise InputError(f"{spec.source}: env: {missing[0]} comes from Parameter Store / Secrets Manager, which "
                         f"the local runner does not read: give it with --env {missing[0]}=...")
    return {**inherited, **spec.variables, **env_file, **overrides, **codebuild}


def codebuild_variables(*, build_id: str, build_number: int, src_dir: str, initiator: str, start_ms: int,
                        source_version: str | None) -> dict[str, str]:
    """What CodeBuild sets in every build (the ones that make sense locally)."""
    out = {"CODEBUILD_CI": "true", "CODEBUILD_BUILD_ID": build_id, "CODEBUILD_BUILD_NUMBER": str(build_number),
           "CODEBUILD_SRC_DIR": src_dir, "CODEBUILD_INITIATOR": initiator, "CODEBUILD_START_TIME": str(start_ms),
           "CODEBUILD_BUILD_IMAGE": "local", "CODEBUILD_LOG_PATH": build_id.rsplit(":", 1)[-1],
           "CODEBUILD_BUILD_SUCCEEDING": "1"}
    if source_version:
        out["CODEBUILD_RESOLVED_SOURCE_VERSION"] = source_version
    return out


def carried(dump: bytes) -> dict[str, str]:
    """The environment a block left behind (`env -0` output), without the runner's own variables."""
    out = {}
    for entry in dump.split(b"\0"):
        name, sep, value = entry.decode("utf-8", "surrogateescape").partition("=")
        if sep and name not in _NOT_CARRIED and not name.startswith(STATE_PREFIX):
            out[name] = value
    return out


def exported_values(spec: Buildspec, env: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """(values of env.exported-variables, the names that were never set)."""
    values = {name: env[name] for name in spec.exported if name in env}
    return values, [name for name in spec.exported if name not in env]


# -- running ------------------------------------------------------------------------------------

def block_script(commands: Sequence[str], start: int = 0) -> str:
    """A bash script running commands[start:] in one shell, recording which one runs, stopping at
    the first non-zero exit, and saving the environment and directory for whatever runs next.

    Paths come from __PL_STEP, __PL_ENV and __PL_CWD in the environment.
    """
    lines = ["set -a",
             "trap '__pl_rc=$?; env -0 > \"$__PL_ENV\"; pwd > \"$__PL_CWD\"; exit $__pl_rc' EXIT"]
    for i in range(start, len(commands)):
        lines += [f"printf '%s' {i} > \"$__PL_STEP\"",
                  f"printf '[Container] Running command %s\\n' {shlex.quote(short(commands[i]))}",
                  commands[i],
                  "__pl_rc=$?; [ \"$__pl_rc\" -eq 0 ] || exit \"$__pl_rc\""]
    lines.append("printf done > \"$__PL_STEP\"")
    return "\n".join(lines) + "\n"


def short(command: str, width: int = 120) -> str:
    """A command as one line for messages: its first non-empty line, shortened."""
    lines = [line.strip() for line in command.strip().splitlines() if line.strip()]
    first = lines[0] if lines else ""
    more = len(lines) > 1
    if len(first) > width:
        first, more = first[:width - 1], True
    return first + (" ..." if more else "")


def after_failure(phase: Phase) -> str:
    """What follows a failed phase: "continue" (next phase), "post_build" (only post_build), or "stop"."""
    if phase.on_failure == "CONTINUE":
        return "continue"
    return "post_build" if phase.name == "build" else "stop"
