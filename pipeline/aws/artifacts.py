"""The artifact store: the tooling account's bucket, objects keyed by their sha256.

Staging is content-addressed and verified by S3 itself: each upload carries the SHA-256
checksum, so S3 rejects bytes that differ from what we hashed. Re-staging costs one HEAD.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from pipeline.artifact.manifest import Manifest, hex_sha256
from pipeline.aws.errors import error_code, error_message, http_status
from pipeline.aws.retry import list_objects
from pipeline.aws.session import AccountSession
from pipeline.config.merged import PipelineConfig
from pipeline.errors import InputError, PipelineError
from pipeline.infra import naming


def encryption_args(config: PipelineConfig) -> dict[str, str]:
    """SSE-KMS with the tooling stack's customer key, named by its alias."""
    region = config.tooling.region
    key = f"arn:{naming.partition(region)}:kms:{region}:{config.tooling.account}:{naming.kms_alias_name(config)}"
    return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key}


@dataclass(frozen=True)
class StagedArtifact:
    sha256: str
    code_sha256: str
    key: str
    version_id: str | None
    size: int
    uploaded: bool
    commit: str = "unknown"
    dirty: bool = False
    staged_at: str | None = None
    staged_by: str | None = None

    @property
    def sha12(self) -> str:
        return self.sha256[:12]


