"""What runs but is not a finished, verified release is reported by `status`, `verify` and `doctor` alike.

Each test drives the real CLI against the emulator; the killed promotion is its own process
(tests/launcher.py SIGKILLs it), as a user's `kill -9` or a lost laptop would leave it.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time

import pytest
from helpers import BUCKET, REPO, client, deployer

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

    code, out, err = world.cli("status", "--env", "prod")
    assert code == 0, err
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
    lock = next(c for c in doc["checks"] if c["check"] == "lock")
    assert lock["status"] == "fail" and "DEAD: its process" in lock["detail"] and lock["hint"] == fix

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
    lam = deployer("lambda", "111111111111")  # by hand, as someone with the deploy role (it may read artifacts)
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


def poll(world, predicate, *args: str, limit: float = 60.0) -> str:
    """Run `pipeline <args>` until its stdout satisfies `predicate` (a deadline, no fixed sleep)."""
    deadline = time.monotonic() + limit
    while True:
        code, out, err = world.cli(*args)
        if code == 0 and predicate(out):
            return out
        assert time.monotonic() < deadline, f"gave up waiting; last output:\n{out}{err}"
        time.sleep(0.05)


def test_status_while_a_promotion_bakes_in_another_process_then_ctrl_c(world, built, built2):
    """Another shell runs `promote --to prod`; status shows its lock and split; Ctrl-C ends it truthfully."""
    released(world, built, built2)
    world.edit("prod.yml", """\
        account: "333333333333"
        protect: true
        gates: {requires: test, approval: true}
        strategy: {canary: {percent: 10, bake_seconds: 120}}
        """)
    proc = subprocess.Popen([sys.executable, "-u", "-m", "pipeline", "promote", "--to", "prod", "--approve"],
                            cwd=world.envdir.parent, env=dict(os.environ), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    seen = []
    try:
        out = poll(world, lambda o: "promotion running" in o, "status")
        assert proc.stdout is not None
        for line in proc.stdout:  # the split is set before the canary's smoke: wait for the bake itself
            seen.append(line)
            if "baking 120s" in line:
                break
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # what Ctrl-C in that shell sends
        stdout, stderr = proc.communicate(timeout=60)
    stdout = "".join(seen) + stdout
    row = next(line for line in out.splitlines() if line.startswith("prod "))
    assert "canary running" in row and "blocked by lock" in row, row
    lock = re.search(r"lock: prod held by (\S+) for \d+s \(promote, ledger/prod/00000002\.json, "
                     r"since (20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d)Z on (\S+) pid (\d+), lease until 20\d\d-", out)
    assert lock, out
    assert lock.group(1).endswith("/pipeline-root") and int(lock.group(4)) == proc.pid
    assert "canary: prod 333333333333/us-east-1: live: 90% v1, 10% v2 (promotion running)" in out
    assert "LEFTOVER" not in out

    # Ctrl-C during the bake: the lines tell the truth, in order; nothing claims the bake finished
    lines = stdout.splitlines()
    assert proc.returncode == 130, (stdout, stderr)
    assert not any("bake finished" in line for line in lines), stdout
    baking = next(i for i, line in enumerate(lines) if "baking 120s" in line)
    assert re.fullmatch(r"  333333333333/us-east-1: bake interrupted after \d+\.\d\ds of 120s", lines[baking + 1]), \
        lines[baking:]
    assert lines[baking + 2].startswith("  333333333333/us-east-1: rolled back: live back to v1 (weights cleared) "
                                        "(interrupted)"), lines[baking:]
    key = "ledger/prod/00000003.json"
    assert lines[baking + 3] == (f"prod: interrupted: 333333333333/us-east-1 FAILED (interrupted; alias rolled back); "
                                 f"recorded in {key}"), lines[baking:]
    assert stderr.strip().splitlines()[-1] == "pipeline: interrupted"
    assert weights("prod", PROD) == {} and world.live("prod", PROD)["Version"] == "1"
    outcome = world.ledger("prod")[-1]
    assert outcome["seq"] == 3 and outcome["outcome"] == "FAILED"
    assert outcome["reason"] == "interrupted; alias rolled back"
    assert world.cli("verify", "--env", "prod")[0] == 0


def rows(out: str) -> dict[str, str]:
    """The status table's data rows by env."""
    return {line.split()[0]: line for line in out.splitlines() if line.split() and line.split()[0] in
            ("dev", "test", "prod")}


def dirty_copy(built, folder) -> tuple:
    """The same bytes, with a manifest that says the work tree was dirty (as `build` writes it then)."""
    from pipeline.artifact.manifest import Manifest

    zip_path, manifest = built
    folder.mkdir()
    dirty = Manifest(**{**manifest.to_dict(), "dirty": True})
    (folder / zip_path.name).write_bytes(zip_path.read_bytes())
    dirty.write((folder / zip_path.name).with_suffix(".json"))
    return folder / zip_path.name, dirty


