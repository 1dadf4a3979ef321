"""Render the CloudFormation templates (templates/*.yml.j2) from config: pure, offline, no AWS.

Each rendered body is hashed into a short "bootstrap version" so a stack can be compared
with what the current config would deploy. The function's code and runtime are stack
parameters, not part of the body: promoting a new artifact never changes the body, and an
infrastructure update passes the live code and runtime back in, so CloudFormation never
reverts them. Render problems are InputError (exit 2), one line naming file, line and cause;
so is a rendered IAM policy that fails the least-privilege checks (policylint).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml

from pipeline.config.merged import Environment, PipelineConfig, Target
from pipeline.config.yamlsource import display_path
from pipeline.errors import InputError
from pipeline.infra import naming
from pipeline.infra.cfnyaml import load_template
from pipeline.infra.context import function_context, pipeline_context, target_context, tooling_context
from pipeline.infra.policylint import policy_problems
from pipeline.infra.service_context import front_door_context, has_front_door, is_service, service_function_context
from pipeline.infra.templatecache import bytecode_cache

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"

TOOLING_TEMPLATE = "tooling.yml.j2"
TARGET_TEMPLATE = "target.yml.j2"
FUNCTION_TEMPLATE = "function.yml.j2"
PIPELINE_TEMPLATE = "pipeline.yml.j2"
SERVICE_FUNCTION_TEMPLATE = "service-function.yml.j2"
FRONT_DOOR_TEMPLATE = "frontdoor.yml.j2"


@dataclass(frozen=True)
class Rendered:
    kind: str  # "tooling" | "replica" | "pipeline" | "target" | "function" | "frontdoor"
    stack_name: str
    body: str  # CloudFormation YAML
    version: str  # first 16 hex chars of sha256(body): the bootstrap version tag
    account: str
    region: str
    env: str | None


def render_tooling(config: PipelineConfig, templates_dir: Path | None = None) -> Rendered:
    body = expand_template(templates_dir, TOOLING_TEMPLATE, tooling_context(config))
    return make_rendered("tooling", naming.tooling_stack_name(config), body, config.tooling.account,
                     config.tooling.region, None)


def render_replica(config: PipelineConfig, region: str, templates_dir: Path | None = None) -> Rendered:
    """The artifact bucket and key in a replica region: the tooling template, rendered for that region."""
    body = expand_template(templates_dir, TOOLING_TEMPLATE, tooling_context(config, region))
    return make_rendered("replica", naming.replica_stack_name(config, region), body, config.tooling.account,
                         region, None)


def render_pipeline(config: PipelineConfig, templates_dir: Path | None = None) -> Rendered:
    """The CodePipeline + CodeBuild stack, in the tooling account beside the tooling stack."""
    body = expand_template(templates_dir, PIPELINE_TEMPLATE, pipeline_context(config))
    return make_rendered("pipeline", naming.pipeline_stack_name(config), body, config.tooling.account,
                     config.tooling.region, None)


def render_target(config: PipelineConfig, env: Environment, target: Target,
                  templates_dir: Path | None = None) -> Rendered:
    body = expand_template(templates_dir, TARGET_TEMPLATE, target_context(config, env, target))
    return make_rendered("target", naming.target_stack_name(config, env), body, target.account, target.region, env.name)


def render_function(config: PipelineConfig, env: Environment, target: Target,
                    templates_dir: Path | None = None) -> Rendered:
    body = expand_template(templates_dir, FUNCTION_TEMPLATE, function_context(config, env, target))
    return make_rendered("function", naming.function_stack_name(config, env), body, target.account, target.region,
                     env.name)


def render_service_function(config: PipelineConfig, env: Environment, target: Target,
                            templates_dir: Path | None = None) -> Rendered:
    """A multi-function service's function stack (every function; same stack name as the one function's)."""
    body = expand_template(templates_dir, SERVICE_FUNCTION_TEMPLATE, service_function_context(config, env, target))
    return make_rendered("function", naming.function_stack_name(config, env), body, target.account, target.region,
                         env.name)


def render_front_door(config: PipelineConfig, env: Environment, target: Target,
                      templates_dir: Path | None = None) -> Rendered:
    """A service's HTTP API and schedules (only for a service with routes or schedules: `has_front_door`)."""
    body = expand_template(templates_dir, FRONT_DOOR_TEMPLATE, front_door_context(config, env, target))
    return make_rendered("frontdoor", naming.front_door_stack_name(config, env), body, target.account,
                         target.region, env.name)


