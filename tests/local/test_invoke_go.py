"""lambda.invoke through the emulator runs the real code: a Go bootstrap speaking the Runtime API."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from .helpers import LAMBDA_TRUST, REGION, make_zip, pid_alive, wait_ready

pytestmark = pytest.mark.emulator


def _create(lam, role, code: bytes, name: str | None = None, **extra) -> str:
    name = name or f"fn-{uuid.uuid4().hex[:8]}"
    lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=role, Handler="bootstrap",
                        Code={"ZipFile": code}, **extra)
    wait_ready(lam, name)
    return name


def _go_zip(go_bootstrap: bytes, label: str) -> bytes:
    return make_zip({"bootstrap": go_bootstrap, "label.txt": label})


def _invoke(lam, name: str, event: dict | None = None, **kw) -> tuple[dict, dict]:
    resp = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode(), **kw)
    return resp, json.loads(resp["Payload"].read())


@pytest.fixture(scope="module")
def echo_fn(lam, role, go_bootstrap) -> str:
    return _create(lam, role, _go_zip(go_bootstrap, "echo"),
                   Environment={"Variables": {"ENVIRONMENT": "dev"}}, MemorySize=256, Timeout=7)


def test_latest_runs_the_real_bootstrap_with_lambda_environment(lam, echo_fn, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAHOSTKEYMUSTNOTLEAK")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "host-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "host-token")
    monkeypatch.setenv("AWS_PROFILE", "host-profile")
    started = time.time() * 1000
    resp, body = _invoke(lam, echo_fn, {"hello": "world"})
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp
    assert resp["ExecutedVersion"] == "$LATEST"
    assert body["event"] == {"hello": "world"}
    assert body["label"] == "echo"
    env = body["env"]
    assert env["ENVIRONMENT"] == "dev"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == echo_fn
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == REGION
    assert env["_HANDLER"] == "bootstrap"
    assert env["TZ"] == ":UTC"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{echo_fn}"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", env["AWS_LAMBDA_LOG_STREAM_NAME"])
    assert env["LAMBDA_TASK_ROOT"].endswith("/task")
    assert re.fullmatch(r"127\.0\.0\.1:\d+", env["AWS_LAMBDA_RUNTIME_API"])
    assert "AWS_PROFILE" not in env
    # the execution role's session (execrole.py), never the host's keys nor the emulator's admin key
    assert env["AWS_ACCESS_KEY_ID"] not in ("AKIAHOSTKEYMUSTNOTLEAK", "testing") and env["AWS_SESSION_TOKEN"]
    assert "AKIAHOSTKEYMUSTNOTLEAK" not in json.dumps(env) and "host-token" not in json.dumps(env)
    assert env["AWS_ENDPOINT_URL"].startswith(("https://127.0.0.1:", "http://127.0.0.1:"))
    # Runtime API headers on /next
    assert body["arn"] == f"arn:aws:lambda:{REGION}:123456789012:function:{echo_fn}"
    assert started + 6000 < int(body["deadline"]) < time.time() * 1000 + 7000 + 1000
    assert body["trace"].startswith("Root=1-")


def test_warm_process_is_reused(lam, echo_fn):
    _, body1 = _invoke(lam, echo_fn, LogType="Tail")
    second, body2 = _invoke(lam, echo_fn, LogType="Tail")
    assert body1["pid"] == body2["pid"]
    assert pid_alive(body1["pid"])
    assert "Init Duration" not in base64.b64decode(second["LogResult"]).decode()


def test_configuration_change_restarts_latest(lam, role, go_bootstrap):
    name = _create(lam, role, _go_zip(go_bootstrap, "cfg"), Environment={"Variables": {"ENVIRONMENT": "a"}})
    _, before = _invoke(lam, name)
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"ENVIRONMENT": "b"}})
    wait_ready(lam, name)
    _, after = _invoke(lam, name)
    assert (before["env"]["ENVIRONMENT"], after["env"]["ENVIRONMENT"]) == ("a", "b")
    assert after["pid"] != before["pid"] and not pid_alive(before["pid"])


def test_log_tail_has_output_and_lambda_report_lines(lam, role, go_bootstrap):
    name = _create(lam, role, _go_zip(go_bootstrap, "logs"))
    resp, _ = _invoke(lam, name, {"action": "echo"}, LogType="Tail")
    log = base64.b64decode(resp["LogResult"]).decode()
    request_id = resp["ResponseMetadata"]["RequestId"]
    assert f"START RequestId: {request_id} Version: $LATEST" in log
    assert 'go handler got action="echo"' in log
    assert "a line on stderr" in log
    assert f"END RequestId: {request_id}" in log
    report = re.search(r"REPORT RequestId: (\S+)\tDuration: ([\d.]+) ms\tBilled Duration: \d+ ms\t"
                       r"Memory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: ([\d.]+) ms", log)
    assert report and report[1] == request_id
    assert log.index("START") < log.index("go handler") < log.index("END") < log.index("REPORT")
    without = lam.invoke(FunctionName=name, Payload=b"{}")
    assert "LogResult" not in without


def test_captured_output_file_is_cut_back_on_long_lived_processes(lam, role, go_bootstrap, monkeypatch):
    from pipeline.local import execenv
    from pipeline.local.pool import POOL

    monkeypatch.setattr(execenv, "MAX_LOG_FILE_BYTES", 8000)
    name = _create(lam, role, _go_zip(go_bootstrap, "trunc"))
    _invoke(lam, name)
    (box,) = [s for s in POOL.sandboxes() if s.code.name == name]
    for _ in range(3):  # each prints ~17 KB
        resp, _ = _invoke(lam, name, {"action": "spam"}, LogType="Tail")
        assert b"spam line 199" in base64.b64decode(resp["LogResult"])
        assert box._log_path.stat().st_size < 8000
    resp, _ = _invoke(lam, name, {"action": "echo"}, LogType="Tail")
    log = base64.b64decode(resp["LogResult"])
    assert b'go handler got action="echo"' in log and b"spam line" not in log


def test_log_tail_is_the_last_4kb(lam, echo_fn):
    resp, _ = _invoke(lam, echo_fn, {"action": "spam"}, LogType="Tail")
    log = base64.b64decode(resp["LogResult"])
    assert len(log) == 4096
    assert b"spam line 199" in log and b"spam line 000" not in log
    assert log.rstrip().split(b"\n")[-1].startswith(b"REPORT RequestId:")


def test_published_versions_keep_their_code(lam, role, go_bootstrap):
    name = _create(lam, role, _go_zip(go_bootstrap, "one"))
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    lam.update_function_code(FunctionName=name, ZipFile=_go_zip(go_bootstrap, "two"))
    wait_ready(lam, name)
    assert lam.publish_version(FunctionName=name)["Version"] == "2"
    v1, b1 = _invoke(lam, name, Qualifier="1")
    v2, b2 = _invoke(lam, name, Qualifier="2")
    latest, bl = _invoke(lam, name)
    assert (b1["label"], v1["ExecutedVersion"], b1["env"]["AWS_LAMBDA_FUNCTION_VERSION"]) == ("one", "1", "1")
    assert (b2["label"], v2["ExecutedVersion"]) == ("two", "2")
    assert (bl["label"], latest["ExecutedVersion"]) == ("two", "$LATEST")
    assert b1["arn"].endswith(f":function:{name}:1")
    # $LATEST changes again: its warm process is replaced, version 1's is untouched
    lam.update_function_code(FunctionName=name, ZipFile=_go_zip(go_bootstrap, "three"))
    wait_ready(lam, name)
    _, bl2 = _invoke(lam, name, Qualifier="$LATEST")
    _, b1again = _invoke(lam, name, Qualifier="1")
    assert bl2["label"] == "three"
    assert not pid_alive(bl["pid"])
    assert b1again["label"] == "one" and b1again["pid"] == b1["pid"]


def test_qualifier_in_name_and_arn_forms(lam, role, go_bootstrap):
    name = _create(lam, role, _go_zip(go_bootstrap, "forms"))
    lam.publish_version(FunctionName=name)
    arn = f"arn:aws:lambda:{REGION}:123456789012:function:{name}"
    forms = ((f"{name}:1", None), (f"{arn}:1", None), (arn, "1"), (f"123456789012:function:{name}:1", None))
    for ref, qualifier in forms:
        kw = {"Qualifier": qualifier} if qualifier else {}
        resp, body = _invoke(lam, ref, **kw)
        assert resp["ExecutedVersion"] == "1", ref
        assert body["arn"] == f"{arn}:1"
    with pytest.raises(ClientError) as err:
        lam.invoke(FunctionName=f"{name}:1", Qualifier="$LATEST")
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_alias_resolves_to_its_version(lam, role, go_bootstrap):
    name = _create(lam, role, _go_zip(go_bootstrap, "a1"))
    lam.publish_version(FunctionName=name)
    lam.update_function_code(FunctionName=name, ZipFile=_go_zip(go_bootstrap, "a2"))
    wait_ready(lam, name)
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    resp, body = _invoke(lam, name, Qualifier="live")
    assert (resp["ExecutedVersion"], body["label"]) == ("1", "a1")
    assert body["arn"].endswith(f":function:{name}:live")
    lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2")
    resp, body = _invoke(lam, f"{name}:live")
    assert (resp["ExecutedVersion"], body["label"]) == ("2", "a2")


def test_alias_routing_weights_split_traffic(lam, role, go_bootstrap):
    name = _create(lam, role, _go_zip(go_bootstrap, "w1"))
    lam.publish_version(FunctionName=name)
    lam.update_function_code(FunctionName=name, ZipFile=_go_zip(go_bootstrap, "w2"))
    wait_ready(lam, name)
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="canary", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    seen = {"1": 0, "2": 0}
    for _ in range(100):
        resp, body = _invoke(lam, name, Qualifier="canary")
        seen[resp["ExecutedVersion"]] += 1
        assert body["label"] == {"1": "w1", "2": "w2"}[resp["ExecutedVersion"]]
    # Binomial(100, 0.5): outside 25..75 has probability ~1e-6
    assert 25 <= seen["2"] <= 75, seen
    lam.update_alias(FunctionName=name, Name="canary", RoutingConfig={"AdditionalVersionWeights": {}})
    assert {_invoke(lam, name, Qualifier="canary")[0]["ExecutedVersion"] for _ in range(10)} == {"1"}


@pytest.mark.parametrize("qualifier", ["7", "ghost"])
def test_unknown_qualifier_is_resource_not_found(lam, echo_fn, qualifier):
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as err:
        lam.invoke(FunctionName=echo_fn, Qualifier=qualifier, Payload=b"{}")
    response = err.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert response["Error"]["Message"] == (
        f"Function not found: arn:aws:lambda:{REGION}:123456789012:function:{echo_fn}:{qualifier}")


def test_unknown_function_is_resource_not_found(lam):
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as err:
        lam.invoke(FunctionName="no-such-function", Payload=b"{}")
    assert err.value.response["Error"]["Message"] == (
        f"Function not found: arn:aws:lambda:{REGION}:123456789012:function:no-such-function")


def test_payload_that_is_not_json_is_rejected(lam, echo_fn):
    with pytest.raises(ClientError) as err:
        lam.invoke(FunctionName=echo_fn, Payload=b"{nope")
    assert err.value.response["Error"]["Code"] == "InvalidRequestContentException"


def test_crash_is_unhandled_exit_error_and_next_invoke_cold_starts(lam, role, go_bootstrap):
    name = _create(lam, role, _go_zip(go_bootstrap, "crash"))
    _, before = _invoke(lam, name)
    resp, body = _invoke(lam, name, {"action": "crash"}, LogType="Tail")
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"].endswith("Runtime exited with error: exit status 2")
    log = base64.b64decode(resp["LogResult"]).decode()
    assert "panic: kaboom" in log
    assert not pid_alive(before["pid"])
    _, after = _invoke(lam, name)
    assert after["pid"] != before["pid"]


def test_process_that_exits_after_answering_is_replaced_transparently(lam, role, go_bootstrap):
    name = _create(lam, role, _go_zip(go_bootstrap, "oneshot"))
    pids = set()
    for _ in range(3):
        resp, body = _invoke(lam, name, {"action": "oneshot"})
        assert "FunctionError" not in resp, body
        pids.add(body["pid"])
        time.sleep(0.05)  # let it exit while idle, then once without waiting
        resp, body = _invoke(lam, name)
        assert "FunctionError" not in resp, body
        pids.add(body["pid"])
    assert len(pids) >= 3


def test_hang_times_out_and_kills_the_process(lam, role, go_bootstrap):
    name = _create(lam, role, _go_zip(go_bootstrap, "hang"), Timeout=1)
    _, warm = _invoke(lam, name)
    started = time.monotonic()
    resp, body = _invoke(lam, name, {"action": "hang"}, LogType="Tail")
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 3.0
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    assert body["errorMessage"].endswith("Task timed out after 1.00 seconds")
    log = base64.b64decode(resp["LogResult"]).decode()
    assert "Task timed out after 1.00 seconds" in log and "Duration: 1000.00 ms" in log
    assert not pid_alive(warm["pid"])
    resp, body = _invoke(lam, name)
    assert "FunctionError" not in resp and body["pid"] != warm["pid"]


def test_runtime_error_is_unhandled_with_posted_payload(lam, echo_fn):
    resp, body = _invoke(lam, echo_fn, {"action": "error"})
    assert resp["FunctionError"] == "Unhandled"
    assert body == {"errorMessage": "it broke", "errorType": "BrokenError"}
    # the process survives a handled error report and keeps serving
    resp, _ = _invoke(lam, echo_fn)
    assert "FunctionError" not in resp


def test_response_body_passes_through_as_bytes(lam, echo_fn):
    resp = lam.invoke(FunctionName=echo_fn, Payload=b'{"action": "raw"}')
    assert resp["Payload"].read() == b"not json <at> all"
    assert "FunctionError" not in resp


def test_chunked_response_and_error_trailers(lam, echo_fn):
    resp, body = _invoke(lam, echo_fn, {"action": "chunked"})
    assert body == {"chunked": True} and "FunctionError" not in resp
    resp, body = _invoke(lam, echo_fn, {"action": "trailer-error"})
    assert resp["FunctionError"] == "Unhandled"
    assert body == {"errorMessage": "mid-stream", "errorType": "StreamError"}


def test_oversized_response_is_an_error(lam, echo_fn):
    resp, body = _invoke(lam, echo_fn, {"action": "big"})
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Function.ResponseSizeTooLarge"


def test_init_error_is_unhandled(lam, role, go_bootstrap):
    name = _create(lam, role, _go_zip(go_bootstrap, "init"), Environment={"Variables": {"INIT_FAIL": "1"}})
    resp, body = _invoke(lam, name, LogType="Tail")
    assert resp["FunctionError"] == "Unhandled"
    assert body == {"errorMessage": "cannot start", "errorType": "InitBroken"}
    assert "init is failing on purpose" in base64.b64decode(resp["LogResult"]).decode()


def test_invocations_to_one_process_are_serialized(lam, role, go_bootstrap):
    name = _create(lam, role, _go_zip(go_bootstrap, "serial"))
    _invoke(lam, name)
    results: list[dict] = []

    def call() -> None:
        results.append(_invoke(lam, name, {"action": "sleep", "ms": 200})[1])

    started = time.monotonic()
    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - started >= 0.8
    assert len({r["pid"] for r in results}) == 1 and len(results) == 4


def test_event_runs_in_background_and_dry_run_runs_nothing(lam, echo_fn, tmp_path):
    marker = tmp_path / "ran.txt"
    touch = json.dumps({"action": "touch", "path": str(marker)})
    dry = lam.invoke(FunctionName=echo_fn, InvocationType="DryRun", Payload=touch)
    assert dry["StatusCode"] == 204
    assert not marker.exists()
    event = lam.invoke(FunctionName=echo_fn, InvocationType="Event", Payload=touch)
    assert event["StatusCode"] == 202
    deadline = time.monotonic() + 5
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.read_text() == "echo"
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="missing", InvocationType="Event", Payload=b"{}")


def test_function_in_another_account_via_assumed_role(clients, emulator, go_bootstrap):
    creds = clients["sts"].assume_role(RoleArn="arn:aws:iam::222222222222:role/OrganizationAccountAccessRole",
                                       RoleSessionName="test-invoke")["Credentials"]
    session = boto3.Session(aws_access_key_id=creds["AccessKeyId"],
                            aws_secret_access_key=creds["SecretAccessKey"],
                            aws_session_token=creds["SessionToken"], region_name=REGION)
    iam = session.client("iam", endpoint_url=emulator.endpoint_url, verify=emulator.ca_bundle)
    other = session.client("lambda", endpoint_url=emulator.endpoint_url, verify=emulator.ca_bundle)
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]
    other.create_function(FunctionName="acct-fn", Runtime="provided.al2023", Role=role, Handler="bootstrap",
                          Code={"ZipFile": _go_zip(go_bootstrap, "acct")},
                          Environment={"Variables": {"ENVIRONMENT": "test"}})
    wait_ready(other, "acct-fn")
    _, body = _invoke(other, "acct-fn")
    assert body["env"]["ENVIRONMENT"] == "test"
    assert body["arn"] == f"arn:aws:lambda:{REGION}:222222222222:function:acct-fn"
    with pytest.raises(clients["lambda"].exceptions.ResourceNotFoundException):
        clients["lambda"].invoke(FunctionName="acct-fn", Payload=b"{}")
    # A full ARN names the account: another account needs the function's resource policy to allow it.
    arn = f"arn:aws:lambda:{REGION}:222222222222:function:acct-fn"
    with pytest.raises(ClientError, match="no resource-based policy allows the lambda:InvokeFunction action"):
        clients["lambda"].invoke(FunctionName=arn, Payload=b"{}")
    other.add_permission(FunctionName="acct-fn", StatementId="caller", Action="lambda:InvokeFunction",
                         Principal="123456789012")
    _, body = _invoke(clients["lambda"], arn)
    assert body["env"]["ENVIRONMENT"] == "test"
