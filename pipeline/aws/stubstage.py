"""Stage the bootstrap stub zip into the artifact bucket and its replicas (keyed by its sha256, like any artifact).

Only the zip is written, no manifest: the stub is not an artifact anyone may promote.
"""

from __future__ import annotations

import base64
import hashlib

from botocore.exceptions import ClientError

from pipeline.aws.errors import error_code, error_message, http_status
from pipeline.aws.replicas import Replicas
from pipeline.aws.session import AccountSession
from pipeline.config.merged import PipelineConfig
from pipeline.errors import PipelineError
from pipeline.infra import naming
from pipeline.infra.stub import stub_zip


def kms_args(config: PipelineConfig) -> dict[str, str]:
    """SSE-KMS with the tooling stack's customer key (by alias), as every artifact object uses."""
    region = config.tooling.region
    key = f"arn:{naming.partition(region)}:kms:{region}:{config.tooling.account}:{naming.kms_alias_name(config)}"
    return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key}


def object_present(tooling: AccountSession, config: PipelineConfig, key: str, region: str | None = None) -> bool:
    """One HEAD in `region`'s artifact bucket (default: home): False on 404 (also what a missing bucket answers)."""
    region = region or config.tooling.region
    bucket = naming.artifact_bucket(config, region)
    try:
        tooling.client("s3", region).head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if http_status(exc) == 404:
            return False
        raise _error(exc, bucket, key, config) from None
    return True


def stage_stub(tooling: AccountSession, config: PipelineConfig) -> None:
    """Upload the stub zip (SHA-256 checked by S3, SSE-KMS) under its sha256."""
    data = stub_zip()
    digest = hashlib.sha256(data)
    sha = digest.hexdigest()
    bucket, key = config.artifact_bucket, naming.artifact_key(config, sha)
    try:
        tooling.client("s3", config.tooling.region).put_object(
            Bucket=bucket, Key=key, Body=data, ChecksumAlgorithm="SHA256",
            ChecksumSHA256=base64.b64encode(digest.digest()).decode(), ContentType="application/zip",
            Metadata={"sha256": sha, "kind": "bootstrap-stub"}, **kms_args(config))
    except ClientError as exc:
        raise _error(exc, bucket, key, config) from None
    # every target region loads the stub from its own region's bucket
    Replicas(tooling, config).replicate(key, base64.b64encode(digest.digest()).decode())


def _error(exc: ClientError, bucket: str, key: str, config: PipelineConfig) -> PipelineError:
    code = error_code(exc)
    if code in ("NoSuchBucket", "404"):
        return PipelineError(f"artifact bucket {bucket} not found in tooling account {config.tooling.account}: "
                             "run `pipeline bootstrap --tooling` first")
    return PipelineError(f"s3://{bucket}/{key}: {code}: {error_message(exc)}")