class ArtifactStore:
    def __init__(self, session: AccountSession, config: PipelineConfig) -> None:
        self.config = config
        self.bucket = config.artifact_bucket
        self.region = config.tooling.region
        self.s3 = session.client("s3", self.region)
        self.actor = session.identity.arn

    def head(self, sha256: str) -> StagedArtifact | None:
        """The staged object, if present (one HEAD call, checksum included)."""
        key = naming.artifact_key(self.config, sha256)
        try:
            resp = self.s3.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        except ClientError as exc:
            if http_status(exc) == 404:
                return None
            raise self._error(exc, f"s3://{self.bucket}/{key}") from None
        meta = resp.get("Metadata", {})
        return StagedArtifact(
            sha256=sha256, code_sha256=resp.get("ChecksumSHA256", ""), key=key, version_id=resp.get("VersionId"),
            size=resp["ContentLength"], uploaded=False, commit=meta.get("commit", "unknown"),
            dirty=meta.get("dirty") == "true", staged_at=meta.get("staged-at"), staged_by=meta.get("staged-by"))

    def stage(self, zip_path: Path, manifest: Manifest) -> StagedArtifact:
        """Upload zip + manifest under the sha256 unless an object with that checksum is already there."""
        existing = self.head(manifest.sha256)
        if existing is not None:
            if existing.code_sha256 != manifest.code_sha256:
                found = hex_sha256(existing.code_sha256) or "(none recorded)"
                raise PipelineError(
                    f"s3://{self.bucket}/{existing.key}: staged object has sha256 {found}, "
                    f"expected {manifest.sha256}: its bytes were replaced after staging")
            return existing
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")
        key = naming.artifact_key(self.config, manifest.sha256)
        metadata = {"sha256": manifest.sha256, "commit": manifest.commit, "dirty": str(manifest.dirty).lower(),
                    "staged-at": now, "staged-by": self.actor, "version": manifest.version}
        encryption = encryption_args(self.config)
        try:
            resp = self.s3.put_object(Bucket=self.bucket, Key=key, Body=zip_path.read_bytes(),
                                      ChecksumAlgorithm="SHA256", ChecksumSHA256=manifest.code_sha256,
                                      ContentType="application/zip", Metadata=metadata, **encryption)
            record = {**manifest.to_dict(), "staged_at": now, "staged_by": self.actor}
            self.s3.put_object(Bucket=self.bucket, Key=naming.manifest_key(self.config, manifest.sha256),
                               Body=json.dumps(record, indent=2, sort_keys=True).encode(),
                               ContentType="application/json", **encryption)
        except ClientError as exc:
            raise self._error(exc, f"s3://{self.bucket}/{key}") from None
        if resp.get("ChecksumSHA256") not in (None, manifest.code_sha256):
            raise PipelineError(f"s3://{self.bucket}/{key}: S3 stored checksum {resp['ChecksumSHA256']}, "
                                f"expected {manifest.code_sha256}")
        return StagedArtifact(manifest.sha256, manifest.code_sha256, key, resp.get("VersionId"), manifest.size,
                              uploaded=True, commit=manifest.commit, dirty=manifest.dirty, staged_at=now,
                              staged_by=self.actor)

    def list(self) -> list[StagedArtifact]:
        """Every staged artifact, newest first (one LIST plus one GET per manifest)."""
        prefix = naming.artifact_prefix(self.config)
        found: list[StagedArtifact] = []
        try:
            for obj in list_objects(self.s3, self.bucket, prefix):
                if not obj["Key"].endswith(".json"):
                    continue
                body = self.s3.get_object(Bucket=self.bucket, Key=obj["Key"])["Body"].read()
                found.append(_from_manifest(self.config, json.loads(body)))
        except ClientError as exc:
            raise self._error(exc, f"s3://{self.bucket}/{prefix}") from None
        return sorted(found, key=lambda a: a.staged_at or "", reverse=True)

    def newest_sha256(self) -> str | None:
        """The most recently staged artifact's sha256, from one LIST (manifests read only to break a tie).

        Only zips staged with a manifest count: the bootstrap stub shares the prefix but is no release.
        """
        zips = self._staged_zips()
        if not zips:
            return None
        latest = max(obj["LastModified"] for obj in zips)
        tied = [obj for obj in zips if obj["LastModified"] == latest]
        if len(tied) > 1:
            # S3 keeps LastModified to the second: artifacts staged within one second are told apart
            # by the millisecond `staged_at` in their manifests (one GET each, only for a tie).
            tied.sort(key=lambda obj: self._staged_at(obj["Key"].removesuffix(".zip") + ".json"))
        return tied[-1]["Key"].rsplit("/", 1)[-1].removesuffix(".zip")

    def staged_sha256s(self) -> list[str]:
        """The sha256 of every staged artifact (one LIST; no manifest read): what a typed prefix resolves against."""
        return [obj["Key"].rsplit("/", 1)[-1].removesuffix(".zip") for obj in self._staged_zips()]

    def _staged_zips(self) -> list[dict[str, Any]]:
        """The listing's zips that have a manifest beside them (the bootstrap stub shares the prefix, has none)."""
        prefix = naming.artifact_prefix(self.config)
        try:
            objects = list_objects(self.s3, self.bucket, prefix)
        except ClientError as exc:
            raise self._error(exc, f"s3://{self.bucket}/{prefix}") from None
        manifests = {obj["Key"].removesuffix(".json") for obj in objects if obj["Key"].endswith(".json")}
        return [obj for obj in objects if obj["Key"].endswith(".zip") and obj["Key"].removesuffix(".zip") in manifests]

    def _staged_at(self, manifest_key: str) -> str:
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=manifest_key)["Body"].read()
        except ClientError as exc:
            raise self._error(exc, f"s3://{self.bucket}/{manifest_key}") from None
        try:
            value = json.loads(body).get("staged_at")
        except (ValueError, AttributeError):
            value = None
        return value if isinstance(value, str) else ""

    def _error(self, exc: ClientError, what: str) -> PipelineError:
        code = error_code(exc)
        if code == "NoSuchBucket":
            return PipelineError(f"artifact bucket {self.bucket} not found in tooling account "
                                 f"{self.config.tooling.account}: run `pipeline bootstrap --tooling` first")
        if code in ("BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"):
            return InputError(f"{what}: S3 rejected the upload: the bytes do not match their sha256 ({code})")
        # The operation too: "s3://b/k: AccessDenied" does not say whether reading or writing was denied.
        return PipelineError(f"{what}: {exc.operation_name}: {code}: {error_message(exc)}")


def _from_manifest(config: PipelineConfig, data: dict[str, Any]) -> StagedArtifact:
    manifest = Manifest.from_dict(data, source="staged manifest")
    return StagedArtifact(manifest.sha256, manifest.code_sha256, naming.artifact_key(config, manifest.sha256), None,
                          manifest.size, uploaded=False, commit=manifest.commit, dirty=manifest.dirty,
                          staged_at=data.get("staged_at"), staged_by=data.get("staged_by"))
