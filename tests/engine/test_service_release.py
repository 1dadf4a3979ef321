"""A multi-function service promoted as one release, on the emulator, through the real CLI.

The service's functions are made here the way bootstrap makes them (stub code, a `live` alias on the stub's
version, the deploy role allowed on them), so these tests need no front door: their smoke cases are
invoke-style (the http cases through the front door are in test_service_front_door.py).
"""

from __future__ import annotations

import base64
import json

import pytest
from config.service_example import FUNCTIONS, multi
from helpers import BUCKET, client

DEV = "111111111111"
WORKER_EVENT = {"detail-type": "Scheduled Event", "source": "aws.events", "time": "2024-01-01T00:00:00Z",
                "detail": {}}


def dev_yml(worker_status: int | None = None) -> str:
    expect = f"\n    expect: {{statusCode: {worker_status}}}" if worker_status else ""
    return f"""\
account: "{DEV}"
smoke:
  - name: health
    function: api
    path: /health
    expect: {{statusCode: 200}}
  - name: tick
    function: worker
    event: {json.dumps(WORKER_EVENT)}{expect}
"""


def b64(sha_hex: str) -> str:
    return base64.b64encode(bytes.fromhex(sha_hex)).decode()


def make_service(envdir, dev: str) -> None:
    """What the service's bootstrap leaves: each function on the stub, `live` on the stub's version."""
    from pipeline.infra.stub import STUB_HANDLER, STUB_RUNTIME, stub_sha256

    lam, iam = client("lambda", DEV), client("iam", DEV)
    role = lam.get_function_configuration(FunctionName="greeter-dev")["Role"]
    for key in ("api", "worker"):
        name = f"greeter-dev-{key}"
        version = lam.create_function(FunctionName=name, Runtime=STUB_RUNTIME, Handler=STUB_HANDLER, Role=role,
                                      Code={"S3Bucket": BUCKET, "S3Key": f"artifacts/greeter/{stub_sha256()}.zip"},
                                      Publish=True)["Version"]
        lam.get_waiter("function_active_v2").wait(FunctionName=name)
        lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    deploy_role = next(r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].endswith("deploy"))
    iam.put_role_policy(RoleName=deploy_role, PolicyName="service-functions", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:*", "Resource": [
            f"arn:aws:lambda:us-east-1:{DEV}:function:greeter-dev-*"]}]}))
    multi(envdir, FUNCTIONS, dev)


def live(key: str) -> dict:
    return client("lambda", DEV).get_function_configuration(FunctionName=f"greeter-dev-{key}", Qualifier="live")


@pytest.fixture
def service(world):
    make_service(world.envdir, dev_yml())
    return world


@pytest.mark.bootstrapped("dev")
def test_service_promotes_every_function_as_one_release(service, built):
    digest = service.stage(built)
    code, doc = service.json("promote", "--to", "dev")
    assert code == 0, doc
    for key in ("api", "worker"):  # invariant 1, per function
        assert live(key)["CodeSha256"] == b64(digest) and live(key)["Handler"] == key
    started, outcome = service.ledger("dev")
    assert started["functions"] == ["api", "worker"]
    assert set(started["previous"][f"{DEV}/us-east-1"]["functions"]) == {"api", "worker"}
    assert outcome["outcome"] == "PASSED" and outcome["version"] is None
    assert {k: v["sha256"] for k, v in outcome["functions"].items()} == {"api": digest, "worker": digest}
    assert {k: v["version"] for k, v in outcome["functions"].items()} == {k: live(k)["Version"]
                                                                          for k in ("api", "worker")}
    # the invoke-style cases ran on the new versions, each on its function
    assert [(s["name"], s["qualifier"]) for s in outcome["smoke"]] == [
        ("health", f"api:{live('api')['Version']}"), ("tick", f"worker:{live('worker')['Version']}")]
    kinds = [s["kind"] for s in doc["targets"][0]["steps"]]
    assert kinds.index("alias") > max(i for i, k in enumerate(kinds) if k in ("deploy-code", "verify-code", "smoke"))
    # a no-op: nothing to do
    code, doc = service.json("promote", "--to", "dev")
    assert code == 0 and doc["noop"] is True


@pytest.mark.bootstrapped("dev")
def test_a_failing_smoke_case_on_one_function_puts_both_back(service, built, built2):
    first = service.stage(built)
    assert service.cli("promote", "--to", "dev")[0] == 0
    before = {k: live(k)["Version"] for k in ("api", "worker")}
    service.edit("dev.yml", dev_yml(worker_status=418))  # the worker's answer has no statusCode 418
    service.stage(built2)
    code, _, err = service.cli("promote", "--to", "dev", "--artifact", built2[1].sha256)
    assert code == 1 and "tick" in err
    assert {k: live(k)["Version"] for k in ("api", "worker")} == before
    assert all(live(k)["CodeSha256"] == b64(first) for k in ("api", "worker"))
    outcome = service.ledger("dev")[-1]
    assert outcome["outcome"] == "ROLLED_BACK"
    assert {k: v["version"] for k, v in outcome["functions"].items()} == before


