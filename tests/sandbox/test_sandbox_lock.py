"""One `sandbox up`/`deploy` at a time, through the CLI on the emulator: the lock is an S3 conditional write in the
sandbox bucket with a lease and a holder; a second run exits 3 naming the holder, a dead lock is taken over, and
`sandbox unlock` frees a dead or own lock (a live one only with --force)."""

from __future__ import annotations

import datetime as dt
import os
import socket

import boto3
import pytest

from pipeline.core import sandbox_guard as G

pytestmark = pytest.mark.emulator

ACCOUNT = "123456789012"  # the emulator's base credentials
BUCKET_PREFIX = "greeter-sbx-alice-"


def _bucket() -> str:
    names = [b["Name"] for b in boto3.client("s3", region_name="us-east-1").list_buckets()["Buckets"]]
    return next(n for n in names if n.startswith(BUCKET_PREFIX))


def _hold_lock(holder: str, *, pid: int, minutes: int = 10) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    body = G.lock_body(holder, socket.gethostname(), pid, "other-run", now, minutes * 60)
    boto3.client("s3", region_name="us-east-1").put_object(Bucket=_bucket(), Key=G.LOCK_KEY, Body=body)


def test_a_second_concurrent_up_or_deploy_exits_3_naming_the_holder(sh, calls, prebuilt):
    sh.ok("sandbox", "up")
    _hold_lock("arn:aws:sts::123456789012:assumed-role/developer/bob", pid=os.getppid())  # a live process
    calls.clear()
    for action in (["up"], ["deploy", "--skip-tests"]):
        code, _, err = sh.run("sandbox", *action)
        assert code == 3, err
        assert "is locked: arn:aws:sts::123456789012:assumed-role/developer/bob" in err, err
    assert [c for c in calls.writes if c != ("s3", "PutObject")] == []  # only the lost conditional puts
    assert "UpdateStack" not in {op for _, op in calls.calls}


def test_a_dead_lock_is_taken_over(sh):
    sh.ok("sandbox", "up")
    _hold_lock("crashed", pid=os.getpid(), minutes=-1)  # lease over
    sh.ok("sandbox", "up")
    s3 = boto3.client("s3", region_name="us-east-1")
    assert "Contents" not in s3.list_objects_v2(Bucket=_bucket(), Prefix=G.LOCK_KEY)  # released at the end


def test_unlock_frees_a_dead_or_own_lock_and_refuses_a_live_one_without_force(sh):
    sh.ok("sandbox", "up")
    assert "is not locked" in sh.ok("sandbox", "unlock")
    bob = "arn:aws:sts::123456789012:assumed-role/developer/bob"
    _hold_lock(bob, pid=os.getppid())  # live
    code, _, err = sh.run("sandbox", "unlock")
    assert code == 3 and f"locked by {bob}" in err and "--force" in err
    assert f"freed the lock of sandbox alice in {ACCOUNT}/us-east-1 (held by {bob})" in sh.ok("sandbox", "unlock",
                                                                                             "--force")
    _hold_lock(bob, pid=os.getppid(), minutes=-1)  # lease over
    assert "dead" in sh.ok("sandbox", "unlock")
    sh.ok("sandbox", "up")  # free again
