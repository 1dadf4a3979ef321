"""Bucket-level reads that `doctor` probes with: where a bucket lives, and whether one object can be read.

Both raise botocore's ClientError as S3 answered it: the probe turns that into a failed check with a hint.
"""

from __future__ import annotations

from pipeline.aws.session import AccountSession


def bucket_region(session: AccountSession, bucket: str, region: str) -> str:
    """The bucket's region [GetBucketLocation]; S3 answers no constraint for us-east-1 and `EU` for eu-west-1."""
    found = session.client("s3", region).get_bucket_location(Bucket=bucket).get("LocationConstraint")
    return "eu-west-1" if found == "EU" else str(found or "us-east-1")


def read_first_byte(session: AccountSession, bucket: str, key: str, region: str) -> None:
    """One byte of the object [GetObject with a range]: s3:GetObject, and kms:Decrypt for SSE-KMS, proven."""
    session.client("s3", region).get_object(Bucket=bucket, Key=key, Range="bytes=0-0")