def test_status_flags_a_dirty_build_and_says_what_comes_next(world, built, tmp_path):
    world.bootstrap("prod")
    digest = world.stage(dirty_copy(built, tmp_path / "dirty"))
    short = digest[:12]
    out = world.ok("status")
    assert "ready for dev: " + short in rows(out)["dev"]
    assert "nothing to promote" in rows(out)["test"] and "nothing to promote" in rows(out)["prod"]

    world.ok("promote", "--to", "dev")
    out = world.ok("status")
    assert f"{built[1].commit[:12]} (dirty)" in rows(out)["dev"]
    assert rows(out)["dev"].rstrip().endswith("up to date")
    assert rows(out)["test"].rstrip().endswith(f"ready for test: {short}")

    world.ok("promote", "--to", "test")
    out = world.ok("status")
    assert rows(out)["prod"].rstrip().endswith(f"{short} blocked by approval")  # dirty: no approval helps
    assert f"next: prod: {short} blocked by approval: approval: artifact was built from a dirty work tree" in out
    _, doc = world.json("status")
    [prod] = [n for n in doc["next"] if n["env"] == "prod"]
    assert prod["kind"] == "blocked" and prod["artifact"] == digest
    assert {g["name"]: g["passed"] for g in prod["gates"]} == {
        "predecessor": True, "approval": False, "clean": True, "freeze": True, "alarms": True, "integrity": True,
        "lock": True}
    assert [e["dirty"] for e in doc["environments"]] == [True, True, None]
    code, doc = world.json("doctor", "--env", "test")
    live = next(c for c in doc["checks"] if c["check"] == "live alias")
    assert code == 0 and "built from a dirty work tree: an approval env refuses it" in live["detail"]


@pytest.mark.bootstrapped("dev", "test")  # prod's deploy role does not exist yet: AssumeRole is refused
def test_next_column_waiting_for_approval_then_blocked_by_freeze(world, built):
    digest = world.stage(built)
    world.ok("promote", "--to", "dev")
    world.ok("promote", "--to", "test")
    out = world.ok("status")
    assert rows(out)["prod"].rstrip().endswith("not bootstrapped")
    assert "next: prod: not bootstrapped: no function yet: pipeline bootstrap --env prod" in out
    world.bootstrap("prod")
    out = world.ok("status")
    assert "(dirty)" not in out
    assert rows(out)["prod"].rstrip().endswith(f"waiting for approval of {digest[:12]}")
    assert "next: prod: waiting for approval of" in out and "pipeline promote --to prod --approve" in out
    world.edit("prod.yml", """\
        account: "333333333333"
        gates: {requires: test, approval: true, freeze: ["Mon 00:00-Sun 23:59", "Sun 23:00-Mon 01:00"]}
        """)
    out = world.ok("status", "--env", "prod")
    assert rows(out)["prod"].rstrip().endswith(f"{digest[:12]} blocked by freeze (then an approval)")
    assert "next: prod: " in out and "freeze: frozen until " in out
    # what the column said is what promote decides: the same gates refuse it
    code, _, err = world.cli("promote", "--to", "prod", "--approve")
    assert code == 3 and "freeze" in err


def test_after_a_rollback_promote_says_it_would_redeploy_what_was_rolled_back(world, built, built2):
    first = world.stage(built)
    world.ok("promote", "--to", "dev")
    world.ok("promote", "--to", "test")
    second = world.stage(built2)
    world.ok("promote", "--to", "dev")
    world.ok("promote", "--to", "test")
    world.ok("rollback", "--env", "test")
    assert world.live("test", "222222222222")["Version"] == "1"

    out = world.ok("status", "--env", "test")
    assert rows(out)["test"].rstrip().endswith(f"rolled back {second[:12]}: promote a newer artifact")
    assert f"next: test: rolled back {second[:12]}: promote a newer artifact: {second[:12]} was rolled back in " \
           "test by pipeline-root at " in out

    out = world.ok("promote", "--to", "test", "--dry-run")
    assert f"note: {second[:12]} was rolled back in test by pipeline-root at " in out
    assert "this plan deploys it again; the gates above decided as for any artifact (nothing refuses a " \
           "rolled-back one); to move past it, promote a newer artifact" in out
    assert f"plan for test: deploys the rolled-back {second[:12]} again (dry run: nothing written)" in out
    code, doc = world.json("promote", "--to", "test", "--dry-run")
    assert code == 0 and doc["artifact"] == second and "rolled back in test" in doc["notes"][0]
    assert all(g["passed"] for g in doc["gates"])  # the gates allow it, as they always did
    assert world.live("test", "222222222222")["Version"] == "1"  # the dry run wrote nothing

    # the real promote does what the plan said: it deploys the rolled-back artifact again (the gates allow it)
    out = world.ok("promote", "--to", "test")
    assert "this promotion deploys it again" in out
    assert world.live("test", "222222222222")["CodeSha256"] == world.live("dev", "111111111111")["CodeSha256"]
    out = world.ok("status", "--env", "test")
    assert rows(out)["test"].rstrip().endswith("up to date") and "rolled back" not in rows(out)["test"]
    # and an artifact that never was rolled back here gets no note
    out = world.ok("promote", "--to", "test", "--artifact", first, "--dry-run")
    assert "note:" not in out


