"""`doctor` and `unlock` of a multi-function service, through the real CLI on the emulator: doctor checks
every function (exists, runtime/architecture/handler, `live` alias, the ledger's judgement) and the front door
(its stack, its ApiEndpoint answers); unlock --force breaks a dead service release's lock, every function back."""

from __future__ import annotations

import datetime as dt
import json
import socket
import subprocess
import sys

import pytest
from config.service_example import FUNCTIONS, multi
from conftest import World
from helpers import client, deployer, promoter

from pipeline.core.ledger import encode, sha256

pytestmark = pytest.mark.emulator
DEV = "111111111111"
KEYS = ("api", "worker")
BUCKET = "greeter-artifacts-444444444444-us-east-1"
DEV_YML = f"""\
account: "{DEV}"
smoke:
  - name: health
    http: {{method: GET, path: /health}}
    expect: {{statusCode: 200}}
  - name: tick
    function: worker
    event: {json.dumps({"detail-type": "Scheduled Event", "source": "aws.events",
                        "time": "2024-01-01T00:00:00Z", "detail": {}})}
"""


@pytest.fixture
def service(aws, envdir, capsys) -> World:
    multi(envdir, FUNCTIONS, DEV_YML)
    w = World(envdir, capsys)
    w.ok("bootstrap", "--tooling")
    w.ok("bootstrap", "--env", "dev")
    return w


def live(key: str) -> dict:
    return client("lambda", DEV).get_function_configuration(FunctionName=f"greeter-dev-{key}", Qualifier="live")


def checks(doc: dict) -> dict[tuple[str, str], dict]:
    return {(c["check"], c["where"]): c for c in doc["checks"]}


def test_doctor_checks_every_function_and_the_front_door_then_names_a_missing_function(service, built):
    where = f"dev {DEV}/us-east-1"
    code, doc = service.json("doctor", "--env", "dev")
    assert code == 0, [c for c in doc["checks"] if c["status"] == "fail"]
    found = checks(doc)
    for key in KEYS:
        assert found[("function", f"{where} {key}")]["status"] == "pass"
        assert found[("alias", f"{where} {key}")]["detail"] == f"greeter-dev-{key}:live -> v1"
        assert found[("live alias", f"{where} {key}")]["status"] == "pass"
    assert found[("front-door stack", where)]["status"] == "pass"
    door = found[("front door", where)]
    assert door["status"] == "pass" and door["detail"].startswith("https://") and "answers" in door["detail"]
    service.stage(built)
    service.ok("promote", "--to", "dev")
    code, doc = service.json("doctor", "--env", "dev")
    assert code == 0, [c for c in doc["checks"] if c["status"] == "fail"]
    assert "provided.al2023" in checks(doc)[("function", f"{where} worker")]["detail"]
    client("lambda", DEV).delete_function(FunctionName="greeter-dev-worker")
    code, doc = service.json("doctor", "--env", "dev")
    assert code == 1
    failing = {(c["check"], c["where"]): c["detail"] for c in doc["checks"] if c["status"] == "fail"}
    assert failing[("function", f"{where} worker")] == "function greeter-dev-worker not found"
    assert ("function", f"{where} api") not in failing
    assert checks(doc)[("function", f"{where} worker")]["command"] == "pipeline bootstrap --env dev"


def _dead_release(service: World, digest: str, before: dict[str, str]) -> str:
    """A `started` record of a release whose process died on this host, every function's alias before it."""
    ledger = service.ledger("dev")
    s3 = promoter("s3")
    prev = ledger[-1]
    prev_hash = sha256(s3.get_object(Bucket=BUCKET, Key=f"ledger/dev/{prev['seq']:08d}.json")["Body"].read())
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    now = dt.datetime.now(dt.timezone.utc)
    actor = "arn:aws:sts::444444444444:assumed-role/pipeline-promoter/pipeline-mallory"
    record = {"type": "started", "action": "promote", "artifact": digest, "commit": "x", "dirty": False,
              "actor": actor, "holder": {"actor": actor, "host": socket.gethostname(), "pid": int(dead.stdout)},
              "targets": [{"account": DEV, "region": "us-east-1"}], "functions": list(KEYS),
              "lease_expires": (now + dt.timedelta(minutes=10)).isoformat(),
              "previous": {f"{DEV}/us-east-1": {"version": None, "sha256": None, "functions": {
                  k: {"version": v, "sha256": None} for k, v in before.items()}}},
              "env": "dev", "seq": prev["seq"] + 1, "prev": prev_hash,
              "time": (now - dt.timedelta(seconds=90)).isoformat(timespec="milliseconds")}
    key = f"ledger/dev/{record['seq']:08d}.json"
    s3.put_object(Bucket=BUCKET, Key=key, Body=encode(record), IfNoneMatch="*")
    return key


def test_unlock_breaks_a_dead_service_release_every_function_back(service, built, built2):
    good = service.stage(built)
    service.ok("promote", "--to", "dev")
    assert {k: live(k)["Version"] for k in KEYS} == {k: "2" for k in KEYS}
    other = service.stage(built2)
    lam = deployer("lambda", DEV)  # the dead run had published and moved every alias before it died
    for key in KEYS:
        name = f"greeter-dev-{key}"
        version = lam.update_function_code(FunctionName=name, S3Bucket=BUCKET, S3Key=f"artifacts/greeter/{other}.zip",
                                           Publish=True)["Version"]
        lam.update_alias(FunctionName=name, Name="live", FunctionVersion=version)
    key = _dead_release(service, other, {k: "2" for k in KEYS})
    code, doc = service.json("doctor", "--env", "dev")
    assert code == 1 and checks(doc)[("lock", "dev ledger")]["command"] == "pipeline unlock --env dev --force"
    code, out, _ = service.cli("unlock", "--env", "dev", "--force")
    assert code == 0 and f"lock {key} of" in out and "broken and recorded" in out
    assert {k: live(k)["Version"] for k in KEYS} == {k: "2" for k in KEYS}
    last = service.ledger("dev")[-1]
    assert last["outcome"] == "ABORTED" and last["closes"] is True and "broken by" in last["reason"]
    assert {k: f["version"] for k, f in last["functions"].items()} == {k: "2" for k in KEYS}
    assert service.cli("unlock", "--env", "dev", "--force")[1].strip() == "dev: not locked"
    service.ok("verify")
    service.ok("promote", "--to", "dev", "--artifact", other)
    assert good != other and service.ledger("dev")[-1]["outcome"] == "PASSED"
