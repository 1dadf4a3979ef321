"""status, history, verify (tampering, out-of-band deploys) and rollback."""

from __future__ import annotations

import json

from helpers import promoter, without_bucket_policy

from pipeline.core.ledger import encode

BUCKET = "greeter-artifacts-444444444444-us-east-1"


def _two_releases(world, built, built2) -> tuple[str, str]:
    first = world.stage(built)
    world.ok("promote", "--to", "dev")
    second = world.stage(built2)
    world.ok("promote", "--to", "dev", "--artifact", second)
    return first, second


def test_status_shows_what_runs_where(world, built, built2):
    _first, second = _two_releases(world, built, built2)
    code, doc = world.json("status")
    assert code == 0
    rows = {row["env"]: row for row in doc["environments"]}
    assert rows["dev"]["artifact"] == second and rows["dev"]["version"] == "2" and rows["dev"]["drift"] is False
    assert rows["dev"]["outcome"] == "PASSED" and "pipeline-promoter" in rows["dev"]["who"]
    assert rows["dev"]["last_attempt"] is None
    assert rows["test"]["artifact"] is None and rows["test"]["drift"] is False
    code, out, _ = world.cli("status")
    assert "dev" in out and second[:12] in out


def test_history_lists_records_newest_first(world, built, built2):
    _two_releases(world, built, built2)
    code, doc = world.json("history", "--env", "dev")
    assert code == 0
    assert [(r["seq"], r["type"]) for r in doc["records"]] == [(3, "outcome"), (2, "started"), (1, "outcome"),
                                                                (0, "started")]


def test_verify_passes_then_catches_an_edited_record(world, built, built2):
    _two_releases(world, built, built2)
    world.ok("verify")
    s3 = promoter("s3")
    key = "ledger/dev/00000001.json"
    record = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    record["outcome"] = "PASSED"
    record["smoke"] = []
    s3.put_object(Bucket=BUCKET, Key=key, Body=encode(record))  # an edit that keeps canonical form
    code, out, _err = world.cli("verify")
    assert code == 1
    assert "ledger/dev/00000002.json: prev hash does not match the record before it" in out


def test_verify_catches_a_deleted_and_a_hand_written_record(world, built, built2):
    _two_releases(world, built, built2)
    with without_bucket_policy(BUCKET) as s3:
        s3.delete_object(Bucket=BUCKET, Key="ledger/dev/00000002.json")
    s3 = promoter("s3")
    code, out, _ = world.cli("verify")
    assert code == 1 and "ledger/dev/00000002.json: missing" in out
    body = s3.get_object(Bucket=BUCKET, Key="ledger/dev/00000001.json")["Body"].read()
    s3.put_object(Bucket=BUCKET, Key="ledger/dev/00000001.json", Body=body.replace(b'"seq":1', b'"seq": 1'))
    code, out, _ = world.cli("verify")
    assert code == 1 and "ledger/dev/00000001.json: bytes are not canonical" in out


def test_out_of_band_deploy_is_drift(world, built, built2):
    first = world.stage(built)
    world.ok("promote", "--to", "dev")
    world.stage(built2)
    world.deploy_out_of_band("dev", "111111111111", built2[1].sha256)
    code, doc = world.json("status")
    dev = next(r for r in doc["environments"] if r["env"] == "dev")
    assert dev["drift"] is True and "out-of-band" in dev["drift_reason"]
    code, out, _err = world.cli("verify")
    assert code == 1 and f"runs {built2[1].sha256[:12]} but the ledger says {first[:12]}" in out
    # promote notices too: the live code is not what passed, so it is not a no-op
    code, out, _ = world.cli("promote", "--to", "dev", "--artifact", first)
    assert code == 0 and "nothing to do" not in out
    world.ok("verify")


def test_verify_catches_replaced_staged_bytes(world, built):
    world.stage(built)
    world.ok("promote", "--to", "dev")
    promoter("s3").put_object(Bucket=BUCKET, Key=f"artifacts/greeter/{built[1].sha256}.zip",
                                            Body=b"evil", ChecksumAlgorithm="SHA256")
    code, out, _ = world.cli("verify")
    assert code == 1 and f"staged artifact {built[1].sha256[:12]} now has sha256" in out
    code, _, err = world.cli("promote", "--to", "test")
    assert code == 3 and "integrity:" in err


def test_rollback_to_last_good_and_to_a_named_artifact(world, built, built2):
    first, second = _two_releases(world, built, built2)
    code, doc = world.json("rollback", "--env", "dev")
    assert code == 0, doc
    live = world.live("dev", "111111111111")
    assert live["Version"] == "1"
    outcome = world.ledger("dev")[-1]
    assert outcome["action"] == "rollback" and outcome["outcome"] == "PASSED" and outcome["artifact"] == first
    assert all(s["passed"] for s in outcome["smoke"])
    world.ok("verify")
    code, doc = world.json("rollback", "--env", "dev", "--artifact", second)
    assert code == 0 and world.live("dev", "111111111111")["Version"] == "2"
    code, _, err = world.cli("rollback", "--env", "dev", "--artifact", "ef" * 32)
    assert code == 2 and err.count("\n") == 1 and "--artifact " in err and "never passed smoke in dev" in err
    # the old name still works, with one deprecation line before anything else
    code, _, err = world.cli("rollback", "--env", "dev", "--to", first)
    assert code == 0 and world.live("dev", "111111111111")["Version"] == "1", err
    assert err.splitlines()[0] == ("pipeline: warning: `rollback --to` is deprecated: use `rollback --artifact` "
                                   "(same value)")
    code, _, err = world.cli("rollback", "--env", "dev", "--to", first, "--artifact", first)
    assert code == 2 and "give only --artifact" in err


def test_rollback_with_nothing_earlier(world, built):
    world.stage(built)
    world.ok("promote", "--to", "dev")
    code, _, err = world.cli("rollback", "--env", "dev")
    assert code == 1 and "nothing to roll back to" in err


def test_status_keeps_the_running_release_and_shows_a_failed_attempt(world, built, crash_artifact):
    good = world.stage(built)
    world.ok("promote", "--to", "dev")
    bad = world.stage(crash_artifact)
    assert world.cli("promote", "--to", "dev", "--artifact", bad)[0] == 1
    code, doc = world.json("status", "--env", "dev")
    assert code == 0
    [dev] = doc["environments"]
    assert dev["artifact"] == good and dev["outcome"] == "PASSED" and dev["drift"] is False
    assert dev["last_attempt"]["outcome"] == "ROLLED_BACK" and dev["last_attempt"]["artifact"] == bad


def test_history_limit_is_the_newest_n_overall_and_per_env_keeps_the_grouping(world, built, built2):
    first = world.stage(built)
    world.ok("promote", "--to", "dev")
    world.ok("promote", "--to", "test")
    second = world.stage(built2)
    world.ok("promote", "--to", "dev", "--artifact", second)  # dev 2, 3 are newer than test 0, 1
    code, doc = world.json("history", "--limit", "3")
    assert code == 0
    assert [(r["env"], r["seq"]) for r in doc["records"]] == [("dev", 3), ("dev", 2), ("test", 1)]
    times = [r["time"] for r in doc["records"]]
    assert times == sorted(times, reverse=True)
    out = world.ok("history", "--limit", "3")
    assert len([ln for ln in out.splitlines() if ln.startswith(("dev ", "test "))]) == 3
    code, doc = world.json("history", "--limit", "1", "--per-env")
    assert [(r["env"], r["seq"], r["artifact"]) for r in doc["records"]] == [("dev", 3, second), ("test", 1, first)]
