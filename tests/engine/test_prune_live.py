"""Version pruning against the emulator, through the real CLI: after each passed promotion and on demand."""

from __future__ import annotations

import pytest
from helpers import client

from pipeline.errors import PipelineError

pytestmark = pytest.mark.emulator

DEV = "111111111111"


def versions(env: str = "dev", account: str = DEV) -> set[str]:
    lam = client("lambda", account)
    return {v["Version"] for page in lam.get_paginator("list_versions_by_function").paginate(
        FunctionName=f"greeter-{env}") for v in page["Versions"] if v["Version"] != "$LATEST"}


def keep_in_dev(world, keep: int) -> None:
    world.edit("dev.yml", f"""\
        account: "{DEV}"
        keep_versions: {keep}
        """)


def promote_alternately(world, digests: list[str], times: int) -> None:
    for i in range(times):
        world.ok("promote", "--to", "dev", "--artifact", digests[i % 2])


@pytest.mark.bootstrapped("dev")
def test_promotions_prune_beyond_keep_and_a_rollback_target_survives(world, built, built2, calls):
    keep_in_dev(world, 3)
    a, b = world.stage(built), world.stage(built2)
    promote_alternately(world, [a, b], 12)  # v1..v12; live on v12 (b), the ledger's last good before it v11 (a)
    assert versions() == {"10", "11", "12"}
    outcomes = [r for r in world.ledger("dev") if r["type"] == "outcome"]
    assert [o["prune"].get("skipped") is not None for o in outcomes] == [True] * 3 + [False] * 9
    assert outcomes[3]["prune"]["deleted"] == ["1"]  # the 4th promotion: v4, v3 (undo, last good), v2 kept
    assert sorted(v for o in outcomes for v in o["prune"]["deleted"]) == sorted(str(n) for n in range(1, 10))
    kept = {k["version"]: k["why"] for k in outcomes[-1]["prune"]["kept"]}
    assert kept["12"] == "alias live points at it" and "last good in the ledger" in kept["11"]
    # past its keep, a promotion adds one list of versions, one of aliases and one delete per old version
    calls.clear()
    world.ok("promote", "--to", "dev", "--artifact", a)  # v13: lists, deletes v10
    lam = [op for svc, op in calls.calls if svc == "lambda"]
    assert lam.count("ListVersionsByFunction") == 1 and lam.count("ListAliases") == 1
    assert lam.count("DeleteFunction") == 1 and versions() == {"11", "12", "13"}
    # the rollback target (b at v12) survived: rollback to it works and runs the right bytes
    world.ok("rollback", "--env", "dev")
    live = world.live("dev", DEV)
    assert live["Version"] == "12" and world.ledger("dev")[-1]["outcome"] == "PASSED"


@pytest.mark.bootstrapped("dev")
def test_prune_command_dry_run_deletes_nothing_then_prunes_and_records(world, built, built2):
    a, b = world.stage(built), world.stage(built2)
    promote_alternately(world, [a, b], 5)  # default keep 10: nothing pruned yet
    assert versions() == {"1", "2", "3", "4", "5"}
    before = len(world.ledger("dev"))
    code, doc = world.json("prune", "--env", "dev", "--keep", "1", "--dry-run")
    assert code == 0, doc
    assert doc["targets"][0]["delete"] == ["3", "2", "1"]  # v5 live and newest, v4 last good/rollback target
    assert versions() == {"1", "2", "3", "4", "5"} and len(world.ledger("dev")) == before
    code, doc = world.json("prune", "--env", "dev", "--keep", "1")
    assert code == 0, doc
    assert versions() == {"4", "5"}
    record = world.ledger("dev")[-1]
    assert record["type"] == "prune" and record["deleted"] == ["3", "2", "1"] and record["failed"] == {}
    assert record["keep"] == 1 and record["target"] == {"account": DEV, "region": "us-east-1"}
    # nothing left to delete: no write at all
    world.ok("prune", "--env", "dev", "--keep", "1")
    assert len(world.ledger("dev")) == before + 1
    world.ok("rollback", "--env", "dev")
    assert world.live("dev", DEV)["Version"] == "4"
    world.ok("verify")


@pytest.mark.bootstrapped("dev")
def test_a_failed_prune_warns_is_recorded_and_the_promotion_passes(world, built, built2, monkeypatch):
    from pipeline.aws.functions import FunctionAdapter

    keep_in_dev(world, 1)
    a, b = world.stage(built), world.stage(built2)
    promote_alternately(world, [a, b], 3)  # v3: v1 deleted by the 3rd promotion (v2 is last good)
    assert versions() == {"2", "3"}
    real = FunctionAdapter.delete_version

    def flaky(self, version):
        if version == "2":
            raise PipelineError("function greeter-dev: delete_function 2: ServiceException: injected")
        return real(self, version)

    monkeypatch.setattr(FunctionAdapter, "delete_version", flaky)
    world.ok("promote", "--to", "dev", "--artifact", b)  # v4 (b); last good v3, delete v2
    code, doc = world.json("promote", "--to", "dev", "--artifact", a)  # v5; v3 goes, v2 fails again
    assert code == 0 and doc["ok"] is True, doc
    assert doc["warnings"] == ["warning: 111111111111/us-east-1: prune deleted 1 version(s), could not delete "
                               "v2: function greeter-dev: delete_function 2: ServiceException: injected"]
    outcome = world.ledger("dev")[-1]
    assert outcome["outcome"] == "PASSED" and list(outcome["prune"]["failed"]) == ["2"]
    assert outcome["prune"]["deleted"] == ["3"]
    assert versions() == {"2", "4", "5"} and world.live("dev", DEV)["Version"] == "5"


@pytest.mark.parametrize("keep", ["0", "-2", "three"])
@pytest.mark.bootstrapped("dev")
def test_bad_keep_is_exit_2_before_any_call(world, keep, calls):
    calls.clear()
    code, _, err = world.cli("prune", "--env", "dev", "--keep", keep)
    assert code == 2 and "--keep" in err and calls.calls == []


def test_bad_keep_versions_is_a_file_line_error(envdir):
    from pipeline.cli import main

    (envdir / "dev.yml").write_text('account: "111111111111"\nkeep_versions: 0\n')
    assert main(["validate"]) == 2
