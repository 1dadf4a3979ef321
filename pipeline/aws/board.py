"""Where the promotion board is published: `board/index.html` in the tooling bucket, written with the
caller's own credentials (in CodeBuild: the build's role, which may write only that prefix) and
shared by a presigned GET URL, so whoever reads the build log can open it without AWS access."""

from __future__ import annotations

from botocore.exceptions import ClientError

from pipeline.aws.artifacts import encryption_args
from pipeline.aws.errors import describe
from pipeline.aws.session import AccountSession
from pipeline.config.merged import PipelineConfig
from pipeline.errors import PipelineError

BOARD_KEY = "board/index.html"


class BoardObject:
    def __init__(self, session: AccountSession, config: PipelineConfig) -> None:
        self.config = config
        self.bucket = config.artifact_bucket
        self.s3 = session.client("s3", config.tooling.region)

    def publish(self, html: str, expires_seconds: int) -> str:
        """Write the page (SSE-KMS, as everything in the bucket) and return a presigned URL to read it."""
        try:
            self.s3.put_object(Bucket=self.bucket, Key=BOARD_KEY, Body=html.encode(),
                               ContentType="text/html; charset=utf-8", CacheControl="no-cache",
                               **encryption_args(self.config))
        except ClientError as exc:
            raise PipelineError(f"s3://{self.bucket}/{BOARD_KEY}: PutObject: {describe(exc)}") from None
        return str(self.s3.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": BOARD_KEY},
                                                  ExpiresIn=expires_seconds))
