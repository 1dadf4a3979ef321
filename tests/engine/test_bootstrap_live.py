"""`bootstrap` describes the code the `live` alias runs (not `$LATEST`) and changes nothing when run again."""

from __future__ import annotations

import re

from helpers import client

TEST = "222222222222"


def function_actions(out: str) -> dict[str, str]:
    """stack -> action, from bootstrap's result table (function stacks only)."""
    found = re.findall(r"^(greeter-\w+-function)\s+\d{12}\s+\S+\s+(would update|would create|unchanged|updated|"
                       r"created)\s", out, flags=re.M)
    return dict(found)


def test_bootstrap_after_a_rollback_keeps_what_live_runs_then_changes_nothing(world, built, built2):
    world.bootstrap("prod")
    first = world.stage(built)
    world.ok("promote", "--to", "dev")
    world.ok("promote", "--to", "test")
    second = world.stage(built2)
    world.ok("promote", "--to", "dev")
    world.ok("promote", "--to", "test")
    world.ok("rollback", "--env", "test")
    lam = client("lambda", TEST)
    assert world.live("test", TEST)["Version"] == "1"
    latest = lam.get_function_configuration(FunctionName="greeter-test")["CodeSha256"]

    out = world.ok("bootstrap", "--env", "test", "--dry-run")
    assert f"(code: live artifact {first[:12]})" in out and f"live artifact {second[:12]}" not in out
    assert (f"greeter-test: keeping the code the live alias runs (v1), {first[:12]}; $LATEST holds "
            f"{second[:12]}, which live does not run (rolled back, or never verified)") in out
    assert lam.get_function_configuration(FunctionName="greeter-test")["CodeSha256"] == latest  # dry run

    out = world.ok("bootstrap", "--all")
    assert function_actions(out)["greeter-test-function"] == "updated"  # its parameters now name v1's code
    assert world.live("test", TEST)["Version"] == "1"  # the live alias was not touched
    assert world.cli("verify")[0] == 0
    out = world.ok("bootstrap", "--all")
    actions = function_actions(out)
    assert set(actions) == {"greeter-dev-function", "greeter-test-function", "greeter-prod-function"}
    assert set(actions.values()) == {"unchanged"}, actions
    assert out.rstrip().endswith("no changes")

    # and after more promotions and a rollback in prod: once to follow, then nothing
    world.ok("promote", "--to", "prod", "--artifact", first, "--approve")
    world.ok("promote", "--to", "test")
    world.ok("promote", "--to", "prod", "--approve")
    world.ok("rollback", "--env", "prod")
    world.ok("bootstrap", "--all")
    out = world.ok("bootstrap", "--all")
    assert set(function_actions(out).values()) == {"unchanged"}, out
    code, doc = world.json("doctor", "--env", "prod")
    function = next(c for c in doc["checks"] if c["check"] == "function")
    assert code == 0 and f"artifact {first[:12]}" in function["detail"]  # what live runs in prod
