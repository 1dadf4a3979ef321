"""Bootstrap's reads and writes for a multi-function service (`functions:`), used by `engine/bootstrap.py`.

Observe: each function of a target through the deploy role (what it runs, whether it has a `live` alias, and
whether its live artifact is still staged). Act: the `LiveAliases` step (publish the stub's version, create the
alias on it) through the Lambda adapter, so promote keeps owning the alias and CloudFormation never sees it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.aws.functions import FunctionAdapter
from pipeline.aws.livefunction import read_live_function
from pipeline.aws.session import AccountSession
from pipeline.aws.stubstage import object_present
from pipeline.config.merged import Environment, PipelineConfig, Target
from pipeline.core.bootstrap import LiveFunction
from pipeline.core.function import LIVE_ALIAS
from pipeline.core.service_plan import LiveAliases, ServiceSeen, function_names
from pipeline.errors import PipelineError
from pipeline.infra import naming


@dataclass(frozen=True)
class AliasOutcome:
    """What became of one function's `live` alias."""

    function: str
    action: str  # "created" | "would create"
    version: str = ""


def _denied(exc: PipelineError) -> bool:
    return "AccessDenied" in str(exc)


def read_service(config: PipelineConfig, session: AccountSession, tooling: Callable[[], AccountSession],
                 env: Environment, target: Target, *, denied_is_absent: bool = False) -> ServiceSeen:
    """Every function of the service in this target, as `session` (the deploy role) reads it.

    `denied_is_absent`: a dry run whose target stack would change: the deploy role does not name a function
    just added to the config yet (the target step that would name it was only previewed), so a refused read
    is a function that does not exist yet."""
    live: dict[str, LiveFunction | None] = {}
    aliased: set[str] = set()
    absent: set[str] = set()
    for name in function_names(config, env):
        try:
            found = read_live_function(session, target.region, name, follow_alias=True)
        except PipelineError as exc:
            if not (denied_is_absent and _denied(exc)):
                raise
            found = None
        live[name] = found
        if found is None:
            continue
        if FunctionAdapter(session, target.region, name).alias_version(LIVE_ALIAS) is not None:
            aliased.add(name)
        if found.promoted and not object_present(tooling(), config, naming.artifact_key(config, found.sha256),
                                                 target.region):
            absent.add(name)
    return ServiceSeen(live, frozenset(aliased), frozenset(absent))


def make_aliases(step: LiveAliases, session: AccountSession | None, *, dry_run: bool,
                 progress: Callable[[str], None], sleep: Callable[[float], None] = time.sleep) -> list[AliasOutcome]:
    """Each function of the step without a `live` alias gets one on its newly published version (the stub's,
    before any promotion). `session` None: a dry run before the deploy role exists (every alias would be made)."""
    out = []
    for name in step.functions:
        if session is not None:
            adapter = FunctionAdapter(session, step.target.region, name, sleep=sleep)
            try:
                if not step.observed and adapter.alias_version(LIVE_ALIAS) is not None:
                    continue  # decided before the functions could be read: this one has its alias
            except PipelineError as exc:
                if not (dry_run and _denied(exc)):  # a dry run: a function the role does not name yet
                    raise
        if dry_run or session is None:
            progress(f"alias {name}:{LIVE_ALIAS}: would create (on the stub's version)")
            out.append(AliasOutcome(name, "would create"))
            continue
        version = adapter.publish_version()
        adapter.point_alias(LIVE_ALIAS, version, exists=False)
        progress(f"alias {name}:{LIVE_ALIAS}: created on version {version}")
        out.append(AliasOutcome(name, "created", version))
    return out
