"""Waves: an env with several targets deploys them in parallel, wave by wave, one record per target."""

from __future__ import annotations

import base64

from botocore.exceptions import ClientError

ACCOUNTS = ("111111111111", "555555555555", "666666666666")


def _fleet(world) -> None:
    world.edit("dev.yml", """\
        targets:
          - {account: "111111111111"}
          - {account: "555555555555"}
          - {account: "666666666666"}
        wave_size: 2
        """)
    # new accounts: the tooling stack lets their deploy roles read artifacts and the promoter assume them
    world.ok("bootstrap", "--tooling")
    world.bootstrap("dev")


def _sha(world, account: str) -> str:
    return base64.b64decode(world.live("dev", account)["CodeSha256"]).hex()


def test_every_target_gets_the_artifact_and_its_own_record(world, built):
    _fleet(world)
    digest = world.stage(built)
    code, doc = world.json("promote", "--to", "dev")
    assert code == 0, doc
    assert {t["target"] for t in doc["targets"]} == {f"{a}/us-east-1" for a in ACCOUNTS}
    assert all(_sha(world, a) == digest for a in ACCOUNTS)
    outcomes = [r for r in world.ledger("dev") if r["type"] == "outcome"]
    assert sorted(r["account"] for r in outcomes) == sorted(ACCOUNTS)
    assert [r["closes"] for r in outcomes] == [False, False, True]
    assert world.cli("verify")[0] == 0


def test_a_failed_target_rolls_back_its_whole_wave(world, built, built2, monkeypatch):
    from pipeline.aws import session as session_module

    _fleet(world)
    good = world.stage(built)
    world.ok("promote", "--to", "dev")
    world.stage(built2)
    seen = {"n": 0}

    def deny_second_update(model, **_):
        if model.name == "UpdateFunctionCode":
            seen["n"] += 1
            if seen["n"] == 2:
                raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "denied"},
                                   "ResponseMetadata": {"HTTPStatusCode": 403}}, model.name)

    original = session_module.SessionFactory.__init__

    def patched(self, *a, **kw):
        kw["event_hooks"] = [*(kw.get("event_hooks") or []), ("before-call.lambda", deny_second_update)]
        original(self, *a, **kw)

    monkeypatch.setattr(session_module.SessionFactory, "__init__", patched)
    code, doc = world.json("promote", "--to", "dev", "--artifact", built2[1].sha256)
    assert code == 1
    by_target = {t["target"].split("/")[0]: t for t in doc["targets"]}
    wave1 = [by_target[a]["outcome"] for a in ACCOUNTS[:2]]
    assert sorted(wave1) == ["FAILED", "ROLLED_BACK"]
    assert by_target[ACCOUNTS[2]]["outcome"] == "SKIPPED"
    # every target runs the previous release again
    assert all(_sha(world, a) == good for a in ACCOUNTS)
    assert world.cli("verify")[0] == 0


# -- two regions, two accounts: one artifact, a replica per region, one wave ------------------------------

TWO = (("111111111111", "us-east-1"), ("555555555555", "eu-west-1"))
REPLICA = "greeter-artifacts-444444444444-eu-west-1"


def _two_regions(world) -> None:
    world.edit("dev.yml", """\
        targets:
          - {account: "111111111111"}
          - {account: "555555555555", region: eu-west-1}
        wave_size: 2
        """)
    world.ok("bootstrap", "--tooling")  # adds the eu-west-1 bucket and key
    world.bootstrap("dev")  # the eu-west-1 function starts on the stub copied to its region


def _live_sha(world, account: str, region: str) -> str:
    return base64.b64decode(world.live("dev", account, region)["CodeSha256"]).hex()


def test_two_regions_promote_smoke_and_roll_back_as_one_wave(world, built, built2):
    from helpers import client

    _two_regions(world)
    code, doc = world.json("stage", str(built[0]))
    assert code == 0, doc
    assert [(r["region"], r["state"]) for r in doc["replicas"]] == [("eu-west-1", "copied")]
    assert doc["bytes_sent"] == built[1].size
    code, doc = world.json("stage", str(built[0]))  # again: one HEAD per region, nothing sent
    assert [r["state"] for r in doc["replicas"]] == ["present"] and doc["bytes_sent"] == 0
    good = built[1].sha256
    code, doc = world.json("promote", "--to", "dev")
    assert code == 0, doc
    assert {t["target"] for t in doc["targets"]} == {f"{a}/{r}" for a, r in TWO}
    assert {t["outcome"] for t in doc["targets"]} == {"PASSED"}
    assert all(_live_sha(world, a, r) == good for a, r in TWO)
    fn = client("lambda", "555555555555", "eu-west-1").get_function(FunctionName="greeter-dev", Qualifier="live")
    assert fn["Configuration"]["CodeSha256"] == base64.b64encode(bytes.fromhex(good)).decode()
    assert world.cli("verify")[0] == 0
    code, doc = world.json("status", "--env", "dev")
    assert [(r["region"], r["bucket"], r["state"]) for r in doc["replicas"]] == [("eu-west-1", REPLICA, "present")]

    world.stage(built2)
    code, doc = world.json("promote", "--to", "dev", "--artifact", built2[1].sha256)
    assert code == 0, doc
    assert all(_live_sha(world, a, r) == built2[1].sha256 for a, r in TWO)
    code, doc = world.json("rollback", "--env", "dev")
    assert code == 0, doc
    assert all(_live_sha(world, a, r) == good for a, r in TWO)  # both regions back, in one run
    assert world.cli("verify")[0] == 0


