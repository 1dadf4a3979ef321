"""Version pruning of a multi-function service, through the real CLI on the emulator: after each passed release
(every function, `keep_versions`) and `pipeline prune` (every function, one record per function), never a version
an alias points at (the bootstrap stub's included) or the ledger's last good or rollback target of that function."""

from __future__ import annotations

import base64
import json

import pytest
from config.service_example import FUNCTIONS, multi
from conftest import World
from helpers import client

pytestmark = pytest.mark.emulator
DEV = "111111111111"
KEYS = ("api", "worker")
WORKER_EVENT = {"detail-type": "Scheduled Event", "source": "aws.events", "time": "2024-01-01T00:00:00Z",
                "detail": {}}


def dev_yml(keep: int | None = None, hello_status: int = 200) -> str:
    return f"""\
account: "{DEV}"
{f"keep_versions: {keep}" if keep else ""}
smoke:
  - name: health
    http: {{method: GET, path: /health}}
    expect: {{statusCode: 200}}
  - name: hello
    http: {{method: GET, path: "/hello/bob"}}
    expect: {{statusCode: {hello_status}}}
  - name: tick
    function: worker
    event: {json.dumps(WORKER_EVENT)}
"""


def versions(key: str) -> set[str]:
    lam = client("lambda", DEV)
    return {v["Version"] for page in lam.get_paginator("list_versions_by_function").paginate(
        FunctionName=f"greeter-dev-{key}") for v in page["Versions"] if v["Version"] != "$LATEST"}


def live(key: str) -> dict:
    return client("lambda", DEV).get_function_configuration(FunctionName=f"greeter-dev-{key}", Qualifier="live")


def b64(sha_hex: str) -> str:
    return base64.b64encode(bytes.fromhex(sha_hex)).decode()


def service(envdir, capsys, dev: str) -> World:
    multi(envdir, FUNCTIONS, dev)
    w = World(envdir, capsys)
    w.ok("bootstrap", "--tooling")
    w.ok("bootstrap", "--env", "dev")
    return w


def outcomes(w: World) -> list[dict]:
    return [r for r in w.ledger("dev") if r["type"] == "outcome"]


def test_releases_prune_every_function_beyond_keep_and_the_rollback_target_survives(aws, envdir, capsys, built,
                                                                                     built2):
    w = service(envdir, capsys, dev_yml(keep=2))
    assert {k: versions(k) for k in KEYS} == {k: {"1"} for k in KEYS}  # the stub's version, under `live`
    a, b = w.stage(built), w.stage(built2)
    for digest in (a, b, a, b):  # v2..v5 of every function
        w.ok("promote", "--to", "dev", "--artifact", digest)
    # per function: the newest 2 (v5 live, v4 its last good and rollback target); v1 (the stub), v2, v3 gone
    assert {k: versions(k) for k in KEYS} == {k: {"4", "5"} for k in KEYS}
    runs = outcomes(w)
    assert all(o["outcome"] == "PASSED" and "prune" not in o for o in runs)
    for key in KEYS:
        pruned = [o["functions"][key]["prune"] for o in runs]
        assert pruned[0].get("skipped") and [p["deleted"] for p in pruned[1:]] == [["1"], ["2"], ["3"]]
        kept = {k["version"]: k["why"] for k in pruned[-1]["kept"]}
        assert kept["5"] == "alias live points at it" and kept["4"].startswith("last good in the ledger")
        assert pruned[1]["kept"] == [{"version": "3", "action": "keep", "why": "alias live points at it"},
                                     {"version": "2", "action": "keep", "why": f"last good in the ledger ({a[:12]})"}]
    # the rollback target of each function (a at v4) survived: rollback works and runs a's bytes
    w.ok("rollback", "--env", "dev")
    assert {k: (live(k)["Version"], live(k)["CodeSha256"]) for k in KEYS} == {k: ("4", b64(a)) for k in KEYS}
    assert w.ledger("dev")[-1]["outcome"] == "PASSED"
    w.ok("verify")


def test_prune_command_dry_run_writes_nothing_then_prunes_every_function_recorded(aws, envdir, capsys, built,
                                                                                  built2):
    w = service(envdir, capsys, dev_yml())  # keep_versions 10: no release prunes anything here
    a, b = w.stage(built), w.stage(built2)
    for digest in (a, b, a):  # v2, v3, v4
        w.ok("promote", "--to", "dev", "--artifact", digest)
    before = w.ledger("dev")
    code, doc = w.json("prune", "--env", "dev", "--keep", "1", "--dry-run")
    assert code == 0, doc
    # v4 live (and last good), v3 the rollback target (b): v2 and v1 (the stub's, no alias on it now) would go
    assert [(t["target"], t["function"], t["delete"]) for t in doc["targets"]] == [
        (f"{DEV}/us-east-1", k, ["2", "1"]) for k in KEYS]
    assert {k: versions(k) for k in KEYS} == {k: {"1", "2", "3", "4"} for k in KEYS} and w.ledger("dev") == before
    code, doc = w.json("prune", "--env", "dev", "--keep", "1")
    assert code == 0, doc
    assert {k: versions(k) for k in KEYS} == {k: {"3", "4"} for k in KEYS}
    records = w.ledger("dev")[len(before):]
    assert [(r["type"], r["function"], r["deleted"], r["failed"], r["keep"]) for r in records] == [
        ("prune", k, ["2", "1"], {}, 1) for k in KEYS]
    assert all(r["target"] == {"account": DEV, "region": "us-east-1"} for r in records)
    w.ok("prune", "--env", "dev", "--keep", "1")  # nothing left to delete: no record
    assert len(w.ledger("dev")) == len(before) + 2
    w.ok("rollback", "--env", "dev")
    assert {k: live(k)["Version"] for k in KEYS} == {k: "3" for k in KEYS}
    w.ok("verify")


def test_the_stubs_version_behind_live_is_kept_like_any_aliased_version(aws, envdir, capsys, built):
    w = service(envdir, capsys, dev_yml(hello_status=418))  # hello answers 200: the release rolls back
    digest = w.stage(built)
    assert w.cli("promote", "--to", "dev", "--artifact", digest)[0] == 1
    assert {k: live(k)["Version"] for k in KEYS} == {k: "1" for k in KEYS}  # back on the stub, v2 published
    code, doc = w.json("prune", "--env", "dev", "--keep", "1", "--dry-run")
    assert code == 0, doc
    for target in doc["targets"]:
        assert target["delete"] == []
        assert {v["version"]: v["why"] for v in target["verdicts"]} == {"2": "one of the newest 1",
                                                                        "1": "alias live points at it"}
