"""Shared fixtures: one embedded emulator per test session, reset (and roles re-assumed) per test."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import REPO, CallLog

# Tests run the emulator's `instant` timing (every state passed through, in milliseconds) unless the
# run chose one: `PIPELINE_EMULATOR_TIMING=aws PIPELINE_EMULATOR_TIME_SCALE=0.05 pytest ...`. Set in
# os.environ so the CLI's own processes (`demo`, `--local`, launched promoters) inherit it.
os.environ.setdefault("PIPELINE_EMULATOR_TIMING", "instant")


@pytest.fixture(scope="session")
def emulator() -> Iterator[object]:
    from pipeline.local.emulator import Emulator

    with Emulator() as emu:
        yield emu


@pytest.fixture
def aws(emulator, monkeypatch) -> Iterator[object]:
    """A clean emulator for this test, with boto3 pointed at it through the standard variables."""
    emulator.reset()
    import boto3

    boto3.DEFAULT_SESSION = None  # it caches the credentials of whatever AWS_* a previous test exported
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    for key, value in emulator.environment().items():
        monkeypatch.setenv(key, value)
    yield emulator


@pytest.fixture
def envdir(tmp_path, monkeypatch) -> Path:
    """A copy of the repo's environments/ in a temp dir that is also the working directory."""
    target = tmp_path / "environments"
    shutil.copytree(REPO / "environments", target)
    monkeypatch.chdir(tmp_path)
    return target


@pytest.fixture
def no_real_aws(monkeypatch) -> None:
    """Make an accidental real AWS call impossible: nowhere to send it."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.pop("AWS_PROFILE", None)


@pytest.fixture
def calls(monkeypatch) -> CallLog:
    """Count every API call of every SessionFactory made during the test (botocore event hooks)."""
    from pipeline.aws import session as session_module

    log = CallLog()
    original = session_module.SessionFactory.__init__

    def patched(self, *args, **kwargs):
        kwargs["event_hooks"] = [*(kwargs.get("event_hooks") or []), ("before-call", log.hook)]
        original(self, *args, **kwargs)

    monkeypatch.setattr(session_module.SessionFactory, "__init__", patched)
    return log


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> tuple[Path, object]:
    """The real Go function, built once per test session: (zip path, manifest)."""
    from pipeline.artifact.build import build_artifact

    dist = tmp_path_factory.mktemp("dist")
    manifest = build_artifact(REPO / "go-function", dist, "greeter", "x86_64", "1.0.0-test", run_tests=False)
    return dist / f"{manifest.stem}.zip", manifest
