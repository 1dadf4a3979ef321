"""Lambda's asynchronous states in the emulator: Pending -> Active, InProgress -> Successful, 409s, Failed."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from pipeline.local import timing

from .helpers import REGION, make_zip, wait_ready

pytestmark = pytest.mark.emulator
ACCOUNT = "123456789012"
CODE = make_zip({"index.py": "def handler(event, context):\n    return {'ok': True}\n"}, executable=())


def _create(lam, role, **extra) -> str:
    name = f"st-{uuid.uuid4().hex[:8]}"
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="index.handler",
                        Code={"ZipFile": CODE}, **extra)
    return name


def _conflict(call, **kwargs) -> str:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    assert err.value.response["Error"]["Code"] == "ResourceConflictException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    return err.value.response["Error"]["Message"]


def _fail(emulator, **request) -> dict:
    req = urllib.request.Request(f"{emulator.endpoint_url}/_emulator/lambda/fail", method="POST",
                                 data=json.dumps({"account": ACCOUNT, **request}).encode())
    with urllib.request.urlopen(req, timeout=10, context=emulator.ssl_context()) as resp:
        return json.loads(resp.read())


def test_a_new_function_is_pending_then_active(lam, role):
    with timing.using(lambda_create=0.5):
        name = _create(lam, role)
        started = time.monotonic()
        config = lam.get_function(FunctionName=name)["Configuration"]
        assert (config["State"], config["StateReason"], config["StateReasonCode"]) == (
            "Pending", "The function is being created.", "Creating")
        pending = ("The operation cannot be performed at this time. The function is currently in the following "
                   "state: Pending")
        assert _conflict(lam.invoke, FunctionName=name, Payload=b"{}") == pending
        assert _conflict(lam.update_function_configuration, FunctionName=name, MemorySize=256) == pending
        assert _conflict(lam.publish_version, FunctionName=name) == pending
        active = wait_ready(lam, name)
    assert time.monotonic() - started >= 0.3  # it really waited out the window
    assert active["State"] == "Active" and "StateReason" not in active
    assert json.loads(lam.invoke(FunctionName=name, Payload=b"{}")["Payload"].read()) == {"ok": True}


def test_an_update_is_in_progress_for_a_while_and_conflicts(lam, role):
    name = _create(lam, role)
    wait_ready(lam, name)
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    with timing.using(lambda_update_code=0.5, lambda_update_config=0.5):
        answer = lam.update_function_code(FunctionName=name, ZipFile=CODE, Publish=True)
        assert (answer["Version"], answer["State"], answer["LastUpdateStatus"]) == ("1", "Active", "InProgress")
        assert lam.get_function_configuration(FunctionName=name)["LastUpdateStatus"] == "InProgress"
        assert lam.get_function_configuration(FunctionName=name, Qualifier="1")["LastUpdateStatus"] == "InProgress"
        busy = f"The operation cannot be performed at this time. An update is in progress for resource: {arn}"
        assert _conflict(lam.update_function_code, FunctionName=name, ZipFile=CODE) == busy
        assert _conflict(lam.update_function_configuration, FunctionName=name, MemorySize=256) == busy
        assert _conflict(lam.publish_version, FunctionName=name) == busy
        # invokes still run during an update
        assert lam.invoke(FunctionName=name, Payload=b"{}")["StatusCode"] == 200
        wait_ready(lam, name)
        assert wait_ready(lam, name, "1")["LastUpdateStatus"] == "Successful"
        lam.update_function_configuration(FunctionName=name, MemorySize=256)  # allowed again, and starts a window
        assert _conflict(lam.publish_version, FunctionName=name) == busy
        wait_ready(lam, name)
    # the configuration change is published once; publishing again with nothing changed returns that version
    assert lam.publish_version(FunctionName=name)["Version"] == "2"
    assert lam.publish_version(FunctionName=name)["Version"] == "2"


def test_functions_created_by_cloudformation_are_pending_too(clients, role):
    template = {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {
        "FunctionName": "cfn-states", "Runtime": "python3.12", "Handler": "index.handler", "Role": role,
        "Code": {"ZipFile": "def handler(event, context):\n    return 1\n"}}}}}
    with timing.using(lambda_create=0.5):
        boto3.client("cloudformation", **clients["kw"]).create_stack(StackName="states-stack",
                                                                     TemplateBody=json.dumps(template))
        assert clients["lambda"].get_function_configuration(FunctionName="cfn-states")["State"] == "Pending"
        assert wait_ready(clients["lambda"], "cfn-states")["State"] == "Active"


def test_injected_failures_for_a_creation_and_an_update(lam, role, emulator):
    name = f"st-{uuid.uuid4().hex[:8]}"
    assert "armed" in _fail(emulator, function=name, what="create", reason="ENI limit reached",
                            code="EniLimitExceeded")["result"]
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="index.handler",
                        Code={"ZipFile": CODE})
    deadline = time.monotonic() + 10
    while (config := lam.get_function_configuration(FunctionName=name))["State"] == "Pending":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert (config["State"], config["StateReason"], config["StateReasonCode"]) == (
        "Failed", "ENI limit reached", "EniLimitExceeded")
    assert _conflict(lam.invoke, FunctionName=name, Payload=b"{}").endswith("following state: Failed")

    other = _create(lam, role)
    wait_ready(lam, other)
    assert "next update" in _fail(emulator, function=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{other}",
                                  what="update", reason="code storage limit exceeded")["result"]
    lam.update_function_code(FunctionName=other, ZipFile=CODE, Publish=True)
    deadline = time.monotonic() + 10
    while (config := lam.get_function_configuration(FunctionName=other))["LastUpdateStatus"] == "InProgress":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert (config["State"], config["LastUpdateStatus"], config["LastUpdateStatusReason"]) == (
        "Active", "Failed", "code storage limit exceeded")
    assert lam.get_function_configuration(FunctionName=other, Qualifier="1")["LastUpdateStatus"] == "Failed"
    # the next update starts clean
    lam.update_function_configuration(FunctionName=other, MemorySize=256)
    assert wait_ready(lam, other)["LastUpdateStatus"] == "Successful"


def test_the_control_endpoint_refuses_bad_requests(emulator):
    for body, status in (({"what": "update", "function": "no-such-fn"}, 404),
                         ({"what": "sideways", "function": "x"}, 400), ({}, 400)):
        req = urllib.request.Request(f"{emulator.endpoint_url}/_emulator/lambda/fail", method="POST",
                                     data=json.dumps({"account": ACCOUNT, **body}).encode())
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=10, context=emulator.ssl_context())
        assert err.value.code == status
