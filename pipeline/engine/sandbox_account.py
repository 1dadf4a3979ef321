"""A sandbox's caller (who, guarded), its templates checked before any call, and the teardown of its
resources: shared by the sandbox verbs (engine/sandbox.py) and `sandbox gc` (engine/sandbox_gc.py)."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.aws.cloudformation import StackState
from pipeline.aws.sandbox import SandboxAWS
from pipeline.aws.session import AccountSession, SessionFactory
from pipeline.config.merged import PipelineConfig
from pipeline.core import sandbox as S
from pipeline.infra.sandbox import render_sandbox_bucket, render_sandbox_function


@dataclass(frozen=True)
class Caller:
    session: AccountSession
    account: str
    arn: str

    @property
    def owner(self) -> str:
        return S.owner_of(self.arn)


def open_caller(config: PipelineConfig, factory: SessionFactory) -> Caller:
    """Who the base credentials are (one STS call), refused (exit 3) in any account the pipeline uses."""
    base = factory.base()
    identity = base.identity
    S.guard(config, identity.account)
    return Caller(base, identity.account, identity.arn)



def remove(aws: SandboxAWS, fn_state: StackState | None, bucket_state: StackState | None, bucket: str,
           bucket_exists: bool) -> list[str]:
    """Function stack, then the bucket's objects, then the bucket stack (and the bucket, if it outlived it)."""
    done: list[str] = []
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
    return done


def check_render(config: PipelineConfig, ident: str, region: str) -> None:
    """Render both templates once before any AWS call: a config or template error is exit 2, nothing written."""
    sbx = S.names(config.name, ident, "000000000000", region)
    placeholder = S.tags(ident, "owner", "created", "expires", S.KIND_BUCKET)
    render_sandbox_bucket(config.name, sbx, placeholder)
    render_sandbox_function(config.name, sbx, S.function_settings(config), placeholder)
