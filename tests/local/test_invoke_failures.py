"""Bootstraps that misbehave or cannot start: each ends as `FunctionError: Unhandled` with a clear reason."""

from __future__ import annotations

import base64
import json
import os
import uuid

import pytest

from pipeline.local import execenv

from .helpers import make_zip, wait_ready

pytestmark = pytest.mark.emulator


def _create(lam, role, code: bytes, runtime: str = "provided.al2023", **extra) -> str:
    name = f"bad-{uuid.uuid4().hex[:8]}"
    lam.create_function(FunctionName=name, Runtime=runtime, Role=role, Handler="bootstrap",
                        Code={"ZipFile": code}, **extra)
    wait_ready(lam, name)
    return name


def _invoke(lam, name: str) -> tuple[dict, dict, str]:
    resp = lam.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
    log = base64.b64decode(resp.get("LogResult", "")).decode("utf-8", "replace")
    return resp, json.loads(resp["Payload"].read()), log


def test_garbage_output_then_exit(lam, role):
    script = "#!/bin/sh\necho '@@@ not a runtime %%%'\nhead -c 32 /dev/urandom\nexit 7\n"
    resp, body, log = _invoke(lam, _create(lam, role, make_zip({"bootstrap": script})))
    assert resp["StatusCode"] == 200 and resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"].endswith("Runtime exited with error: exit status 7")
    assert "@@@ not a runtime %%%" in log
    assert "Runtime.ExitError" in log


def test_exit_zero_before_answering(lam, role):
    script = "#!/bin/sh\necho starting\nexit 0\n"
    resp, body, _ = _invoke(lam, _create(lam, role, make_zip({"bootstrap": script})))
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert "Runtime exited without providing a reason" in body["errorMessage"]


def test_killed_by_signal(lam, role):
    script = "#!/bin/sh\nkill -SEGV $$\n"
    _, body, _ = _invoke(lam, _create(lam, role, make_zip({"bootstrap": script})))
    assert body["errorMessage"].endswith("Runtime exited with error: signal: segmentation fault")


def test_runtime_that_never_polls_times_out_in_init(lam, role, monkeypatch):
    monkeypatch.setattr(execenv, "INIT_TIMEOUT_S", 0.5)
    script = "#!/bin/sh\necho waiting forever\nexec sleep 60\n"
    resp, body, log = _invoke(lam, _create(lam, role, make_zip({"bootstrap": script})))
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 0.50 seconds" in body["errorMessage"]
    assert "init phase" in body["errorMessage"]
    assert "waiting forever" in log


def test_missing_bootstrap(lam, role):
    _, body, _ = _invoke(lam, _create(lam, role, make_zip({"main": "#!/bin/sh\n"}, executable=("main",))))
    assert body["errorType"] == "Runtime.InvalidEntrypoint"
    assert "Couldn't find valid bootstrap" in body["errorMessage"]


def test_bootstrap_not_executable(lam, role):
    _, body, _ = _invoke(lam, _create(lam, role, make_zip({"bootstrap": "#!/bin/sh\n"}, executable=())))
    assert body["errorType"] == "Runtime.InvalidEntrypoint"
    assert "permission denied" in body["errorMessage"]


def test_zip_slip_entry_is_refused(lam, role):
    code = make_zip({"bootstrap": "#!/bin/sh\nexit 0\n", "../../escaped.txt": "x"})
    resp, body, _ = _invoke(lam, _create(lam, role, code))
    assert resp["FunctionError"] == "Unhandled"
    assert "points outside the task directory" in body["errorMessage"]


def test_code_that_is_not_a_zip(lam, role):
    _, body, _ = _invoke(lam, _create(lam, role, b"this is not a zip file at all"))
    assert "not a valid zip file" in body["errorMessage"]


def test_unsupported_runtime_says_so(lam, role):
    name = _create(lam, role, make_zip({"index.js": "exports.handler = async () => 1"}), runtime="nodejs20.x")
    resp, body, _ = _invoke(lam, name)
    assert resp["FunctionError"] == "Unhandled"
    assert "cannot run runtime 'nodejs20.x'" in body["errorMessage"]


def test_binary_for_other_arch_than_configured_fails_like_exec_format_error(lam, role, foreign_bootstrap):
    arch, binary = foreign_bootstrap
    other = "x86_64" if arch == "arm64" else "arm64"
    name = _create(lam, role, make_zip({"bootstrap": binary}), Architectures=[other])
    _, body, _ = _invoke(lam, name)
    assert body["errorType"] == "Runtime.InvalidEntrypoint"
    assert "exec format error" in body["errorMessage"]
    assert f"is a Linux {arch} binary but the function's architecture is {other}" in body["errorMessage"]


def test_foreign_arch_without_qemu_names_the_missing_binary(lam, role, foreign_bootstrap, monkeypatch,
                                                            tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no qemu on it
    arch, binary = foreign_bootstrap
    name = _create(lam, role, make_zip({"bootstrap": binary}), Architectures=[arch])
    resp, body, _ = _invoke(lam, name)
    assert resp["FunctionError"] == "Unhandled"
    qemu = "qemu-aarch64-static" if arch == "arm64" else "qemu-x86_64-static"
    assert f"needs {qemu} on PATH, which was not found" in body["errorMessage"]


def test_foreign_arch_runs_through_qemu_when_installed(lam, role, foreign_bootstrap, go_bootstrap,
                                                      monkeypatch, tmp_path):
    # A stand-in qemu: records how it was called, then runs the host build of the same test program.
    host_build = tmp_path / "host-bootstrap"
    host_build.write_bytes(go_bootstrap)
    host_build.chmod(0o755)
    arch, binary = foreign_bootstrap
    qemu = tmp_path / ("qemu-aarch64-static" if arch == "arm64" else "qemu-x86_64-static")
    qemu.write_text(f'#!/bin/sh\necho "qemu called with $#: $1"\nexec {host_build}\n')
    qemu.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    name = _create(lam, role, make_zip({"bootstrap": binary}), Architectures=[arch])
    resp, body, log = _invoke(lam, name)
    assert "FunctionError" not in resp
    assert body["env"]["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert "qemu called with 1: " in log and log.split("qemu called with 1: ")[1].split("\n")[0].endswith(
        "/task/bootstrap")
