"""The emulator's region rule: Lambda loads code only from a bucket in the function's own region (as AWS)."""

from __future__ import annotations

import io
import time
import zipfile

import boto3
import pytest
from botocore.exceptions import ClientError

TRUST = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", '
         '"Principal": {"Service": "lambda.amazonaws.com"}}]}')


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("bootstrap", "#!/bin/sh\n")
    return buf.getvalue()


def _bucket(region: str) -> str:
    s3 = boto3.client("s3", region_name=region)
    name = f"code-{region}"
    extra = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=name, **extra)
    s3.put_object(Bucket=name, Key="fn.zip", Body=_zip())
    return name


def _role() -> str:
    iam = boto3.client("iam", region_name="us-east-1")
    try:
        return iam.get_role(RoleName="fn")["Role"]["Arn"]
    except ClientError:
        return iam.create_role(RoleName="fn", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]


def _create(region: str, bucket: str):
    return boto3.client("lambda", region_name=region).create_function(
        FunctionName="fn", Runtime="provided.al2023", Role=_role(), Handler="bootstrap",
        Code={"S3Bucket": bucket, "S3Key": "fn.zip"})


@pytest.mark.emulator
def test_create_function_from_a_bucket_in_another_region_fails_as_aws_does(aws):
    home = _bucket("us-east-1")
    with pytest.raises(ClientError) as err:
        _create("eu-west-1", home)
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "PermanentRedirect" in str(err.value) and "us-east-1" in str(err.value)
    assert _create("eu-west-1", _bucket("eu-west-1"))["FunctionName"] == "fn"  # its own region: fine


@pytest.mark.emulator
def test_update_function_code_from_a_bucket_in_another_region_fails(aws):
    home, local = _bucket("us-east-1"), _bucket("eu-west-1")
    _create("eu-west-1", local)
    lam = boto3.client("lambda", region_name="eu-west-1")
    deadline = time.monotonic() + 30  # a new function is Pending first; code updates wait for Active
    while lam.get_function_configuration(FunctionName="fn")["State"] != "Active":
        assert time.monotonic() < deadline, "function never became Active"
        time.sleep(0.05)
    with pytest.raises(ClientError) as err:
        lam.update_function_code(FunctionName="fn", S3Bucket=home, S3Key="fn.zip")
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "The bucket is in this region: us-east-1" in str(err.value)
    assert lam.update_function_code(FunctionName="fn", S3Bucket=local, S3Key="fn.zip")["FunctionName"] == "fn"
