"""Sandbox fixtures: run the CLI in-process, act as another principal, skip the Go build where it is not the point."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from helpers import REPO

from pipeline.cli import main


def _developer_role(account: str, role: str) -> None:
    import json

    kw = {}
    if account != ADMIN_ACCOUNT:
        creds = _base().client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="setup")
        kw = {"aws_access_key_id": creds["Credentials"]["AccessKeyId"],
              "aws_secret_access_key": creds["Credentials"]["SecretAccessKey"],
              "aws_session_token": creds["Credentials"]["SessionToken"]}
    iam = boto3.Session(region_name="us-east-1", **kw).client("iam") if kw else _base().client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {
        "AWS": [f"arn:aws:iam::{ADMIN_ACCOUNT}:root", f"arn:aws:iam::{account}:root"]}}]}
    try:
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
    except iam.exceptions.EntityAlreadyExistsException:
        return
    iam.put_role_policy(RoleName=role, PolicyName="developer", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))


ADMIN_ACCOUNT = "123456789012"  # the emulator's base credentials: the organization's management account


def _base() -> boto3.Session:
    """A fresh session with the base credentials (boto3's default session caches whatever AWS_* it saw first)."""
    return boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")


@dataclass
class Shell:
    """The `pipeline` CLI in this process, with the test's environment."""

    capsys: object
    monkeypatch: object
    dist: Path

    def run(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(list(args))
        out = self.capsys.readouterr()
        return code, out.out, out.err

    def ok(self, *args: str) -> str:
        code, out, err = self.run(*args)
        assert code == 0, f"pipeline {' '.join(args)} exited {code}: {err}"
        return out

    def deploy(self, *extra: str) -> tuple[int, str, str]:
        return self.run("sandbox", "deploy", "--go-dir", str(REPO / "go-function"), "--dist", str(self.dist),
                        "--skip-tests", *extra)

    def act_as(self, account: str, role: str = "developer") -> str:
        """Export credentials acting in `account` (as the standard AWS_* variables); returns the caller ARN.
        The role is a developer's own: made here (admin of its account, trusting the organization's admin)."""
        self.as_base()
        _developer_role(account, role)
        resp = _base().client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/{role}", RoleSessionName=role)
        creds = resp["Credentials"]
        self.monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
        self.monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
        self.monkeypatch.setenv("AWS_SESSION_TOKEN", creds["SessionToken"])
        return resp["AssumedRoleUser"]["Arn"]

    def as_base(self) -> None:
        """Back to the emulator's base credentials (account 123456789012, arn ...:user/moto)."""
        self.monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        self.monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        self.monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)


@pytest.fixture
def sh(aws, envdir, capsys, monkeypatch, tmp_path) -> Shell:
    monkeypatch.setenv("USER", "alice")
    return Shell(capsys, monkeypatch, tmp_path / "dist")


@pytest.fixture
def prebuilt(built, monkeypatch) -> object:
    """`sandbox deploy` gets the session's real Go artifact instead of building (tests not about the build)."""
    zip_path, manifest = built

    def fake_build(go_dir, out_dir, name, architecture, version, run_tests=True):
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(zip_path, out_dir / zip_path.name)
        return manifest

    monkeypatch.setattr("pipeline.engine.sandbox.build_artifact", fake_build)
    return manifest


@pytest.fixture
def s3_buckets(monkeypatch) -> list[str]:
    """Every bucket named in an S3 call made through the session factory during the test."""
    from pipeline.aws import session as session_module

    seen: list[str] = []
    original = session_module.SessionFactory.__init__

    def hook(params, **_kwargs) -> None:
        if "Bucket" in params:
            seen.append(params["Bucket"])

    def patched(self, *args, **kwargs):
        kwargs["event_hooks"] = [*(kwargs.get("event_hooks") or []), ("provide-client-params.s3", hook)]
        original(self, *args, **kwargs)

    monkeypatch.setattr(session_module.SessionFactory, "__init__", patched)
    return seen
