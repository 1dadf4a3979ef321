"""Test helpers shared by every test folder (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
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


TOOLING = ACCOUNTS["tooling"]
ADMIN_ROLE = "OrganizationAccountAccessRole"
BUCKET = f"greeter-artifacts-{TOOLING}-us-east-1"  # the repo config's artifact bucket


def base_sts(region: str = "us-east-1"):
    """STS as the emulator's base identity (the organization's admin), whatever AWS_* a test exported:
    boto3's default session would keep the first credentials it saw."""
    return boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                         region_name=region).client("sts")


def _kw(creds: dict) -> dict:
    return {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"]}


def client(service: str, account: str, region: str = "us-east-1"):
    """A boto3 client acting in `account` on the emulator as its admin (an observer, outside the product)."""
    creds = base_sts(region).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{ADMIN_ROLE}", RoleSessionName="observer")["Credentials"]
    return boto3.client(service, region_name=region, **_kw(creds))


def promoter(service: str, region: str = "us-east-1"):
    """A client acting as the promoter role (tooling.role): the one principal that reads and writes the
    ledger and the staged artifacts (the key and the bucket policy admit no admin)."""
    creds = base_sts(region).assume_role(
        RoleArn=f"arn:aws:iam::{TOOLING}:role/pipeline-promoter", RoleSessionName="test-promoter")["Credentials"]
    return boto3.client(service, region_name=region, **_kw(creds))


def deployer(service: str, account: str, region: str = "us-east-1"):
    """A client acting as an env's deploy role (assumed from the promoter, as the pipeline does)."""
    sts = promoter("sts", region)
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/pipeline-deploy",
                            RoleSessionName="test-deployer")["Credentials"]
    return boto3.client(service, region_name=region, **_kw(creds))


def service_role_credentials(account: str, role: str, session: str) -> dict:
    """Credentials of a service's role (e.g. CodeBuild's), which only the service may assume on AWS: the test
    stands in for the service by letting the account's admin assume it too, then assumes it as that admin."""
    import json

    iam = client("iam", account)
    try:
        trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    except iam.exceptions.NoSuchEntityException:  # no stack made it: a bare role the service may assume
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                         "Principal": {"Service": "codebuild.amazonaws.com"}}]}
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
    trust = json.loads(trust) if isinstance(trust, str) else trust
    trust["Statement"].append({"Effect": "Allow", "Action": "sts:AssumeRole",
                               "Principal": {"AWS": f"arn:aws:iam::{account}:role/{ADMIN_ROLE}"}})
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(trust))
    return client("sts", account).assume_role(RoleArn=f"arn:aws:iam::{account}:role/{role}",
                                              RoleSessionName=session)["Credentials"]


@contextlib.contextmanager
def without_bucket_policy(bucket: str) -> Iterator[object]:
    """An attacker who owns the tooling account: drops the bucket policy (which keeps even admins from
    deleting ledger records), yields the admin's S3 client, then puts the policy back."""
    s3 = client("s3", TOOLING)
    policy = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    s3.delete_bucket_policy(Bucket=bucket)
    try:
        yield s3
    finally:
        s3.put_bucket_policy(Bucket=bucket, Policy=policy)


def make_bucket(name: str, account: str = "444444444444", versioned: bool = True) -> None:
    """Create a bucket in `account` on the emulator (a stand-in for `bootstrap --tooling` in unit scopes)."""
    s3 = client("s3", account)
    s3.create_bucket(Bucket=name)
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def as_codepipeline(service: str, region: str = "us-east-1"):
    """A client acting as CodePipeline does: the pipeline's service role, assumed as codepipeline.amazonaws.com
    through the emulator's STS (its trust enforced): the one that may read and write the pipeline's artifact store."""
    from pipeline.local import execrole

    session = execrole.service_session(f"arn:aws:iam::{TOOLING}:role/greeter-codepipeline",
                                       "codepipeline.amazonaws.com", "test", region, source_account=TOOLING)
    assert session is not None, "the pipeline role does not trust codepipeline.amazonaws.com"
    keys = session.environment()
    return boto3.client(service, region_name=region, aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
                        aws_session_token=keys["AWS_SESSION_TOKEN"])
