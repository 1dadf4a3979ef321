"""AWS calls a developer sandbox makes in one account/region: its stacks, bucket, function and logs.

Everything here acts with the session it is given (the caller's own credentials, or a gc role);
the account guard has been passed before this adapter is built.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from pipeline.aws.cloudformation import Stacks, StackState
from pipeline.aws.errors import error_code, error_message, http_status
from pipeline.aws.livefunction import read_live_function
from pipeline.aws.retry import paginate
from pipeline.aws.session import AccountSession
from pipeline.core.bootstrap import LiveFunction
from pipeline.core.smoke import Invocation
from pipeline.core.stacks import Poll
from pipeline.errors import PipelineError

Progress = Callable[[str], None]
EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})


def aws_error(exc: ClientError, what: str) -> PipelineError:
    """One line for a failed call; expired credentials say so plainly."""
    code = error_code(exc)
    if code in EXPIRED_CODES:
        return PipelineError(f"{what}: your AWS credentials have expired ({code}); refresh them (e.g. aws sso login)")
    return PipelineError(f"{what}: {code}: {error_message(exc)}")


class SandboxAWS:
    def __init__(self, session: AccountSession, region: str, progress: Progress | None = None,
                 poll: Poll | None = None) -> None:
        self.session = session
        self.region = region
        self.progress = progress or (lambda _line: None)
        self.poll = poll or Poll()

    def client(self, service: str) -> Any:
        return self.session.client(service, self.region)

    # -- stacks -----------------------------------------------------------------------------
    def stacks_client(self) -> Any:
        """The CloudFormation client a `StackEngine` deploys this sandbox's stacks with."""
        return self.client("cloudformation")

    def stack(self, name: str) -> StackState | None:
        try:
            return Stacks(self.client("cloudformation")).describe(name)
        except ClientError as exc:
            raise aws_error(exc, f"stack {name}") from None

    def stacks(self, prefix: str) -> list[StackState]:
        """Every live stack whose name starts with `prefix` (DescribeStacks, all pages)."""
        try:
            raw = paginate(self.client("cloudformation"), "describe_stacks", "Stacks", "NextToken", "NextToken")
        except ClientError as exc:
            raise aws_error(exc, "describe_stacks") from None
        found = [StackState.from_api(s) for s in raw if s["StackName"].startswith(prefix)]
        return [s for s in found if s.status != "DELETE_COMPLETE"]

    def delete_stack(self, state: StackState) -> None:
        """Delete and wait until it is gone (poll with a growing interval)."""
        cfn = self.client("cloudformation")
        self.progress(f"{state.name}: deleting")
        try:
            cfn.delete_stack(StackName=state.stack_id)
        except ClientError as exc:
            raise aws_error(exc, f"stack {state.name}: delete_stack") from None
        stacks, delay = Stacks(cfn), self.poll.first
        deadline = time.monotonic() + self.poll.timeout
        while True:
            current = stacks.describe(state.stack_id)
            if current is None:
                return
            if current.status == "DELETE_FAILED":
                raise PipelineError(f"stack {state.name}: delete failed: {current.reason or 'no reason given'}")
            if time.monotonic() > deadline:
                raise PipelineError(f"stack {state.name}: still {current.status} after {self.poll.timeout:.0f} s")
            time.sleep(delay)
            delay = min(delay * self.poll.factor, self.poll.cap)

    # -- the bucket -------------------------------------------------------------------------
    def bucket_tags(self, bucket: str) -> dict[str, str] | None:
        """The bucket's tags ({} when it has none), or None when there is no such bucket."""
        try:
            tag_set = self.client("s3").get_bucket_tagging(Bucket=bucket)["TagSet"]
        except ClientError as exc:
            code = error_code(exc)
            if code == "NoSuchBucket":
                return None
            if code == "NoSuchTagSet":
                return {}
            raise aws_error(exc, f"s3://{bucket}") from None
        return {t["Key"]: t["Value"] for t in tag_set}

    def has_object(self, bucket: str, key: str) -> bool:
        """One HEAD."""
        try:
            self.client("s3").head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if http_status(exc) == 404:
                return False
            raise aws_error(exc, f"s3://{bucket}/{key}") from None
        return True

    def put_object(self, bucket: str, key: str, data: bytes, metadata: dict[str, str]) -> None:
        """Upload with its SHA-256 checksum, so S3 rejects bytes that differ from what we hashed."""
        checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
        try:
            self.client("s3").put_object(Bucket=bucket, Key=key, Body=data, ChecksumAlgorithm="SHA256",
                                         ChecksumSHA256=checksum, ContentType="application/zip", Metadata=metadata)
        except ClientError as exc:
            if error_code(exc) == "NoSuchBucket":
                raise PipelineError(f"sandbox bucket {bucket} not found: run `pipeline sandbox up` first") from None
            raise aws_error(exc, f"s3://{bucket}/{key}") from None

    def empty_bucket(self, bucket: str) -> int:
        """Delete every object version and delete marker; returns how many were deleted."""
        s3 = self.client("s3")
        params: dict[str, Any] = {"Bucket": bucket}
        objects: list[dict[str, str]] = []
        try:
            while True:
                page = s3.list_object_versions(**params)
                objects += [{"Key": o["Key"], "VersionId": o["VersionId"]}
                            for o in page.get("Versions", []) + page.get("DeleteMarkers", [])]
                if not page.get("IsTruncated"):
                    break
                params.update(KeyMarker=page.get("NextKeyMarker"), VersionIdMarker=page.get("NextVersionIdMarker"))
            for i in range(0, len(objects), 1000):
                s3.delete_objects(Bucket=bucket, Delete={"Objects": objects[i:i + 1000], "Quiet": True})
        except ClientError as exc:
            raise aws_error(exc, f"s3://{bucket}: emptying") from None
        return len(objects)

    def delete_bucket(self, bucket: str) -> None:
        try:
            self.client("s3").delete_bucket(Bucket=bucket)
        except ClientError as exc:
            if error_code(exc) != "NoSuchBucket":
                raise aws_error(exc, f"s3://{bucket}: delete_bucket") from None

    # -- the function -----------------------------------------------------------------------
    def live_function(self, name: str) -> LiveFunction | None:
        try:
            return read_live_function(self.session, self.region, name)
        except ClientError as exc:  # read_live_function maps most errors; credentials ones may still arrive
            raise aws_error(exc, f"function {name}") from None

    def tag_function(self, arn: str, tags: dict[str, str]) -> None:
        try:
            self.client("lambda").tag_resource(Resource=arn, Tags=tags)
        except ClientError as exc:
            raise aws_error(exc, f"function {arn}: tag_resource") from None

    def publish(self, name: str, code_sha256: str) -> tuple[str, str]:
        """Publish $LATEST as a version (only if it still has `code_sha256`); (version, its CodeSha256)."""
        try:
            resp = self.client("lambda").publish_version(FunctionName=name, CodeSha256=code_sha256)
        except ClientError as exc:
            raise aws_error(exc, f"function {name}: publish_version") from None
        return str(resp["Version"]), str(resp.get("CodeSha256", ""))

    def invoke(self, name: str, qualifier: str, event: dict[str, Any]) -> tuple[Invocation, str]:
        """Invoke synchronously with LogType=Tail: the answer, and the last 4 KB of the run's log."""
        start = time.perf_counter()
        try:
            resp = self.client("lambda").invoke(FunctionName=name, Qualifier=qualifier, LogType="Tail",
                                                Payload=json.dumps(event).encode())
        except ClientError as exc:
            raise aws_error(exc, f"function {name}: invoke {qualifier}") from None
        payload = resp["Payload"].read()
        duration = (time.perf_counter() - start) * 1000
        tail = base64.b64decode(resp["LogResult"]).decode("utf-8", "replace") if resp.get("LogResult") else ""
        return Invocation(payload, duration, resp.get("FunctionError"), resp.get("ExecutedVersion")), tail

    # -- logs -------------------------------------------------------------------------------
    def log_events(self, group: str, start_ms: int, limit: int) -> list[dict[str, Any]] | None:
        """The newest `limit` events since `start_ms` (oldest first); None when the group does not exist."""
        logs = self.client("logs")
        events: list[dict[str, Any]] = []
        params: dict[str, Any] = {"logGroupName": group, "startTime": start_ms}
        try:
            while True:
                page = logs.filter_log_events(**params)
                events += page.get("events", [])
                events = events[-limit:]
                token = page.get("nextToken")
                if not token:
                    break
                params["nextToken"] = token
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise aws_error(exc, f"log group {group}") from None
        return events
