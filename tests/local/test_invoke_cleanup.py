"""No function process outlives the emulator: stop() and reset() kill every process group."""

from __future__ import annotations

import json
import time

import boto3
import pytest

from pipeline.local.emulator import Emulator
from pipeline.local.pool import POOL

from .helpers import LAMBDA_TRUST, REGION, make_zip, pid_alive, wait_ready

pytestmark = pytest.mark.emulator

PY_HANDLER = "import os\ndef handler(e, c):\n    return os.getpid()\n"
# Leaves a grandchild behind in the same process group, then becomes the Go test runtime.
FORKING_BOOTSTRAP = '#!/bin/sh\nsleep 300 &\nCHILD_PID=$! exec "$LAMBDA_TASK_ROOT/gofn"\n'


def _deploy(emu: Emulator, go_bootstrap: bytes) -> object:
    emu.reset()
    kw = {"endpoint_url": emu.endpoint_url, "region_name": REGION, "verify": emu.ca_bundle,
          "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    lam = boto3.client("lambda", **kw)
    iam = boto3.client("iam", **kw)
    role = iam.create_role(RoleName="cleanup", AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]
    lam.create_function(FunctionName="forker", Runtime="provided.al2023", Role=role, Handler="bootstrap",
                        Code={"ZipFile": make_zip({"bootstrap": FORKING_BOOTSTRAP, "gofn": go_bootstrap},
                                                  executable=("bootstrap", "gofn"))})
    lam.create_function(FunctionName="pyfn", Runtime="python3.12", Role=role, Handler="index.handler",
                        Code={"ZipFile": make_zip({"index.py": PY_HANDLER}, executable=())})
    wait_ready(lam, "forker")
    wait_ready(lam, "pyfn")
    return lam


def _start_processes(lam) -> list[int]:
    body = json.loads(lam.invoke(FunctionName="forker", Payload=b"{}")["Payload"].read())
    py_pid = json.loads(lam.invoke(FunctionName="pyfn", Payload=b"{}")["Payload"].read())
    pids = [body["pid"], int(body["env"]["CHILD_PID"]), py_pid]
    assert all(pid_alive(pid) for pid in pids)
    return pids


def _gone(pids: list[int], within: float = 2.0) -> bool:
    deadline = time.monotonic() + within
    while any(pid_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not any(pid_alive(pid) for pid in pids)


def test_stop_kills_every_process_and_removes_files(go_bootstrap):
    emu = Emulator().start()
    try:
        lam = _deploy(emu, go_bootstrap)
        pids = _start_processes(lam)
        task_dirs = [s._dir for s in POOL.sandboxes()]
        assert task_dirs and all(d.exists() for d in task_dirs)
    finally:
        emu.stop()
    assert _gone(pids)
    assert not any(d.exists() for d in task_dirs)
    assert POOL.sandboxes() == []


def test_reset_kills_every_process(go_bootstrap):
    with Emulator() as emu:
        lam = _deploy(emu, go_bootstrap)
        pids = _start_processes(lam)
        emu.reset()
        assert _gone(pids)
