"""Each error said once: a gate refusal names every failing gate once (text), and carries structured `gates`
(JSON); nothing is written."""

from __future__ import annotations

from helpers import client


def test_a_refusal_names_each_failing_gate_once_and_json_carries_the_gates(world, built, calls):
    digest = world.stage(built)
    world.ok("promote", "--to", "dev")
    world.bootstrap("prod")
    calls.clear()
    code, out, err = world.cli("promote", "--to", "prod", "--artifact", digest[:12])
    assert code == 3 and err.count("\n") == 1, err
    assert err.startswith(f"pipeline: error: promotion of {digest[:12]} to prod refused: predecessor: ")
    for reason in (f"{digest[:12]} has no passed smoke record in test", "this environment needs an approval"):
        assert (out + err).count(reason) == 1, (out, err)
    assert "freeze" not in err and "alarms" not in err  # passing gates are no news in the error line
    code, doc = world.json("promote", "--to", "prod", "--artifact", digest[:12])
    assert code == 3 and doc["ok"] is False and doc["exit_code"] == 3
    assert doc["refused_by"] == ["predecessor", "approval"] and doc["artifact"] == digest and doc["env"] == "prod"
    gates = {g["name"]: g for g in doc["gates"]}
    assert list(gates) == ["predecessor", "approval", "clean", "freeze", "alarms", "integrity",
                           "lock"]
    assert gates["approval"]["passed"] is False and "--approve" in gates["approval"]["reason"]
    assert gates["integrity"]["passed"] is True
    assert calls.writes == []


def test_a_missing_function_names_the_bootstrap_that_creates_it(world, built, calls):
    digest = world.stage(built)
    client("lambda", "333333333333").delete_function(FunctionName="greeter-prod")  # as if prod never was bootstrapped
    calls.clear()
    code, _, err = world.cli("promote", "--to", "prod", "--artifact", digest)
    assert code == 1 and err.count("\n") == 1, err
    assert "function greeter-prod in 333333333333/us-east-1 not found: run `pipeline bootstrap --env prod` first" in err
    assert calls.writes == []


def test_a_freeze_refusal_says_until_when_in_the_env_timezone(world, built, calls):
    import datetime as dt

    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    now = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)
    start, end = now - dt.timedelta(hours=1), now + dt.timedelta(hours=2)  # a window around now
    window = f"{days[start.weekday()]} {start:%H:%M}-{days[end.weekday()]} {end:%H:%M}"
    world.edit("dev.yml", f"""\
        account: "111111111111"
        timezone: UTC
        gates: {{freeze: ["{window}"]}}
        """)
    world.stage(built)
    calls.clear()
    code, _, err = world.cli("promote", "--to", "dev")
    assert code == 3 and err.count("\n") == 1, err
    assert f"refused: freeze: frozen until {end:%a %Y-%m-%d %H:%M} UTC (window {window}; now " in err
    code, doc = world.json("promote", "--to", "dev")
    assert code == 3 and [g["until"] for g in doc["gates"] if g["name"] == "freeze"] == [f"{end:%Y-%m-%dT%H:%M}+00:00"]
    assert calls.writes == []
