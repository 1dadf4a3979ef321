"""What runs but is not a finished, verified release is reported by `status`, `verify` and `doctor` alike.

Each test drives the real CLI against the emulator; the killed promotion is its own process
(tests/launcher.py SIGKILLs it), as a user's `kill -9` or a lost laptop would leave it.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys

from conftest import BUCKET
from helpers import REPO, client

LAUNCHER = REPO / "tests" / "launcher.py"
PROD = "333333333333"


def killed(world, kill: str, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, str(LAUNCHER), "--kill", kill, "--", *args], cwd=world.envdir.parent,
                          env=dict(os.environ), capture_output=True, text=True, timeout=180)
    assert proc.returncode == -signal.SIGKILL, f"not killed at {kill}: exit {proc.returncode}\n{proc.stderr}"
    return proc


def weights(env: str, account: str) -> dict:
    alias = client("lambda", account).get_alias(FunctionName=f"greeter-{env}", Name="live")
    return (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}


def released(world, built, built2) -> tuple[str, str]:
    """v1 of `built` released to prod; `built2` passed dev and test (prod's next candidate)."""
    world.bootstrap("prod")
    first = world.stage(built)
    world.ok("promote", "--to", "dev")
    world.ok("promote", "--to", "test")
    world.ok("promote", "--to", "prod", "--approve")
    second = world.stage(built2)
    world.ok("promote", "--to", "dev")
    world.ok("promote", "--to", "test")
    return first, second


def fix_of(doc: dict, check: str) -> str:
    found = [c for c in doc["checks"] if c["check"] == check]
    assert found, doc["checks"]
    return found[0]["hint"]


def test_a_canary_left_by_a_kill_during_the_bake_is_reported_and_the_fix_works(world, built, built2):
    first, _ = released(world, built, built2)
    # killed with the alias split: after the canary weight was set and the bake ran, before the full shift
    killed(world, "lambda:UpdateAlias:2:before", "promote", "--to", "prod", "--approve")
    assert weights("prod", PROD) == {"2": 0.1}

    code, out, _ = world.cli("status", "--env", "prod")
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("prod "))
    assert "LEFTOVER CANARY" in row and not row.rstrip().endswith(" ok"), row
    assert "canary: prod 333333333333/us-east-1: a canary weight is left on the alias (live: 90% v1, 10% v2)" in out
    assert "10% of the traffic runs an unverified version; fix: pipeline unlock --env prod --force" in out
    code, doc = world.json("status", "--env", "prod")
    [target] = doc["environments"]
    assert target["canary"]["weights"] == {"2": 0.1} and target["canary"]["running"] is False
    assert [f["kind"] for f in target["findings"]] == ["leftover-canary"]

    code, out, err = world.cli("verify", "--env", "prod")
    assert code == 1
    assert "verify found 2 problem(s): prod 333333333333/us-east-1: a canary weight is left on the alias " \
           "(live: 90% v1, 10% v2)" in err  # the first line names what runs, then the dead lock
    assert "is dead (its process" in out

    code, doc = world.json("doctor", "--env", "prod")
    assert code == 1 and doc["ok"] is False
    live = next(c for c in doc["checks"] if c["check"] == "live alias")
    assert live["status"] == "fail" and "live: 90% v1, 10% v2" in live["detail"]
    fix = fix_of(doc, "live alias")
    assert fix == "run pipeline unlock --env prod --force"

    # the fix, run as printed, puts prod back on its verified release; then all three agree again
    world.ok(*shlex.split(fix.removeprefix("run pipeline ")))
    assert weights("prod", PROD) == {}
    assert world.cli("verify", "--env", "prod")[0] == 0
    code, doc = world.json("doctor", "--env", "prod")
    assert code == 0, [c for c in doc["checks"] if c["status"] == "fail"]
    code, doc = world.json("status", "--env", "prod")
    assert doc["environments"][0]["artifact"] == first and doc["environments"][0]["findings"] == []


def test_a_canary_weight_with_no_lock_is_reported_and_the_fix_works(world, built, built2):
    """No promotion holds the lock (someone split the alias by hand): the fix cannot be an unlock."""
    first = world.stage(built)
    world.ok("promote", "--to", "dev")
    digest = world.stage(built2)
    lam = client("lambda", "111111111111")
    v2 = lam.update_function_code(FunctionName="greeter-dev", S3Bucket=BUCKET,
                                  S3Key=f"artifacts/greeter/{digest}.zip", Publish=True)["Version"]
    lam.update_alias(FunctionName="greeter-dev", Name="live", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {v2: 0.25}})
    code, out, _ = world.cli("status", "--env", "dev")
    assert "LEFTOVER CANARY" in out and "while no promotion holds the lock" in out
    code, doc = world.json("doctor", "--env", "dev")
    assert code == 1
    fix = fix_of(doc, "live alias")
    assert fix == f"run pipeline rollback --env dev --artifact {first}"
    world.ok(*shlex.split(fix.removeprefix("run pipeline ")))
    assert weights("dev", "111111111111") == {}
    assert world.cli("verify", "--env", "dev")[0] == 0
    assert world.json("doctor", "--env", "dev")[0] == 0


def test_doctor_passes_the_live_alias_of_a_verified_release(world, built):
    world.stage(built)
    code, doc = world.json("doctor", "--env", "dev")
    live = next(c for c in doc["checks"] if c["check"] == "live alias")
    assert live["status"] == "pass" and "nothing promoted here" in live["detail"]
    world.ok("promote", "--to", "dev")
    code, doc = world.json("doctor", "--env", "dev")
    live = next(c for c in doc["checks"] if c["check"] == "live alias")
    assert code == 0 and live["status"] == "pass" and "live -> v1 runs" in live["detail"]
