"""The example service (tests/config/service_example.py) bootstrapped by `pipeline bootstrap --env dev` and
promoted through the real CLI on the emulator, with http smoke cases sent through its front door (the HTTP
API on every function's `live` alias): one release, both functions back on any failure, status, rollback,
verify."""

from __future__ import annotations

import base64
import json

import pytest
from config.service_example import FUNCTIONS, multi
from conftest import World
from helpers import client

pytestmark = pytest.mark.emulator
DEV = "111111111111"
WORKER_EVENT = {"detail-type": "Scheduled Event", "source": "aws.events", "time": "2024-01-01T00:00:00Z",
                "detail": {}}


def dev_yml(hello_status: int = 200) -> str:
    return f"""\
account: "{DEV}"
functions:
  api: {{memory: 512}}
smoke:
  - name: health
    http: {{method: GET, path: /health}}
    expect: {{statusCode: 200}}
  - name: hello
    http: {{method: GET, path: "/hello/bob?x=1", headers: {{accept: application/json}}}}
    expect: {{statusCode: {hello_status}}}
  - name: tick
    function: worker
    event: {json.dumps(WORKER_EVENT)}
"""


def b64(sha_hex: str) -> str:
    return base64.b64encode(bytes.fromhex(sha_hex)).decode()


def live(key: str) -> dict:
    return client("lambda", DEV).get_function_configuration(FunctionName=f"greeter-dev-{key}", Qualifier="live")


def versions() -> dict[str, str]:
    return {k: live(k)["Version"] for k in ("api", "worker")}


@pytest.fixture
def service(aws, envdir, capsys) -> World:
    multi(envdir, FUNCTIONS, dev_yml())
    w = World(envdir, capsys)
    w.ok("bootstrap", "--tooling")
    w.ok("bootstrap", "--env", "dev")
    return w


def test_promote_sends_http_cases_through_the_front_door_then_status_and_verify(service, built):
    digest = service.stage(built)
    code, doc = service.json("promote", "--to", "dev")
    assert code == 0, doc
    assert all(live(k)["CodeSha256"] == b64(digest) and live(k)["Handler"] == k for k in ("api", "worker"))
    outcome = service.ledger("dev")[-1]
    assert outcome["outcome"] == "PASSED"
    assert {k: v["sha256"] for k, v in outcome["functions"].items()} == {"api": digest, "worker": digest}
    smoke = {s["name"]: s for s in outcome["smoke"]}
    assert smoke["health"]["qualifier"] == "http" and smoke["health"]["passed"] and smoke["health"]["status"] == 200
    assert smoke["hello"]["passed"] and smoke["tick"]["qualifier"] == f"worker:{live('worker')['Version']}"
    code, doc = service.json("status", "--env", "dev")
    assert code == 0
    assert {r.get("function") for r in doc["environments"]} == {"api", "worker"}
    assert all(r["artifact"] == digest and not r["drift"] for r in doc["environments"])
    [endpoint] = doc["endpoints"]
    assert endpoint["endpoint"].startswith("https://") and endpoint["problem"] is None
    assert f"endpoint: dev {DEV}/us-east-1: {endpoint['endpoint']}" in service.ok("status", "--env", "dev")
    assert service.cli("verify", "--env", "dev")[0] == 0


def test_a_failing_http_case_on_the_api_puts_both_functions_back_on_the_stub(service, built):
    service.edit("dev.yml", dev_yml(hello_status=201))
    service.stage(built)
    stub = versions()
    code, _, err = service.cli("promote", "--to", "dev")
    assert code == 1 and "hello" in err
    assert versions() == stub and all(live(k)["Runtime"] == "python3.12" for k in ("api", "worker"))
    outcome = service.ledger("dev")[-1]
    assert outcome["outcome"] == "ROLLED_BACK" and {k: v["version"] for k, v in outcome["functions"].items()} == stub


def test_rollback_restores_both_functions(service, built, built2):
    first = service.stage(built)
    service.ok("promote", "--to", "dev")
    release1 = versions()
    second = service.stage(built2)
    service.ok("promote", "--to", "dev", "--artifact", second)
    assert versions() != release1
    code, doc = service.json("rollback", "--env", "dev")
    assert code == 0, doc
    assert versions() == release1 and all(live(k)["CodeSha256"] == b64(first) for k in ("api", "worker"))
    assert {s["name"] for s in service.ledger("dev")[-1]["smoke"]} == {"health", "hello", "tick"}
    assert service.cli("verify", "--env", "dev")[0] == 0


def test_a_canary_release_splits_every_alias_runs_the_http_cases_then_goes_to_100(service, built, built2):
    """With a canary, each function's `live` alias gets the weight, the http cases run during the split, then
    the bake, then every alias is on the new version alone (the first release has no canary: nothing before)."""
    service.edit("dev.yml", dev_yml() + "strategy: {canary: {percent: 10, bake_seconds: 1}}\n")
    service.stage(built)
    service.ok("promote", "--to", "dev")
    release1 = versions()
    second = service.stage(built2)
    code, doc = service.json("promote", "--to", "dev", "--artifact", second)
    assert code == 0, doc
    canaries = [s for s in doc["plan"] if s["kind"] == "alias-canary"]
    assert len(canaries) == 2 and all("10%" in s["detail"] or "0.1" in s["detail"] for s in canaries), canaries
    kinds = [s["kind"] for s in doc["plan"]]
    assert kinds == ["deploy-code", "deploy-code", "verify-code", "verify-code", "smoke", "alias-canary",
                     "alias-canary", "http-smoke", "bake", "alias-full", "alias-full", "prune", "prune", "record"]
    for key in ("api", "worker"):
        alias = client("lambda", DEV).get_alias(FunctionName=f"greeter-dev-{key}", Name="live")
        assert alias["FunctionVersion"] != release1[key] and not alias.get("RoutingConfig", {}).get(
            "AdditionalVersionWeights")
        assert live(key)["CodeSha256"] == b64(second)
    outcome = service.ledger("dev")[-1]
    assert outcome["outcome"] == "PASSED"
    assert {s["name"] for s in outcome["smoke"] if s["qualifier"] == "http"} == {"health", "hello"}
