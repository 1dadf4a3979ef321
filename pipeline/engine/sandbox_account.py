"""A sandbox's caller (who, guarded), its templates checked before any call, and the teardown of its
resources: shared by the sandbox verbs (engine/sandbox.py) and `sandbox gc` (engine/sandbox_gc.py)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipeline.aws.cloudformation import StackState
from pipeline.aws.sandbox import SandboxAWS
from pipeline.aws.sandbox_guard import GuardAWS
from pipeline.aws.session import AccountSession, SessionFactory
from pipeline.config.merged import PipelineConfig
from pipeline.core import sandbox as S
from pipeline.core import sandbox_guard as G
from pipeline.core import sandbox_service as V
from pipeline.core.bootstrap import LiveFunction
from pipeline.core.function import GO_HANDLER, GO_RUNTIME
from pipeline.errors import PipelineError
from pipeline.infra.sandbox import (
    render_sandbox_bucket,
    render_sandbox_frontdoor,
    render_sandbox_function,
    render_sandbox_service,
)
from pipeline.infra.stub import STUB_HANDLER, STUB_RUNTIME, stub_sha256, stub_zip


@dataclass(frozen=True)
class Caller:
    session: AccountSession
    account: str
    arn: str

    @functools.cached_property
    def role(self) -> dict[str, Any] | None:
        """The caller's IAM role as GetRole answers it (asked once); None for a user, or when IAM will not say."""
        name = S.role_name(self.arn)
        return None if name is None else GuardAWS(self.session, self.account, None).role(name)

    @property
    def owner(self) -> str:
        """The `owner` tag: the caller's aws:PrincipalArn (an assumed role's session is its role)."""
        role_arn = (self.role or {}).get("Arn") if S.role_name(self.arn) else None
        return S.owner_of(S.principal_arn(self.arn, role_arn))

    @property
    def owners(self) -> tuple[str, ...]:
        """The owner tag, then the session ARN earlier versions wrote: both are this caller's."""
        return (self.owner, S.owner_of(self.arn))


def open_caller(config: PipelineConfig, factory: SessionFactory) -> Caller:
    """Who the base credentials are (one STS call), refused (exit 3) in any account the pipeline uses."""
    base = factory.base()
    identity = base.identity
    S.guard(config, identity.account)
    return Caller(base, identity.account, identity.arn)



def remove(aws: SandboxAWS, fn_state: StackState | None, bucket_state: StackState | None, bucket: str,
           bucket_exists: bool, budget: tuple[GuardAWS, str] | None = None,
           frontdoor: StackState | None = None) -> list[str]:
    """A service's front door (its API and rules reach the functions), then the function stack, then the
    bucket's objects, then the bucket stack (and the bucket, if it outlived it), then the cost budget (last:
    it watches spend until the resources are gone)."""
    done: list[str] = []
    if frontdoor is not None:
        aws.delete_stack(frontdoor)
        done.append(f"deleted stack {frontdoor.name}")
    if fn_state is not None:
        aws.delete_stack(fn_state)
        done.append(f"deleted stack {fn_state.name}")
    if bucket_exists:
        count = aws.empty_bucket(bucket)
        done.append(f"emptied s3://{bucket} ({count} object(s))")
    if bucket_state is not None:
        aws.delete_stack(bucket_state)
        done.append(f"deleted stack {bucket_state.name}")
    if bucket_exists and aws.bucket_tags(bucket) is not None:
        aws.delete_bucket(bucket)
        done.append(f"deleted bucket {bucket}")
    if budget is not None and budget[0].delete_budget(budget[1]):
        done.append(f"deleted budget {budget[1]}")
    return done


def check_render(config: PipelineConfig, ident: str, region: str) -> None:
    """Render every template once before any AWS call: a config or template error is exit 2, nothing written."""
    sbx = S.names(config.name, ident, "000000000000", region)
    placeholder = S.tags(ident, "owner", "created", "expires", S.KIND_BUCKET)
    render_sandbox_bucket(config.name, sbx, placeholder)
    if V.is_service(config):
        fns = V.functions(config, sbx)  # a name over 64 characters is exit 2 here
        render_sandbox_service(config.name, sbx, fns, placeholder, boundary=G.role_boundary(config))
        if V.has_front_door(fns):
            render_sandbox_frontdoor(config.name, sbx, fns, placeholder)
    else:
        render_sandbox_function(config.name, sbx, S.function_settings(config), placeholder,
                                boundary=G.role_boundary(config))
    G.allowed_services(config)  # an allow-list naming no real service, or blocking the tool, is exit 2


def code_parameters(aws: SandboxAWS, sbx: S.SandboxNames, live: LiveFunction | None,
                    progress: Callable[[str], None], handler: str = GO_HANDLER) -> dict[str, str]:
    """The code the function runs now (so `up` never reverts a deploy), else the stub (staged once).
    `handler`: the one the Go artifact runs it with (a service's function: its own)."""
    bucket = sbx.bucket
    if live is not None and live.runtime == GO_RUNTIME:
        sha, runtime = live.sha256, GO_RUNTIME
        if not aws.has_object(bucket, sbx.artifact_key(sha)):
            raise PipelineError(f"the sandbox function runs {sha[:12]}, but s3://{bucket}/"
                                f"{sbx.artifact_key(sha)} is missing: run `pipeline sandbox deploy` first")
    else:
        sha, runtime, handler = stub_sha256(), STUB_RUNTIME, STUB_HANDLER
        if not aws.has_object(bucket, sbx.artifact_key(sha)):
            progress(f"staging the bootstrap stub in s3://{bucket}")
            aws.put_object(bucket, sbx.artifact_key(sha), stub_zip(), {"sha256": sha, "kind": "stub"})
    return {"CodeS3Bucket": bucket, "CodeS3Key": sbx.artifact_key(sha), "Runtime": runtime,
            "Handler": handler, "ArtifactSha256": sha}
