"""Canary bakes (lease renewal, alarms firing mid-bake) and the `invoke` command."""

from __future__ import annotations

import json
import threading
import time

from helpers import client


def _prod_ready(world, built, built2) -> None:
    world.edit("prod.yml", """\
        account: "333333333333"
        gates: {requires: test, alarms: [greeter-prod-errors]}
        strategy: {canary: {percent: 20, bake_seconds: 3}}
        """)
    world.bootstrap("prod")
    for artifact in (built, built2):
        digest = world.stage(artifact)
        for env in ("dev", "test", "prod"):
            if artifact is built2 and env == "prod":
                return
            world.ok("promote", "--to", env, "--artifact", digest)


def test_alarm_firing_during_the_bake_rolls_the_canary_back(world, built, built2):
    _prod_ready(world, built, built2)
    cw = client("cloudwatch", "333333333333")
    assert cw.describe_alarms(AlarmNames=["greeter-prod-errors"])["MetricAlarms"], "bootstrap creates the alarm"

    lam = client("lambda", "333333333333")

    def fire() -> None:  # once the canary split is on the alias, i.e. during the bake
        deadline = time.monotonic() + 60
        while not (lam.get_alias(FunctionName="greeter-prod", Name="live").get("RoutingConfig") or {}).get(
                "AdditionalVersionWeights") and time.monotonic() < deadline:
            time.sleep(0.02)
        cw.set_alarm_state(AlarmName="greeter-prod-errors", StateValue="ALARM", StateReason="errors in canary")

    threading.Thread(target=fire, daemon=True).start()
    code, doc = world.json("promote", "--to", "prod", "--artifact", built2[1].sha256)
    assert code == 1
    [target] = doc["targets"]
    assert target["outcome"] == "ROLLED_BACK" and "greeter-prod-errors went into ALARM" in target["reason"]
    alias = client("lambda", "333333333333").get_alias(FunctionName="greeter-prod", Name="live")
    assert alias["FunctionVersion"] == "1" and not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")


def test_long_bake_renews_the_lease(world, built, built2, monkeypatch):
    from pipeline.engine.lock import EnvLock

    _prod_ready(world, built, built2)
    monkeypatch.setattr(EnvLock, "lease_seconds", lambda self: 2)  # bake (3 s) outlives the lease
    world.ok("promote", "--to", "prod", "--artifact", built2[1].sha256)
    records = world.ledger("prod")
    started = [r for r in records if r["type"] == "started"][-1]
    leases = [r for r in records if r["type"] == "lease"]
    assert leases and all(r["started_seq"] == started["seq"] for r in leases)
    assert leases[-1]["lease_expires"] > started["lease_expires"]
    assert records[-1]["outcome"] == "PASSED"
    assert world.cli("verify")[0] == 0


def test_invoke_command(world, built, tmp_path):
    world.stage(built)
    world.ok("promote", "--to", "dev")
    code, doc = world.json("invoke", "--env", "dev", "--path", "/hello?name=Ada")
    assert code == 0 and doc["status"] == 200 and "Ada" in doc["body"]
    assert doc["executed_version"] == "1" and doc["duration_ms"] > 0
    code, doc = world.json("invoke", "--env", "dev", "--path", "/hello?name=<script>")
    assert code == 0 and doc["status"] == 400
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"rawPath": "/health", "requestContext": {"http": {"method": "GET"}}}))
    code, doc = world.json("invoke", "--env", "dev", "--event", str(event), "--qualifier", "$LATEST")
    assert code == 0 and json.loads(doc["body"]) == {"status": "ok"}
    event.write_text("[1, 2")
    code, _, err = world.cli("invoke", "--env", "dev", "--event", str(event))
    assert code == 2 and "not JSON" in err
    code, _, err = world.cli("invoke", "--env", "dev", "--qualifier", "nope")
    assert code == 1 and err.count("\n") == 1 and "ResourceNotFoundException" in err


def test_a_long_bake_ticks_calmly_with_time_left_and_alarm_states(world, built, built2):
    import io

    from pipeline.aws.accounts import Accounts
    from pipeline.aws.session import SessionFactory
    from pipeline.config.load import load_config
    from pipeline.engine.context import EngineContext
    from pipeline.engine.promote import promote
    from pipeline.output import Output

    _prod_ready(world, built, built2)
    world.edit("prod.yml", """\
        account: "333333333333"
        gates: {requires: test, alarms: [greeter-prod-errors]}
        strategy: {canary: {percent: 20, bake_seconds: 120}}
        """)
    config = load_config(world.envdir)
    clock = [0.0]  # a two-minute bake on a fake clock: the ticker's rate, not the wait, is under test
    stdout = io.StringIO()
    ctx = EngineContext(config, Accounts(SessionFactory(region="us-east-1"), config), Output(stdout=stdout),
                        sleep=lambda s: clock.__setitem__(0, clock[0] + s), monotonic=lambda: clock[0])
    result = promote(ctx, "prod", built2[1].sha256)
    assert result.ok
    ticks = [line for line in stdout.getvalue().splitlines() if ": baking, " in line]
    assert 8 <= len(ticks) <= 10, ticks  # every 12 s of 120: calm, and never silent for long
    assert ticks[0].endswith("left; alarms: greeter-prod-errors OK") and "1m48s left" in ticks[0]
