"""Crash recovery: `promote` (or `rollback`) SIGKILLed at each step boundary, as its own process.

The killed process runs tests/launcher.py (the real CLI plus a hook that SIGKILLs it at the Nth
call of an operation) against the test session's emulator. After each kill ONE more command,
run normally, must converge: the dead holder's lock is recognised (same host, dead pid) and
reconciled, every target runs code that has a PASSED record (never an unverified version, no
leftover canary weight), `verify` passes, and `history` shows an ABORTED outcome saying what
was undone.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
from dataclasses import dataclass

import pytest
from helpers import REPO, client

LAUNCHER = REPO / "tests" / "launcher.py"
DEV = "111111111111"
FLEET = (DEV, "555555555555")


@dataclass(frozen=True)
class Boundary:
    name: str
    kill: str  # service:Operation:N:before|after|during (see tests/launcher.py)
    setup: str = "second"  # second: v1 live, deploy another; first: fresh env; canary; fleet (2 targets)
    unverified: bool = False  # the alias' primary version is unverified after the kill (verify must say so)
    locked: bool = True  # the kill leaves an open started record
    command: str = "promote"  # what was killed, and what recovers


BOUNDARIES = [
    Boundary("before the lock write", "s3:PutObject:1:before", locked=False),
    Boundary("lock taken", "s3:PutObject:1:after"),
    Boundary("runtime switched", "lambda:UpdateFunctionConfiguration:1:after", setup="first"),
    Boundary("version published", "lambda:UpdateFunctionCode:1:after"),
    Boundary("alias created", "lambda:CreateAlias:1:after", setup="first", unverified=True),
    Boundary("alias shifted", "lambda:UpdateAlias:1:after", unverified=True),
    Boundary("smoke running", "lambda:Invoke:1:during", unverified=True),
    Boundary("between smoke cases", "lambda:Invoke:1:after", unverified=True),
    Boundary("canary weight set", "lambda:UpdateAlias:1:after", setup="canary"),
    Boundary("canary smoke running", "lambda:Invoke:3:during", setup="canary"),
    Boundary("canary: all traffic shifted", "lambda:UpdateAlias:2:after", setup="canary", unverified=True),
    Boundary("first of two outcomes written", "s3:PutObject:2:after", setup="fleet", unverified=True),
    Boundary("last outcome written", "s3:PutObject:2:after", locked=False),
    Boundary("rollback: alias moved back", "lambda:UpdateAlias:1:after", command="rollback", unverified=True),
]
FAST = {"lock taken", "alias shifted", "first of two outcomes written"}


def params():
    for b in BOUNDARIES:
        marks = () if b.name in FAST else (pytest.mark.proof,)
        yield pytest.param(b, id=b.name.replace(" ", "-").replace(":", ""), marks=marks)


def killed(world, kill: str, *args: str) -> subprocess.CompletedProcess:
    """Run `pipeline <args>` as its own process and SIGKILL it at `kill`; it must die there."""
    proc = subprocess.run([sys.executable, str(LAUNCHER), "--kill", kill, "--", *args], cwd=world.envdir.parent,
                          env=dict(os.environ), capture_output=True, text=True, timeout=180)
    assert proc.returncode == -signal.SIGKILL, f"not killed at {kill}: exit {proc.returncode}\n{proc.stderr}"
    return proc


def hexsha(code_sha256: str) -> str:
    return base64.b64decode(code_sha256).hex()


def prepare(world, boundary: Boundary, built, built2) -> tuple[list[str], str]:
    """Set the env up for the boundary; (what to run, the artifact the run deploys)."""
    if boundary.setup == "canary":
        world.edit("dev.yml", """\
            account: "111111111111"
            strategy: {canary: {percent: 10, bake_seconds: 0}}
            """)
    if boundary.setup == "fleet":
        world.edit("dev.yml", """\
            targets:
              - {account: "111111111111"}
              - {account: "555555555555"}
            wave_size: 1
            """)
        world.ok("bootstrap", "--tooling")  # a new account: its deploy role must be named by the tooling stack
        world.bootstrap("dev")
    first, second = world.stage(built), world.stage(built2)
    if boundary.setup == "first":
        return ["promote", "--to", "dev", "--artifact", first], first
    world.ok("promote", "--to", "dev", "--artifact", first)
    if boundary.command == "rollback":
        world.ok("promote", "--to", "dev", "--artifact", second)
        return ["rollback", "--env", "dev"], first
    return ["promote", "--to", "dev", "--artifact", second], second


def targets(boundary: Boundary) -> tuple[str, ...]:
    return FLEET if boundary.setup == "fleet" else (DEV,)


def assert_only_verified_code_runs(world, boundary: Boundary) -> None:
    """Every target's alias points (with no extra weight) at a version whose artifact has PASSED there."""
    records = world.ledger("dev")
    for account in targets(boundary):
        alias = client("lambda", account).get_alias(FunctionName="greeter-dev", Name="live")
        assert not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights"), alias
        live = world.live("dev", account)
        passed = [r for r in records if r["type"] == "outcome" and r["outcome"] == "PASSED"
                  and r["account"] == account]
        assert passed, f"{account}: no PASSED record at all"
        assert hexsha(live["CodeSha256"]) == passed[-1]["artifact"], f"{account} runs unverified code"
        assert live["Version"] == passed[-1]["version"]