def test_an_artifact_that_rolled_itself_back_is_not_ready_again(world, built, crash_artifact):
    world.stage(built)
    world.ok("promote", "--to", "dev")
    broken = world.stage(crash_artifact)  # the newest staged: what `promote --to dev` picks
    assert world.cli("promote", "--to", "dev")[0] == 1  # smoke failed, rolled back
    out = world.ok("status", "--env", "dev")
    assert rows(out)["dev"].rstrip().endswith(f"rolled back {broken[:12]}: promote a newer artifact")
    assert f"{broken[:12]} rolled itself back in dev at " in out
    out = world.ok("promote", "--to", "dev", "--dry-run")
    assert f"note: {broken[:12]} rolled itself back in dev at " in out and "this plan deploys it again" in out


def test_the_alias_on_what_a_running_promotion_deploys_is_no_drift(world, built, built2):
    """An all-at-once promotion running elsewhere has moved the alias and not recorded its outcome yet."""
    from test_gates_and_locks import _fake_started

    world.stage(built)
    world.ok("promote", "--to", "dev")
    digest = world.stage(built2)
    world.deploy_out_of_band("dev", "111111111111", digest)
    code, out, _ = world.cli("verify", "--env", "dev")
    assert code == 1 and "out-of-band deploy?" in out  # with no lock held, this is drift
    _fake_started(world, "dev", world.ledger("dev"), pid=7, host="ci-runner-7", lease_minutes=10,
                  previous_version="1", artifact=digest)
    out = world.ok("status", "--env", "dev")
    assert "promotion running" in rows(out)["dev"], out
    assert "DRIFT" not in out and "drift:" not in out
    assert world.cli("verify", "--env", "dev")[0] == 0
    code, doc = world.json("doctor", "--env", "dev")
    lock = next(c for c in doc["checks"] if c["check"] == "lock")
    assert code == 0 and lock["status"] == "pass" and "held by" in lock["detail"] and "a promotion is running" in \
        lock["detail"]


def test_ctrl_c_during_the_bake_of_a_wave_stops_every_target_of_it(world, built, built2):
    """Targets of a wave bake in threads, which Ctrl-C does not reach: they must stop too, not go to 100%."""
    fleet = ("111111111111", "555555555555")
    world.edit("dev.yml", """\
        targets:
          - {account: "111111111111"}
          - {account: "555555555555"}
        wave_size: 2
        strategy: {canary: {percent: 10, bake_seconds: 120}}
        """)
    world.ok("bootstrap", "--tooling")  # a new account: the promoter may now assume its deploy role
    world.bootstrap("dev")
    world.stage(built)
    world.ok("promote", "--to", "dev")
    world.stage(built2)
    proc = subprocess.Popen([sys.executable, "-u", "-m", "pipeline", "promote", "--to", "dev"],
                            cwd=world.envdir.parent, env=dict(os.environ), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    seen, baking = [], 0
    assert proc.stdout is not None
    for line in proc.stdout:  # ends at EOF if the promotion never gets there
        seen.append(line.rstrip("\n"))
        baking += "baking 120s" in line
        if baking == len(fleet):
            break
    proc.send_signal(signal.SIGINT)
    rest, stderr = proc.communicate(timeout=60)  # far less than the bake: the threads stopped
    lines = seen + rest.splitlines()
    assert proc.returncode == 130, (lines, stderr)
    assert not any("bake finished" in line or "live -> v2" in line for line in lines), lines
    tail = [line.strip() for line in lines[lines.index(seen[-1]) + 1:]]
    for account in fleet:
        where = f"{account}/us-east-1"
        stopped = next(i for i, t in enumerate(tail) if t.startswith(f"{where}: bake interrupted after"))
        back = next(i for i, t in enumerate(tail)
                    if t.startswith(f"{where}: rolled back: live back to v1 (weights cleared) (interrupted)"))
        assert stopped < back, tail
        assert weights("dev", account) == {} and world.live("dev", account)["Version"] == "1"
    assert tail[-1].startswith("dev: interrupted: 111111111111/us-east-1 FAILED (interrupted; alias rolled back); "
                               "555555555555/us-east-1 FAILED (interrupted; alias rolled back); recorded in "), tail
    outcomes = [r for r in world.ledger("dev") if r["type"] == "outcome"][-2:]
    assert [(o["outcome"], o["reason"]) for o in outcomes] == [("FAILED", "interrupted; alias rolled back")] * 2
    assert world.cli("verify", "--env", "dev")[0] == 0