@pytest.mark.bootstrapped("dev")
def test_dry_run_prints_every_functions_steps_and_writes_nothing(service, built):
    service.stage(built)
    code, doc = service.json("promote", "--to", "dev", "--dry-run")
    assert code == 0 and doc["dry_run"] is True
    targets = {step["target"] for step in doc["plan"] if step["kind"] == "deploy-code"}
    assert targets == {f"{DEV}/us-east-1 api", f"{DEV}/us-east-1 worker"}
    assert service.ledger("dev") == [] and live("api")["Runtime"] == "python3.12"


@pytest.mark.bootstrapped("dev")
def test_status_verify_history_invoke_and_rollback_per_function(service, built, built2):
    first = service.stage(built)
    assert service.cli("promote", "--to", "dev")[0] == 0
    release1 = {k: live(k)["Version"] for k in ("api", "worker")}
    second = service.stage(built2)
    assert service.cli("promote", "--to", "dev", "--artifact", second)[0] == 0
    # status: one row per env x function (and the env's HTTP API endpoint, here not deployed)
    code, doc = service.json("status", "--env", "dev")
    assert code == 0, doc
    rows = {(r["env"], r.get("function")): r for r in doc["environments"]}
    assert set(rows) == {("dev", "api"), ("dev", "worker")}
    assert all(r["artifact"] == second and not r["drift"] for r in rows.values())
    assert [e["env"] for e in doc["endpoints"]] == ["dev"]
    text = service.ok("status", "--env", "dev")
    assert f"{DEV}/us-east-1 api" in text and f"{DEV}/us-east-1 worker" in text
    # verify checks every function's live code against the ledger
    assert service.cli("verify", "--env", "dev")[0] == 0
    # history names every function's version of a release
    assert f"api v{live('api')['Version']}, worker v{live('worker')['Version']}" in service.ok(
        "history", "--env", "dev")
    # invoke --function
    code, doc = service.json("invoke", "--env", "dev", "--function", "api", "--path", "/health")
    assert code == 0 and doc["status"] == 200, doc
    assert service.cli("invoke", "--env", "dev")[0] == 2  # a service's invoke names its function
    # rollback: every function back to the last good release
    code, doc = service.json("rollback", "--env", "dev")
    assert code == 0, doc
    assert {k: live(k)["Version"] for k in ("api", "worker")} == release1
    assert all(live(k)["CodeSha256"] == b64(first) for k in ("api", "worker"))
    outcome = service.ledger("dev")[-1]
    assert outcome["action"] == "rollback" and outcome["outcome"] == "PASSED"
    assert {k: v["version"] for k, v in outcome["functions"].items()} == release1
    assert service.cli("verify", "--env", "dev")[0] == 0
    # drift on one function is found by verify
    lam = client("lambda", DEV)
    lam.update_alias(FunctionName="greeter-dev-worker", Name="live",
                     FunctionVersion=lam.list_versions_by_function(FunctionName="greeter-dev-worker")[
                         "Versions"][-1]["Version"])
    code, _, err = service.cli("verify", "--env", "dev")
    assert code == 1 and "worker" in err


@pytest.mark.bootstrapped("dev")
def test_two_function_code_only_promotion_calls(service, built, built2, calls):
    """The calls of a 2-function code-only promotion (botocore before-call hooks on every session)."""
    service.stage(built)
    assert service.cli("promote", "--to", "dev")[0] == 0
    second = service.stage(built2)
    calls.clear()
    code, _, err = service.cli("promote", "--to", "dev", "--artifact", second)
    assert code == 0, err
    lam = [op for svc, op in calls.calls if svc == "lambda"]
    print(f"2-function code-only promotion: {len(calls.calls)} calls, {len(calls.writes)} writes: {calls.calls}")
    # per function: the live alias read, UpdateFunctionCode (+ its publish), UpdateAlias; one Invoke per case
    assert lam.count("UpdateFunctionCode") == 2 and lam.count("UpdateAlias") == 2 and lam.count("Invoke") == 2
    assert lam.count("GetFunctionConfiguration") >= 2
    # the one-function budget (12 + one per case) + the second function's live read, UpdateFunctionCode, two
    # polls of its update and UpdateAlias: 19 (measured: 2 AssumeRole, ledger LIST + GET, 2 live reads, HEAD,
    # PUT started, 2 UpdateFunctionCode, 4 GetFunctionConfiguration polls, 2 Invoke, 2 UpdateAlias, PUT outcome)
    assert len(calls.calls) <= 12 + 2 + 5, calls.calls
    assert len([c for c in calls.writes if c[1] != "Invoke"]) == 6  # 2 code updates, 2 alias moves, 2 records
    calls.clear()
    code, out, _ = service.cli("promote", "--to", "dev", "--artifact", second)
    assert code == 0 and "nothing to do" in out
    assert calls.writes == [] and len(calls.calls) <= 6, calls.calls  # the no-op: 5 + the second live read
