"""What `--dry-run` shows is what runs: for every branch, the dry run's plan and the steps the executor
carried out (each target's `steps` in the JSON document) agree, step for step.

A target that fails runs its plan up to the failing step, then exactly the plan's `on_failure`
steps, then its record. Both sides come from the real CLI against the emulator.
"""

from __future__ import annotations

from helpers import client

from pipeline.core.function import LIVE_ALIAS


def _by_target(plan: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for step in plan:
        grouped.setdefault(step["target"], []).append(step)
    return grouped


def _plain(step: dict) -> dict:
    return {k: step[k] for k in ("kind", "target", "detail")}


def assert_agree(plan: list[dict], run: dict, failed_at: dict[str, str] | None = None) -> None:
    """Every target ran its planned steps; a target in `failed_at` stopped at that step kind and undid."""
    planned = _by_target(plan)
    assert planned, "the dry run planned nothing"
    assert {t["target"] for t in run["targets"]} == set(planned)
    for target in run["targets"]:
        steps = planned[target["target"]]
        *body, record = steps
        expected = [_plain(s) for s in body]
        stop = (failed_at or {}).get(target["target"])
        if stop is not None:
            kinds = [s["kind"] for s in body]
            expected = expected[: kinds.index(stop) + 1] + [_plain(u) for u in record.get("on_failure", [])]
        assert target["steps"] == [*expected, _plain(record)], target["target"]


def dry_then_run(world, *args: str) -> tuple[dict, tuple[int, dict]]:
    code, dry = world.json(*args, "--dry-run")
    assert code == 0 and dry["dry_run"] is True, dry
    return dry, world.json(*args)


def test_stub_runtime_first_deploy(world, built):
    digest = world.stage(built)
    dry, (code, run) = dry_then_run(world, "promote", "--to", "dev", "--artifact", digest)
    assert code == 0, run
    assert dry["plan"][0]["kind"] == "switch-runtime"
    assert_agree(dry["plan"], run)


def test_code_update_and_noop(world, built, built2):
    world.stage(built)
    world.ok("promote", "--to", "dev")
    digest = world.stage(built2)
    dry, (code, run) = dry_then_run(world, "promote", "--to", "dev", "--artifact", digest)
    assert code == 0 and "switch-runtime" not in [s["kind"] for s in dry["plan"]]
    assert_agree(dry["plan"], run)
    dry, (code, run) = dry_then_run(world, "promote", "--to", "dev", "--artifact", digest)
    assert code == 0 and dry["noop"] and run["noop"] and dry["plan"] == [] and run["targets"] == []


def test_canary(world, built, built2):
    world.edit("prod.yml", """\
        account: "333333333333"
        gates: {requires: test}
        strategy: {canary: {percent: 20, bake_seconds: 1}}
        """)
    world.bootstrap("prod")
    first = world.stage(built)
    second = world.stage(built2)
    for digest in (first, second):
        world.ok("promote", "--to", "dev", "--artifact", digest)
        world.ok("promote", "--to", "test", "--artifact", digest)
    world.ok("promote", "--to", "prod", "--artifact", first)
    dry, (code, run) = dry_then_run(world, "promote", "--to", "prod", "--artifact", second)
    assert code == 0, run
    assert [s["kind"] for s in dry["plan"]] == ["deploy-code", "verify-code", "alias-canary", "smoke", "bake",
                                                "alias-full", "prune", "record"]
    assert_agree(dry["plan"], run)


def test_smoke_failure_undoes_exactly_the_planned_steps(world, built, crash_artifact):
    world.stage(built)
    world.ok("promote", "--to", "dev")
    bad = world.stage(crash_artifact)
    dry, (code, run) = dry_then_run(world, "promote", "--to", "dev", "--artifact", bad)
    assert code == 1 and run["targets"][0]["outcome"] == "ROLLED_BACK"
    assert_agree(dry["plan"], run, failed_at={run["targets"][0]["target"]: "smoke"})
    assert world.live("dev", "111111111111")["Version"] == "1"


def test_rollback_target(world, built, built2):
    world.stage(built)
    world.ok("promote", "--to", "dev")
    world.ok("promote", "--to", "dev", "--artifact", world.stage(built2))
    calls_before = len(world.ledger("dev"))
    dry, (code, run) = dry_then_run(world, "rollback", "--env", "dev")
    assert len(world.ledger("dev")) == calls_before + 2, "the dry run wrote nothing; the rollback two records"
    assert code == 0, run
    assert [s["kind"] for s in dry["plan"]] == ["alias", "smoke", "record"]
    assert_agree(dry["plan"], run)
    assert world.live("dev", "111111111111")["Version"] == "1"


def test_wave_failure(world, built, built2, monkeypatch):
    """Three targets, waves of two; one target's deploy is denied: it undoes what it did, its wave-mate
    (which passed) undoes all of its steps, the next wave is skipped and only recorded."""
    from botocore.exceptions import ClientError
    from faults import install_hooks

    world.edit("dev.yml", """\
        targets:
          - {account: "111111111111"}
          - {account: "555555555555"}
          - {account: "666666666666"}
        wave_size: 2
        """)
    world.ok("bootstrap", "--tooling")  # new accounts: the tooling stack names their deploy roles
    world.bootstrap("dev")
    world.stage(built)
    world.ok("promote", "--to", "dev")
    digest = world.stage(built2)
    code, dry = world.json("promote", "--to", "dev", "--artifact", digest, "--dry-run")
    assert code == 0
    seen = [0]

    def deny_second_update(model, **_):
        if model.name == "UpdateFunctionCode":
            seen[0] += 1
            if seen[0] == 2:
                raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "denied"},
                                   "ResponseMetadata": {"HTTPStatusCode": 403}}, model.name)

    install_hooks(monkeypatch, [("before-call.lambda", deny_second_update)])
    code, run = world.json("promote", "--to", "dev", "--artifact", digest)
    assert code == 1
    by_outcome = {t["outcome"]: t for t in run["targets"]}
    assert sorted(by_outcome) == ["FAILED", "ROLLED_BACK", "SKIPPED"]
    planned = _by_target(dry["plan"])
    failed, undone, skipped = by_outcome["FAILED"], by_outcome["ROLLED_BACK"], by_outcome["SKIPPED"]
    assert skipped["target"] == "666666666666/us-east-1"
    assert skipped["steps"] == [_plain(planned[skipped["target"]][-1])]  # never started: only its record
    assert_agree([s for s in dry["plan"] if s["target"] == failed["target"]], {"targets": [failed]},
                 failed_at={failed["target"]: "deploy-code"})
    assert_agree([s for s in dry["plan"] if s["target"] == undone["target"]], {"targets": [undone]},
                 failed_at={undone["target"]: "smoke"})  # its last step: it passed, then its wave failed
    for account in ("111111111111", "555555555555", "666666666666"):
        alias = client("lambda", account).get_alias(FunctionName="greeter-dev", Name=LIVE_ALIAS)
        assert alias["FunctionVersion"] == "1"
