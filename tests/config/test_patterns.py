"""The ASCII patterns of the file models: what AWS accepts, nothing a Unicode class or `$` would let through."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pipeline.config.files import CodeConnectionsSource, EnvironmentFile, S3Source, Tooling


@pytest.mark.parametrize("account", ["\u0661" * 12, "111111111111\n", "11111111111", " 111111111111"])
def test_account_ids_are_twelve_ascii_digits(account):
    with pytest.raises(ValidationError):
        EnvironmentFile.model_validate({"account": account})
    assert EnvironmentFile.model_validate({"account": "011111111111"}).account == "011111111111"


@pytest.mark.parametrize("role", ["d\u00e9ploy", "pipeline deploy", "a" * 65, "role\n", "arn:aws:iam::1:role/x"])
def test_role_names_are_iam_ascii_names(role):
    with pytest.raises(ValidationError):
        EnvironmentFile.model_validate({"account": "111111111111", "deploy_role": role})
    ok = EnvironmentFile.model_validate({"account": "111111111111", "deploy_role": "Deploy_Role+=,.@-1"})
    assert ok.deploy_role == "Deploy_Role+=,.@-1"


def test_promoter_arns_are_ascii_with_a_twelve_digit_account():
    good = "arn:aws:iam::123456789012:role/path/Promoter_1"
    assert EnvironmentFile.model_validate({"account": "111111111111", "promoters": [good]}).promoters == [good]
    for bad in ("arn:aws:iam::12345678901:role/x", "arn:aws:iam::123456789012:role/\u00e9", good + "\n"):
        with pytest.raises(ValidationError):
            EnvironmentFile.model_validate({"account": "111111111111", "promoters": [bad]})
    with pytest.raises(ValidationError):
        Tooling.model_validate({"account": "444444444444", "role": "r\u00f4le"})


def test_source_key_and_branch_keep_their_length_limits():
    assert S3Source.model_validate({"type": "s3", "key": "k" * 1024}).key == "k" * 1024
    for key in ("k" * 1025, "has space", "glob*"):
        with pytest.raises(ValidationError):
            S3Source.model_validate({"type": "s3", "key": key})
    arn = "arn:aws:codeconnections:us-east-1:123456789012:connection/abc-1"
    base = {"type": "codeconnections", "connection_arn": arn, "repository": "o/r"}
    assert CodeConnectionsSource.model_validate({**base, "branch": "b" * 255}).branch == "b" * 255
    for branch in ("b" * 256, "a b", "a:b"):
        with pytest.raises(ValidationError):
            CodeConnectionsSource.model_validate({**base, "branch": branch})
