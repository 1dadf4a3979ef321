"""The per-region replicas of the artifact bucket: Lambda loads code only from its own region.

`stage` uploads once to the home bucket (tooling region); every other region a target uses gets
a server-side copy (no client re-upload) carrying the SHA-256 checksum, which S3 recomputes on
the copy. Idempotent: a replica already holding the object with the right checksum costs one
HEAD. Each replica's checksum is compared with the staged digest before it is trusted.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from botocore.exceptions import ClientError

from pipeline.artifact.manifest import hex_sha256
from pipeline.aws.errors import error_code, error_message, http_status
from pipeline.aws.session import AccountSession
from pipeline.config.merged import PipelineConfig
from pipeline.errors import PipelineError
from pipeline.infra import naming


@dataclass(frozen=True)
class Replica:
    """One region's copy of an object, as observed (or just written)."""

    region: str
    bucket: str
    key: str
    state: str  # "present" | "copied" | "missing" | "replaced"
    sha256: str | None = None  # hex, as S3 reports it
    version_id: str | None = None

    @property
    def where(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def usable(self) -> bool:
        return self.state in ("present", "copied")

    def as_dict(self) -> dict[str, str | None]:
        return {"region": self.region, "bucket": self.bucket, "key": self.key, "state": self.state,
                "sha256": self.sha256, "version_id": self.version_id}


class Replicas:
    def __init__(self, session: AccountSession, config: PipelineConfig) -> None:
        self.session = session
        self.config = config
        self.regions = naming.replica_regions(config)

    def check(self, key: str, code_sha256: str, regions: list[str] | None = None) -> list[Replica]:
        """One HEAD per replica region: present (right checksum), replaced (another one) or missing."""
        return [self._head(region, key, code_sha256) for region in (self.regions if regions is None else regions)]

    def of_artifact(self, sha256: str, region: str) -> Replica:
        """The replica of artifact `sha256` (hex) in `region`, checked against that digest (one HEAD)."""
        checksum = base64.b64encode(bytes.fromhex(sha256)).decode()
        return self._head(region, naming.artifact_key(self.config, sha256), checksum)

    def replicate(self, key: str, code_sha256: str) -> list[Replica]:
        """Copy the home object to every replica region lacking it; verify each copy's checksum."""
        out: list[Replica] = []
        for region in self.regions:
            seen = self._head(region, key, code_sha256)
            if seen.state == "replaced":
                raise PipelineError(f"{seen.where} ({region}): replica has sha256 {seen.sha256}, expected "
                                    f"{hex_sha256(code_sha256)}: its bytes were replaced after staging")
            if seen.state == "present":
                out.append(seen)
                continue
            out.append(self._copy(region, key, code_sha256))
        return out

    def _head(self, region: str, key: str, code_sha256: str) -> Replica:
        bucket = naming.artifact_bucket(self.config, region)
        try:
            resp = self.session.client("s3", region).head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        except ClientError as exc:
            if http_status(exc) == 404 and error_code(exc) != "NoSuchBucket":
                return Replica(region, bucket, key, "missing")
            raise self._error(exc, region, bucket, key) from None
        found = resp.get("ChecksumSHA256", "")
        state = "present" if found == code_sha256 else "replaced"
        return Replica(region, bucket, key, state, hex_sha256(found) or "(none recorded)", resp.get("VersionId"))

    def _copy(self, region: str, key: str, code_sha256: str) -> Replica:
        bucket, home = naming.artifact_bucket(self.config, region), self.config.artifact_bucket
        try:
            resp = self.session.client("s3", region).copy_object(
                Bucket=bucket, Key=key, CopySource={"Bucket": home, "Key": key}, MetadataDirective="COPY",
                ChecksumAlgorithm="SHA256", ServerSideEncryption="aws:kms",
                SSEKMSKeyId=naming.kms_alias_arn(self.config, region))
        except ClientError as exc:
            raise self._error(exc, region, bucket, key, copying=True) from None
        got = resp.get("CopyObjectResult", {}).get("ChecksumSHA256")
        if got is None:  # not echoed: read it back (one HEAD)
            seen = self._head(region, key, code_sha256)
            if seen.state != "present":
                raise PipelineError(f"{seen.where} ({region}): the copy's checksum is {seen.sha256 or 'absent'}, "
                                    f"expected {hex_sha256(code_sha256)}")
            return Replica(region, bucket, key, "copied", seen.sha256, seen.version_id)
        if got != code_sha256:
            raise PipelineError(f"s3://{bucket}/{key} ({region}): S3 stored checksum {got} on the copy, "
                                f"expected {code_sha256}")
        return Replica(region, bucket, key, "copied", hex_sha256(got), resp.get("VersionId"))

    def _error(self, exc: ClientError, region: str, bucket: str, key: str, *, copying: bool = False) -> PipelineError:
        code = error_code(exc)
        if code == "NoSuchBucket":
            return PipelineError(f"replica bucket {bucket} not found in region {region} of tooling account "
                                 f"{self.config.tooling.account}: run `pipeline bootstrap --tooling` (creates one "
                                 "artifact bucket per target region)")
        verb = "copying to" if copying else "reading"
        return PipelineError(f"replica in {region}: {verb} s3://{bucket}/{key}: {exc.operation_name}: {code}: "
                             f"{error_message(exc)}")
