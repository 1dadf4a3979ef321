"""Approval, freeze, alarms, the lock (ledger-as-lock), unlock, and crash reconciliation."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import time

from helpers import client, deployer, promoter

from pipeline.core.ledger import encode, sha256

BUCKET = "greeter-artifacts-444444444444-us-east-1"


def _to_test(world, built) -> str:
    digest = world.stage(built)
    world.ok("promote", "--to", "dev")
    world.ok("promote", "--to", "test")
    world.bootstrap("prod")
    return digest


def test_prod_needs_an_approval_that_records_the_real_caller(world, built, built2, calls):
    digest = _to_test(world, built)
    calls.clear()
    code, _, err = world.cli("promote", "--to", "prod")
    assert code == 3 and "approval: this environment needs an approval" in err
    assert calls.writes == []
    code, doc = world.json("promote", "--to", "prod", "--approve", "--reason", "release 1")
    assert code == 0, doc
    outcome = world.ledger("prod")[-1]
    # the approver is the STS caller identity, not a typed name
    assert outcome["approval"] == {"approver": "arn:aws:sts::123456789012:user/moto", "reason": "release 1"}
    assert outcome["outcome"] == "PASSED" and outcome["artifact"] == digest
    # the first deploy has nothing to split traffic with: all at once, smoke against the alias
    assert {s["qualifier"] for s in outcome["smoke"]} == {"live"}

    world.stage(built2)
    for env in ("dev", "test"):
        world.ok("promote", "--to", env, "--artifact", built2[1].sha256)
    code, doc = world.json("promote", "--to", "prod", "--approve")
    assert code == 0, doc
    assert [s["kind"] for s in doc["plan"]][:5] == ["deploy-code", "verify-code", "alias-canary", "smoke", "bake"]
    outcome = world.ledger("prod")[-1]
    # canary: smoke ran against the new version and against the alias while it split traffic...
    assert {s["qualifier"] for s in outcome["smoke"]} == {outcome["version"], "live"}
    assert outcome["timings"]["bake"] >= 1.0
    # ...and it ended with all traffic on the new version
    alias = client("lambda", "333333333333").get_alias(FunctionName="greeter-prod", Name="live")
    assert alias["FunctionVersion"] == outcome["version"]
    assert not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")


def test_dirty_artifacts_are_refused_where_approval_is_required(world, built, tmp_path):
    from pipeline.artifact.manifest import Manifest

    _to_test(world, built)
    zip_path, manifest = built
    # the same bytes, but the manifest says the work tree was dirty: stage under a fresh bucket state
    dirty = Manifest(**{**manifest.to_dict(), "dirty": True})
    target = tmp_path / zip_path.name
    target.write_bytes(zip_path.read_bytes())
    dirty.write(target.with_suffix(".json"))
    s3 = promoter("s3")
    s3.put_object(Bucket=BUCKET, Key=f"artifacts/greeter/{manifest.sha256}.zip", Body=zip_path.read_bytes(),
                  ChecksumAlgorithm="SHA256", Metadata={"dirty": "true", "commit": manifest.commit})
    code, _, err = world.cli("promote", "--to", "prod", "--approve")
    assert code == 3 and "dirty work tree" in err


def test_freeze_window_refuses(world, built):
    from pipeline.aws.accounts import Accounts
    from pipeline.aws.session import SessionFactory
    from pipeline.config.load import load_config
    from pipeline.engine.context import EngineContext
    from pipeline.engine.promote import promote
    from pipeline.errors import RefusedError
    from pipeline.output import Output

    world.edit("dev.yml", """\
        account: "111111111111"
        timezone: Europe/Berlin
        gates: {freeze: ["Fri 15:00-Mon 08:00"]}
        """)
    world.stage(built)
    config = load_config(world.envdir)
    friday_evening = dt.datetime(2026, 11, 20, 17, 30, tzinfo=dt.timezone.utc)  # 18:30 in Berlin
    ctx = EngineContext(config, Accounts(SessionFactory(region="us-east-1"), config), Output(),
                        now=lambda: friday_evening)
    try:
        promote(ctx, "dev")
        raise AssertionError("expected a refusal")
    except RefusedError as exc:
        assert "freeze: frozen until Mon 2026-11-23 08:00 Europe/Berlin (window Fri 15:00-Mon 08:00; now Fri 18:30)" \
            in exc.message
    wednesday = dt.datetime(2026, 11, 18, 10, 0, tzinfo=dt.timezone.utc)
    ctx.now = lambda: wednesday
    assert promote(ctx, "dev").ok


def test_alarm_in_alarm_refuses(world, built, calls):
    world.edit("dev.yml", """\
        account: "111111111111"
        gates: {alarms: [greeter-dev-errors]}
        """)
    world.stage(built)
    cw = client("cloudwatch", "111111111111")
    cw.put_metric_alarm(AlarmName="greeter-dev-errors", MetricName="Errors", Namespace="AWS/Lambda",
                        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
                        ComparisonOperator="GreaterThanOrEqualToThreshold")
    cw.set_alarm_state(AlarmName="greeter-dev-errors", StateValue="ALARM", StateReason="test")
    calls.clear()
    code, _, err = world.cli("promote", "--to", "dev")
    assert code == 3 and "alarms: in ALARM: greeter-dev-errors" in err
    assert calls.writes == []
    cw.set_alarm_state(AlarmName="greeter-dev-errors", StateValue="OK", StateReason="test")
    world.ok("promote", "--to", "dev")


def _fake_started(world, env: str, seq_after: list[dict], *, pid: int, host: str, lease_minutes: int,
                  previous_version: str | None, artifact: str, build_id: str | None = None) -> str:
    prev = seq_after[-1] if seq_after else None
    s3 = promoter("s3")
    prev_hash = "0" * 64
    if prev is not None:
        prev_hash = sha256(s3.get_object(Bucket=BUCKET, Key=f"ledger/{env}/{prev['seq']:08d}.json")["Body"].read())
    now = dt.datetime.now(dt.timezone.utc)
    record = {"type": "started", "action": "promote", "artifact": artifact, "commit": "x", "dirty": False,
              "actor": "arn:aws:sts::444444444444:assumed-role/pipeline-promoter/pipeline-mallory",
              "holder": {"actor": "arn:aws:sts::444444444444:assumed-role/pipeline-promoter/pipeline-mallory",
                         "host": host, "pid": pid, **({"build_id": build_id} if build_id else {})},
              "targets": [{"account": "111111111111", "region": "us-east-1"}],
              "lease_expires": (now + dt.timedelta(minutes=lease_minutes)).isoformat(),
              "previous": {"111111111111/us-east-1": {"version": previous_version, "sha256": None}},
              "env": env, "seq": (prev["seq"] + 1) if prev else 0, "prev": prev_hash,
              "time": (now - dt.timedelta(seconds=90)).isoformat(timespec="milliseconds")}
    key = f"ledger/{env}/{record['seq']:08d}.json"
    s3.put_object(Bucket=BUCKET, Key=key, Body=encode(record), IfNoneMatch="*")
    return key


def test_held_lock_refuses_with_holder_and_age_then_unlock(world, built, calls):
    digest = world.stage(built)
    world.ok("promote", "--to", "dev")
    key = _fake_started(world, "dev", world.ledger("dev"), pid=1, host="ci-runner-7", lease_minutes=10,
                        previous_version="1", artifact=digest)
    calls.clear()
    code, _, err = world.cli("promote", "--to", "dev", "--artifact", "cd" * 32)
    assert code == 3
    assert "lock: held by arn:aws:sts::444444444444:assumed-role/pipeline-promoter/pipeline-mallory for " in err
    assert key in err and calls.writes == []
    code, _, err = world.cli("unlock", "--env", "dev")
    assert code == 2 and "--force" in err
    code, out, _ = world.cli("unlock", "--env", "dev", "--force")
    assert code == 0 and "broken and recorded" in out
    last = world.ledger("dev")[-1]
    assert last["outcome"] == "ABORTED" and "broken by" in last["reason"] and last["closes"] is True
    assert world.live("dev", "111111111111")["Version"] == "1"
    world.ok("verify")


def test_crashed_promotion_is_reconciled_by_the_next_one(world, built, built2):
    """A started record whose process died here: the next promote rolls the unverified alias back first."""
    good = world.stage(built)
    world.ok("promote", "--to", "dev")
    world.stage(built2)
    # the dead run had published v2 and moved the alias before it died
    assert world.deploy_out_of_band("dev", "111111111111", built2[1].sha256) == "2"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    import socket

    _fake_started(world, "dev", world.ledger("dev"), pid=int(dead.stdout), host=socket.gethostname(),
                  lease_minutes=30, previous_version="1", artifact=built2[1].sha256)
    code, out, err = world.cli("promote", "--to", "dev", "--artifact", good)
    assert code == 0, err
    assert "reconciling" in out and "moved back v2 -> v1" in out
    records = world.ledger("dev")
    aborted = [r for r in records if r.get("outcome") == "ABORTED"]
    assert len(aborted) == 1 and aborted[0]["previous_version"] == "1"
    # the good artifact was already live and passed: after reconciling, nothing else to do
    assert "nothing to do" in out
    assert world.live("dev", "111111111111")["Version"] == "1"
    world.ok("verify")


def test_lease_expiry_also_frees_a_lock(world, built):
    digest = world.stage(built)
    world.ok("promote", "--to", "dev")
    key = _fake_started(world, "dev", world.ledger("dev"), pid=1, host="elsewhere", lease_minutes=-1,
                        previous_version="1", artifact=digest)
    code, _, err = world.cli("verify", "--env", "dev")
    assert code == 1 and f"lock {key} of " in err and "is dead (its lease expired at " in err
    code, out, err = world.cli("promote", "--to", "dev", "--artifact", digest)
    assert code == 0, err
    assert "reconciling" in out and world.ledger("dev")[-1]["outcome"] == "ABORTED"
    world.ok("verify")


def test_ledger_is_written_only_with_conditional_puts(world, built):
    world.stage(built)
    world.ok("promote", "--to", "dev")
    s3 = promoter("s3")
    import botocore

    try:
        s3.put_object(Bucket=BUCKET, Key="ledger/dev/00000000.json", Body=b"{}", IfNoneMatch="*")
        raise AssertionError("overwrite must fail")
    except botocore.exceptions.ClientError as exc:
        assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert json.loads(s3.get_object(Bucket=BUCKET, Key="ledger/dev/00000000.json")["Body"].read())["type"] == \
        "started"


def _codebuild_build() -> str:
    """A build started (and waited for until it ended) in the tooling account's project: its id. (The project is
    the one `bootstrap --tooling` created through the pipeline stack.)"""
    cb = client("codebuild", "444444444444")
    assert cb.list_projects()["projects"] == ["greeter-pipeline"]
    build_id = cb.start_build(projectName="greeter-pipeline", sourceTypeOverride="NO_SOURCE",
                              buildspecOverride="version: 0.2\nphases:\n  build:\n    commands:\n      - echo done\n"
                              )["build"]["id"]
    deadline = time.monotonic() + 30
    while not cb.batch_get_builds(ids=[build_id])["builds"][0]["buildComplete"]:
        assert time.monotonic() < deadline, f"build {build_id} did not end"
        time.sleep(0.05)
    return build_id


def test_lock_of_a_codebuild_holder_whose_build_ended_is_dead_at_once(world, built, built2):
    """Held elsewhere with a lease of 30 more minutes, but its CodeBuild build has ended: reconciled now."""
    good = world.stage(built)
    world.ok("promote", "--to", "dev")
    world.stage(built2)
    build_id = _codebuild_build()
    assert world.deploy_out_of_band("dev", "111111111111", built2[1].sha256) == "2"  # the build got this far
    key = _fake_started(world, "dev", world.ledger("dev"), pid=7, host="codebuild-host", lease_minutes=30,
                        previous_version="1", artifact=built2[1].sha256, build_id=build_id)
    code, doc = world.json("status", "--env", "dev")
    [held] = doc["locks"]
    assert held["key"] == key and held["holder"]["build_id"] == build_id and "has ended" in held["dead"]
    code, out, _ = world.cli("verify", "--env", "dev")
    assert code == 1 and f"lock {key} of arn:aws:sts::444444444444:assumed-role/pipeline-promoter/pipeline-mallory " \
        f"is dead (its CodeBuild build {build_id} has ended" in out
    code, out, err = world.cli("promote", "--to", "dev", "--artifact", good)
    assert code == 0, err
    assert "reconciling" in out and "moved back v2 -> v1" in out
    assert world.ledger("dev")[-1]["outcome"] == "ABORTED"
    world.ok("verify")


def test_lock_of_a_codebuild_holder_whose_build_is_unknown_still_holds(world, built):
    digest = world.stage(built)
    world.ok("promote", "--to", "dev")
    _fake_started(world, "dev", world.ledger("dev"), pid=7, host="codebuild-host", lease_minutes=30,
                  previous_version="1", artifact=digest, build_id="greeter-pipeline:not-a-build-here")
    code, _, err = world.cli("rollback", "--env", "dev", "--artifact", digest)
    assert code == 3 and "dev is locked by arn:aws:sts::444444444444:assumed-role/pipeline-promoter/" in err
    code, _, err = world.cli("verify", "--env", "dev")
    assert code == 0, err  # a live lock is no finding


def test_status_shows_a_held_lock_and_the_canary_split_verify_a_leftover_canary(world, built, built2):
    world.stage(built)
    world.ok("promote", "--to", "dev")
    digest = world.stage(built2)
    lam = deployer("lambda", "111111111111")
    v2 = lam.update_function_code(FunctionName="greeter-dev", S3Bucket=BUCKET,
                                  S3Key=f"artifacts/greeter/{digest}.zip", Publish=True)["Version"]
    lam.update_alias(FunctionName="greeter-dev", Name="live", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {v2: 0.1}})
    code, out, _ = world.cli("verify", "--env", "dev")  # no promotion holds the lock: a leftover canary
    assert code == 1 and "a canary weight is left on the alias (live: 90% v1, 10% v2)" in out
    key = _fake_started(world, "dev", world.ledger("dev"), pid=7, host="ci-runner-7", lease_minutes=10,
                        previous_version="1", artifact=digest)
    code, out, _ = world.cli("status", "--env", "dev")
    assert code == 0
    assert re.search(r"lock: dev held by arn:aws:sts::444444444444:assumed-role/pipeline-promoter/pipeline-mallory "
                     rf"for 9\ds \(promote, {key}, since 20\d\d-\d\d-\d\dT[\d:]+Z on ci-runner-7 pid 7, "
                     r"lease until 20\d\d-", out), out
    assert "canary: dev 111111111111/us-east-1: live: 90% v1, 10% v2" in out
    code, doc = world.json("status", "--env", "dev")
    assert doc["environments"][0]["canary"]["weights"] == {v2: 0.1} and doc["locks"][0]["dead"] is None
    code, out, _ = world.cli("verify", "--env", "dev")  # the split belongs to the running promotion now
    assert code == 0, out


def _stage_dirty(world, built) -> str:
    """The real artifact, staged with metadata saying its work tree was dirty (as `stage` records it)."""
    zip_path, manifest = built
    world.stage(built)
    promoter("s3").put_object(
        Bucket=BUCKET, Key=f"artifacts/greeter/{manifest.sha256}.zip", Body=zip_path.read_bytes(),
        ChecksumAlgorithm="SHA256", Metadata={"dirty": "true", "commit": manifest.commit})
    return manifest.sha256


def test_a_dirty_build_is_warned_about_in_dev_and_refused_where_gates_clean(world, built, calls):
    digest = _stage_dirty(world, built)
    code, out, err = world.cli("promote", "--to", "dev", "--artifact", digest[:12])
    assert code == 0, err
    assert (f"warning: {digest[:12]} was built from a dirty work tree: prod will refuse it; to release this "
            "change, commit it, then `pipeline build`, `pipeline stage` and start again with "
            "`pipeline promote --to dev`") in out
    world.edit("test.yml", """\
        account: "222222222222"
        gates: {requires: dev, clean: true}
        """)
    calls.clear()
    code, _, err = world.cli("promote", "--to", "test")
    assert code == 3 and err.count("\n") == 1
    assert "refused: clean: artifact was built from a dirty work tree and this env has gates.clean" in err
    assert calls.writes == []
