"""Test helpers shared by every test folder (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

from pathlib import Path

import boto3

REPO = Path(__file__).resolve().parents[1]
ACCOUNTS = {"dev": "111111111111", "test": "222222222222", "prod": "333333333333", "tooling": "444444444444"}


class CallLog:
    """Every AWS API call made through the session factory, as (service, operation)."""

    WRITE_PREFIXES = ("Put", "Create", "Update", "Delete", "Publish", "Tag", "Untag", "Execute", "Set", "Add",
                      "Remove", "Invoke", "Copy", "Upload", "Continue")

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def hook(self, model, **_kwargs) -> None:
        self.calls.append((model.service_model.service_name, model.name))

    @property
    def writes(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[1].startswith(self.WRITE_PREFIXES) and c[1] != "AssumeRole"]

    def without_sts(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[0] != "sts"]

    def clear(self) -> None:
        self.calls.clear()


def client(service: str, account: str, region: str = "us-east-1"):
    """A boto3 client acting in `account` on the emulator (an observer, outside the product)."""
    creds = boto3.client("sts", region_name=region).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/test-observer", RoleSessionName="observer")["Credentials"]
    return boto3.client(service, region_name=region, aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])


def make_bucket(name: str, account: str = "444444444444", versioned: bool = True) -> None:
    """Create a bucket in `account` on the emulator (a stand-in for `bootstrap --tooling` in unit scopes)."""
    s3 = client("s3", account)
    s3.create_bucket(Bucket=name)
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
