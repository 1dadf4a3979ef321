"""The emulator's version rules (as AWS): a deleted version's number is never reused, and a version an
alias points at or routes a weight to cannot be deleted."""

from __future__ import annotations

import io
import zipfile

import boto3
import pytest
from botocore.exceptions import ClientError

TRUST = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", '
         '"Principal": {"Service": "lambda.amazonaws.com"}}]}')

pytestmark = pytest.mark.emulator


def _zip(text: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("bootstrap", f"#!/bin/sh\n# {text}\n")
    return buf.getvalue()


def _function(lam) -> None:
    role = boto3.client("iam", region_name="us-east-1").create_role(
        RoleName="fn", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    lam.create_function(FunctionName="fn", Runtime="provided.al2023", Role=role, Handler="bootstrap",
                        Code={"ZipFile": _zip("0")})
    lam.get_waiter("function_active_v2").wait(FunctionName="fn")


def _publish(lam, text: str) -> str:
    lam.get_waiter("function_updated_v2").wait(FunctionName="fn")
    version = lam.update_function_code(FunctionName="fn", ZipFile=_zip(text), Publish=True)["Version"]
    lam.get_waiter("function_updated_v2").wait(FunctionName="fn")
    return version


def _versions(lam) -> list[str]:
    return [v["Version"] for v in lam.list_versions_by_function(FunctionName="fn")["Versions"]]


def test_numbers_are_never_reused_and_referenced_versions_stay(aws):
    lam = boto3.client("lambda", region_name="us-east-1")
    _function(lam)
    assert [_publish(lam, str(n)) for n in range(1, 5)] == ["1", "2", "3", "4"]
    lam.create_alias(FunctionName="fn", Name="live", FunctionVersion="3",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}})
    for version in ("3", "2"):  # the alias's version, the version its weight routes to
        with pytest.raises(ClientError) as err:
            lam.delete_function(FunctionName="fn", Qualifier=version)
        assert err.value.response["Error"]["Code"] == "ResourceConflictException"
        assert "aliases reference it: ['live']" in err.value.response["Error"]["Message"]
    lam.delete_function(FunctionName="fn", Qualifier="1")
    lam.delete_function(FunctionName="fn", Qualifier="4")  # the newest: its number is not given out again
    assert _versions(lam) == ["$LATEST", "2", "3"]
    assert _publish(lam, "5") == "5"
    assert lam.get_alias(FunctionName="fn", Name="live")["FunctionVersion"] == "3"  # the alias survived
