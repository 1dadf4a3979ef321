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
