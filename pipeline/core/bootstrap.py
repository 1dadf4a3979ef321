"""Pure bootstrap decisions: which code a function stack must name, and each stack's desired spec.

The rule that keeps CloudFormation from reverting a promotion: the function stack's code and
runtime parameters always describe what the function runs *now*. Before the first promotion
that is the stub; after it, the live Go artifact (identified by the live CodeSha256, which
invariant 1 makes equal to the artifact's sha256).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pipeline.artifact.manifest import hex_sha256
from pipeline.config.merged import Environment, PipelineConfig
from pipeline.core.function import GO_HANDLER, GO_RUNTIME
from pipeline.core.stacks import StackSpec, stack_tags
from pipeline.infra import naming
from pipeline.infra.render import (
    Rendered,
    function_parameters,
    render_env_stacks,
    render_pipeline,
    render_replica,
    render_tooling,
)
from pipeline.infra.stub import STUB_HANDLER, STUB_RUNTIME, stub_sha256

TAG_ARTIFACT = "pipeline:artifact-sha256"
TAG_COMMIT = "pipeline:commit"


@dataclass(frozen=True)
class LiveFunction:
    """What GetFunction says about a deployed function."""

    name: str
    arn: str
    runtime: str
    handler: str
    code_sha256: str  # base64, as Lambda reports it
    memory: int
    architecture: str
    tags: Mapping[str, str] = field(default_factory=dict)
    alias_version: str | None = None  # the version the live alias points at (code_sha256 is then its code)
    latest_code_sha256: str | None = None  # base64 of $LATEST's code when the live alias runs other code

    @property
    def latest_sha256(self) -> str | None:
        return hex_sha256(self.latest_code_sha256) if self.latest_code_sha256 else None

    @property
    def sha256(self) -> str:
        return hex_sha256(self.code_sha256) or ""

    @property
    def promoted(self) -> bool:
        """Runs a Go artifact (the stub is a Python function)."""
        return self.runtime == GO_RUNTIME


@dataclass(frozen=True)
class FunctionCode:
    """The function stack's code/runtime parameters, and where they came from."""

    bucket: str
    key: str
    runtime: str
    handler: str
    sha256: str
    commit: str
    source: str  # "stub" | "live artifact"
    object_version: str = ""
    notes: tuple[str, ...] = ()

    @property
    def is_stub(self) -> bool:
        return self.source == "stub"

    def parameters(self) -> dict[str, str]:
        listed = function_parameters(bucket=self.bucket, key=self.key, object_version=self.object_version,
                                     runtime=self.runtime, handler=self.handler, sha256=self.sha256,
                                     commit=self.commit)
        return {p["ParameterKey"]: p["ParameterValue"] for p in listed}


def stub_code(config: PipelineConfig, region: str | None = None) -> FunctionCode:
    """The stub in `region`'s artifact bucket (default: the home bucket)."""
    sha = stub_sha256()
    bucket = naming.artifact_bucket(config, region or config.tooling.region)
    return FunctionCode(bucket, naming.artifact_key(config, sha), STUB_RUNTIME, STUB_HANDLER, sha,
                        "", "stub")


def function_code(config: PipelineConfig, live: LiveFunction | None, region: str | None = None) -> FunctionCode:
    """Parameters that describe the live function: its Go artifact once promoted, else the stub.

    The live CodeSha256 names the artifact (the promote tag is only cross-checked): a promotion
    that stopped between the code update and the tag still must not be reverted.
    """
    if live is None or not live.promoted:
        return stub_code(config, region)
    sha = live.sha256
    notes: list[str] = []
    running = f"the code the live alias runs (v{live.alias_version})" if live.alias_version else "the running code"
    if live.latest_sha256 and live.latest_sha256 != sha:
        notes.append(f"{live.name}: keeping {running}, {sha[:12]}; $LATEST holds {live.latest_sha256[:12]}, which "
                     "live does not run (rolled back, or never verified)")
    tagged = live.tags.get(TAG_ARTIFACT)
    if tagged and tagged != sha:
        notes.append(f"{live.name}: tag {TAG_ARTIFACT}={tagged[:12]} but the code running is {sha[:12]}; "
                     f"keeping {running}")
    elif not tagged:
        notes.append(f"{live.name}: no {TAG_ARTIFACT} tag; keeping {running} {sha[:12]}")
    bucket = naming.artifact_bucket(config, region or config.tooling.region)  # Lambda reads its own region
    return FunctionCode(bucket, naming.artifact_key(config, sha), GO_RUNTIME, GO_HANDLER, sha,
                        live.tags.get(TAG_COMMIT, ""), "live artifact", notes=tuple(notes))


def stack_spec(rendered: Rendered, *, protect: bool, parameters: Mapping[str, str] | None = None,
               role_arn: str | None = None) -> StackSpec:
    """A rendered template as a StackSpec, tagged with its bootstrap version, kind and env."""
    return StackSpec(name=rendered.stack_name, body=rendered.body, parameters=dict(parameters or {}),
                     tags=stack_tags(rendered.version, rendered.kind, rendered.env), protect=protect,
                     role_arn=role_arn)


def render_scope(config: PipelineConfig, envs: list[Environment], tooling: bool) -> list[Rendered]:
    """Every template a bootstrap run will deploy, rendered up front: a render error is exit 2
    before any AWS call (invariant 8), not after the first stacks were written."""
    out = [render_tooling(config), render_pipeline(config)] if tooling else []
    if tooling:
        out += [render_replica(config, region) for region in naming.replica_regions(config)]
    for env in envs:
        for target in env.targets:
            out += render_env_stacks(config, env, target)
    return out