def test_a_missing_or_replaced_replica_refuses_the_promotion_and_verify_reports_it(world, built, built2):
    from helpers import client, promoter

    _two_regions(world)
    digest = world.stage(built)
    s3 = client("s3", "444444444444", "eu-west-1")  # the tooling admin deletes...
    writer = promoter("s3", "eu-west-1")  # ...and only the promoter may encrypt with the replica's key
    key = f"artifacts/greeter/{digest}.zip"
    s3.delete_object(Bucket=REPLICA, Key=key)
    nxt = world.json("status", "--env", "dev")[1]["next"][0]  # status's "next" judges with the same gate
    assert any(g["name"] == "integrity" and not g["passed"] and "no replica in eu-west-1" in g["reason"]
               for g in nxt["gates"]), nxt
    code, _, err = world.cli("promote", "--to", "dev")
    assert code == 3 and "no replica in eu-west-1" in err, err
    world.stage(built)  # a rerun copies the missing replica again
    world.ok("promote", "--to", "dev")
    writer.put_object(Bucket=REPLICA, Key=key, Body=b"not the artifact", ChecksumAlgorithm="SHA256")
    code, out, err = world.cli("verify")
    assert code == 1 and f"replica s3://{REPLICA}/{key} now has sha256" in out + err
    assert [r["state"] for r in world.json("status", "--env", "dev")[1]["replicas"]] == ["replaced"]
    s3.delete_object(Bucket=REPLICA, Key=key)
    code, out, err = world.cli("verify")
    assert code == 1 and "is missing: `pipeline stage` copies it again" in out + err
    world.stage(built)
    world.stage(built2)
    writer.put_object(Bucket=REPLICA, Key=f"artifacts/greeter/{built2[1].sha256}.zip", Body=b"swapped",
                  ChecksumAlgorithm="SHA256")
    code, _, err = world.cli("promote", "--to", "dev", "--artifact", built2[1].sha256)
    assert code == 3 and "replaced after staging" in err, err
    assert _live_sha(world, "555555555555", "eu-west-1") == digest  # nothing written


def test_staging_to_a_region_without_its_bucket_fails_naming_the_region(world, built):
    world.edit("dev.yml", """\
        targets:
          - {account: "111111111111"}
          - {account: "555555555555", region: eu-west-1}
        """)
    code, _, err = world.cli("stage", str(built[0]))  # no `bootstrap --tooling` since eu-west-1 was added
    assert code == 1 and "eu-west-1" in err and "bootstrap --tooling" in err, err


def test_a_copy_failing_mid_stage_exits_1_naming_the_region_and_a_rerun_completes_it(world, built, monkeypatch):
    from pipeline.aws import session as session_module

    _two_regions(world)
    original = session_module.SessionFactory.__init__

    def fail_copy(model, **_):
        if model.name == "CopyObject":
            raise ClientError({"Error": {"Code": "InternalError", "Message": "copy broke"},
                               "ResponseMetadata": {"HTTPStatusCode": 500}}, model.name)

    def patched(self, *a, **kw):
        kw["event_hooks"] = [*(kw.get("event_hooks") or []), ("before-call.s3", fail_copy)]
        original(self, *a, **kw)

    monkeypatch.setattr(session_module.SessionFactory, "__init__", patched)
    code, _, err = world.cli("stage", str(built[0]))
    assert code == 1 and "replica in eu-west-1" in err and "InternalError" in err, err
    monkeypatch.setattr(session_module.SessionFactory, "__init__", original)
    code, _, err = world.cli("promote", "--to", "dev")  # never a region whose replica is absent
    assert code == 3 and "no replica in eu-west-1" in err, err
    code, doc = world.json("stage", str(built[0]))
    assert code == 0 and [r["state"] for r in doc["replicas"]] == ["copied"] and doc["bytes_sent"] == 0
    world.ok("promote", "--to", "dev")
    assert _live_sha(world, "555555555555", "eu-west-1") == built[1].sha256
