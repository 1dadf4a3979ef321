"""python3.* functions (the bootstrap phase's inline stub) run through the shipped minimal runtime loop."""

from __future__ import annotations

import base64
import json
import uuid

import boto3
import pytest

from .helpers import REGION, make_zip, wait_ready

pytestmark = pytest.mark.emulator

HANDLER = '''
import json, os

STARTED = os.getpid()

def handler(event, context):
    print("python handler saw", json.dumps(event))
    if event.get("fail"):
        raise ValueError("bad input: " + event["fail"])
    return {
        "event": event,
        "pid": STARTED,
        "request_id": context.aws_request_id,
        "function_name": context.function_name,
        "version": context.function_version,
        "memory": context.memory_limit_in_mb,
        "arn": context.invoked_function_arn,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "environment": os.environ.get("ENVIRONMENT"),
        "host_key": os.environ.get("AWS_ACCESS_KEY_ID"),
        "client_context": context.client_context,
    }
'''


def _create(lam, role, files: dict[str, str], handler: str = "index.handler", **extra) -> str:
    name = f"py-{uuid.uuid4().hex[:8]}"
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler=handler,
                        Code={"ZipFile": make_zip(files, executable=())}, **extra)
    wait_ready(lam, name)
    return name


@pytest.fixture(scope="module")
def stub(lam, role) -> str:
    return _create(lam, role, {"index.py": HANDLER}, Environment={"Variables": {"ENVIRONMENT": "dev"}},
                   Timeout=5, MemorySize=192)


def test_python_handler_gets_event_and_context(lam, stub, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAHOSTKEYMUSTNOTLEAK")
    resp = lam.invoke(FunctionName=stub, Payload=b'{"path": "/health"}', LogType="Tail")
    body = json.loads(resp["Payload"].read())
    assert "FunctionError" not in resp and resp["ExecutedVersion"] == "$LATEST"
    assert body["event"] == {"path": "/health"}
    assert body["request_id"] == resp["ResponseMetadata"]["RequestId"]
    assert (body["function_name"], body["version"], body["memory"]) == (stub, "$LATEST", "192")
    assert body["arn"] == f"arn:aws:lambda:{REGION}:123456789012:function:{stub}"
    assert 3000 < body["remaining_ms"] <= 5000
    assert body["environment"] == "dev" and body["host_key"].startswith("ASIA")  # the role's session, not the host's
    log = base64.b64decode(resp["LogResult"]).decode()
    assert 'python handler saw {"path": "/health"}' in log and "REPORT RequestId" in log


def test_client_context_reaches_the_handler_decoded(lam, stub):
    context = base64.b64encode(json.dumps({"custom": {"who": "test"}}).encode()).decode()
    resp = lam.invoke(FunctionName=stub, Payload=b"{}", ClientContext=context)
    assert json.loads(resp["Payload"].read())["client_context"] == {"custom": {"who": "test"}}
    with pytest.raises(lam.exceptions.InvalidRequestContentException):
        lam.invoke(FunctionName=stub, Payload=b"{}", ClientContext="not base64 json!")


def test_python_process_stays_warm(lam, stub):
    bodies = [json.loads(lam.invoke(FunctionName=stub, Payload=b"{}")["Payload"].read()) for _ in range(3)]
    pids = {body["pid"] for body in bodies}
    assert len(pids) == 1


def test_python_exception_is_unhandled_with_error_document(lam, stub):
    resp = lam.invoke(FunctionName=stub, Payload=b'{"fail": "no name"}')
    body = json.loads(resp["Payload"].read())
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "bad input: no name"
    assert any("index.py" in frame for frame in body["stackTrace"])


def test_python_import_error_is_an_init_error(lam, role):
    name = _create(lam, role, {"index.py": "import not_a_module_anywhere\n"})
    resp = lam.invoke(FunctionName=name, Payload=b"{}")
    body = json.loads(resp["Payload"].read())
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert "not_a_module_anywhere" in body["errorMessage"]


def test_python_handler_in_a_package(lam, role):
    files = {"app/__init__.py": "",
             "app/main.py": "def run(event, context):\n    return {'ok': event['n'] + 1}\n"}
    name = _create(lam, role, files, handler="app.main.run")
    resp = lam.invoke(FunctionName=name, Payload=b'{"n": 41}')
    assert json.loads(resp["Payload"].read()) == {"ok": 42}


STUB = "def handler(event, context):\n    return {'statusCode': 200, 'stub': True}\n"


def test_cloudformation_inline_python_stub_runs(clients, role):
    # The bootstrap phase deploys a stub with inline ZipFile code; moto zips it as index.py.
    template = {
        "Resources": {"Stub": {"Type": "AWS::Lambda::Function", "Properties": {
            "FunctionName": "cfn-stub", "Runtime": "python3.12", "Handler": "index.handler", "Role": role,
            "Code": {"ZipFile": STUB},
        }}},
    }
    cfn = boto3.client("cloudformation", **clients["kw"])
    cfn.create_stack(StackName="stub-stack", TemplateBody=json.dumps(template))
    # moto's stack is complete at once; the function it made is still Pending (as on AWS until CloudFormation
    # reports CREATE_COMPLETE): wait as a client would
    wait_ready(clients["lambda"], "cfn-stub")
    resp = clients["lambda"].invoke(FunctionName="cfn-stub", Payload=b"{}")
    assert json.loads(resp["Payload"].read()) == {"statusCode": 200, "stub": True}
    assert "FunctionError" not in resp