def assert_unlocked(world) -> None:
    from pipeline.core.ledger import Record, encode, lock_state

    records = [Record(f"ledger/dev/{r['seq']:08d}.json", encode(r), r) for r in world.ledger("dev")]
    assert not lock_state(reversed(records)).held


@pytest.mark.parametrize("boundary", list(params()))
def test_one_more_command_converges_after_a_kill(world, built, built2, boundary):
    argv, digest = prepare(world, boundary, built, built2)
    before = len(world.ledger("dev"))
    victim = killed(world, boundary.kill, *argv)
    if boundary.unverified:
        code, _, err = world.cli("verify")
        assert code == 1 and "dev" in err  # what runs now has no PASSED record: verify says so

    code, out, err = world.cli(*argv)
    assert code == 0, f"recovery after a kill at {boundary.name}: exit {code}: {err}\n{victim.stdout}"
    assert ("reconciling" in out) == boundary.locked, out
    assert_unlocked(world)
    assert_only_verified_code_runs(world, boundary)
    for account in targets(boundary):
        assert hexsha(world.live("dev", account)["CodeSha256"]) == digest  # and the command did its job
    assert world.cli("verify")[0] == 0

    new = world.ledger("dev")[before:]
    aborted = [r for r in new if r.get("outcome") == "ABORTED"]
    if boundary.locked:
        started = new[0]
        assert started["type"] == "started" and started["holder"]["pid"] != os.getpid()
        assert aborted and all(f"ledger/dev/{started['seq']:08d}.json" in r["reason"] and "did not finish" in
                               r["reason"] for r in aborted)
        code, history, _ = world.cli("history", "--env", "dev")
        assert code == 0 and "ABORTED" in history
    else:
        assert not aborted


def test_rollback_to_a_release_a_recovered_run_left_on_a_target(world, built, built2):
    """After a partial run is recovered, a target that already had the release gets a PASSED record
    too: it must name the version, or a later rollback to that release cannot find it."""
    boundary = next(b for b in BOUNDARIES if b.setup == "fleet")
    argv, second = prepare(world, boundary, built, built2)
    killed(world, boundary.kill, *argv)
    world.ok(*argv)
    first = built[1].sha256
    world.ok("promote", "--to", "dev", "--artifact", first)
    code, _, err = world.cli("rollback", "--env", "dev")
    assert code == 0, err
    assert all(hexsha(world.live("dev", a)["CodeSha256"]) == second for a in FLEET)
    assert_only_verified_code_runs(world, boundary)


@pytest.mark.proof
@pytest.mark.parametrize("second_kill", ["lambda:UpdateAlias:1:after", "s3:PutObject:1:after"],
                         ids=["alias-moved-back-not-recorded", "aborted-recorded"])
def test_a_kill_during_recovery_is_recovered_by_the_next_command(world, built, built2, second_kill):
    boundary = next(b for b in BOUNDARIES if b.name == "alias shifted")
    argv, digest = prepare(world, boundary, built, built2)
    killed(world, boundary.kill, *argv)
    killed(world, second_kill, *argv)  # the recovering promote dies while reconciling
    code, _, err = world.cli(*argv)
    assert code == 0, err
    assert_unlocked(world)
    assert_only_verified_code_runs(world, boundary)
    assert hexsha(world.live("dev", DEV)["CodeSha256"]) == digest
    assert world.cli("verify")[0] == 0