def render_env_stacks(config: PipelineConfig, env: Environment, target: Target,
                      templates_dir: Path | None = None) -> list[Rendered]:
    """One target's stacks in deploy order: target and function stack, then a service's front door."""
    if not is_service(config):
        return [render_target(config, env, target, templates_dir), render_function(config, env, target, templates_dir)]
    out = [render_target(config, env, target, templates_dir),
           render_service_function(config, env, target, templates_dir)]
    if has_front_door(env):
        out.append(render_front_door(config, env, target, templates_dir))
    return out


def render_all(config: PipelineConfig, templates_dir: Path | None = None) -> list[Rendered]:
    """Tooling and pipeline, then each env's target and function stack (and a service's front door) for every
    target, in stage order."""
    out = [render_tooling(config, templates_dir), render_pipeline(config, templates_dir)]
    out += [render_replica(config, region, templates_dir) for region in naming.replica_regions(config)]
    for name in config.order:
        env = config.env(name)
        for target in env.targets:
            out += render_env_stacks(config, env, target, templates_dir)
    return out


def function_parameters(*, bucket: str, key: str, object_version: str | None, runtime: str, handler: str,
                        sha256: str, commit: str) -> list[dict[str, str]]:
    """The function stack's parameters in CloudFormation API shape (ParameterKey/ParameterValue)."""
    values = {"CodeS3Bucket": bucket, "CodeS3Key": key, "CodeS3ObjectVersion": object_version or "",
              "Runtime": runtime, "Handler": handler, "ArtifactSha256": sha256, "ArtifactCommit": commit}
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


def version_of(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def make_rendered(kind: str, stack: str, body: str, account: str, region: str, env: str | None) -> Rendered:
    return Rendered(kind=kind, stack_name=stack, body=body, version=version_of(body), account=account,
                    region=region, env=env)


def _cfn(value: str) -> str:
    """A string scalar for CloudFormation YAML: `!Sub` when it references ${...}, else quoted."""
    quoted = json.dumps(value)
    return f"!Sub {quoted}" if "${" in value else quoted


@functools.cache
def _environment(templates_dir: Path) -> jinja2.Environment:
    """One Jinja environment per templates directory: it caches compiled templates (auto_reload keeps
    a changed file fresh), so rendering every env's stacks compiles each template once; the bytecode
    cache (`templatecache`) keeps them compiled between runs."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, autoescape=False,
                             bytecode_cache=bytecode_cache())
    env.filters["q"] = lambda value: json.dumps(value)
    env.filters["cfn"] = _cfn
    return env


_UNDEFINED = (re.compile(r"'([^']+)' is undefined"), re.compile(r"has no attribute '([^']+)'"),
              re.compile(r"no element '?([^']+)'?"))


def expand_template(templates_dir: Path | None, name: str, context: dict[str, Any]) -> str:
    directory = Path(templates_dir) if templates_dir is not None else TEMPLATES_DIR
    path = directory / name
    shown = display_path(path)
    try:
        body = _environment(directory).get_template(name).render(**context)
    except jinja2.TemplateNotFound:
        raise InputError(f"{shown}: template not found") from None
    except jinja2.TemplateSyntaxError as exc:
        raise InputError(f"{shown}:{exc.lineno}: template syntax error: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        line = _template_line(exc, path)
        message = str(exc.message or exc)
        for pattern in _UNDEFINED:
            match = pattern.search(message)
            if match:
                raise InputError(f"{shown}:{line}: undefined variable {match.group(1)!r}") from None
        raise InputError(f"{shown}:{line}: {message}") from None
    except jinja2.TemplateError as exc:
        raise InputError(f"{shown}:{_template_line(exc, path)}: template error: {exc}") from None
    try:
        parsed = load_template(body)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (rendered line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{shown}: renders to invalid YAML{where}: {problem}") from None
    if not isinstance(parsed, dict) or "Resources" not in parsed:
        raise InputError(f"{shown}: renders to no CloudFormation Resources section")
    problems = policy_problems(parsed, shown)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InputError(f"{problems[0]}{more}", details=problems)
    return body


def _template_line(exc: BaseException, path: Path) -> int | str:
    """Jinja rewrites tracebacks so frames carry the template file and line; find the deepest one."""
    line: int | str = "?"
    target = str(path)
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename == target or Path(filename).name == path.name:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
