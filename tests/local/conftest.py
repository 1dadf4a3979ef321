"""Fixtures for the emulator's real-execution tests: test bootstraps, an emulator, clients."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from pipeline.local.emulator import Emulator

from .helpers import LAMBDA_TRUST, REGION

FIXTURES = Path(__file__).parent / "fixtures"


def _go_build(src: Path, out: Path, goarch: str) -> Path:
    if shutil.which("go") is None:
        pytest.skip("go toolchain not installed")
    env = {**os.environ, "CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": goarch, "GOFLAGS": "-buildvcs=false"}
    subprocess.run(["go", "build", "-trimpath", "-o", str(out), "."], cwd=src, env=env, check=True,
                   capture_output=True, timeout=120)
    return out


@pytest.fixture(scope="session")
def go_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The Runtime API test program (tests/local/fixtures/gofn), built for this host."""
    out = tmp_path_factory.mktemp("gofn") / "bootstrap"
    return _go_build(FIXTURES / "gofn", out, "amd64" if _host_arch() == "x86_64" else "arm64").read_bytes()


@pytest.fixture(scope="session")
def foreign_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, bytes]:
    """(lambda architecture, binary) of a tiny program built for the other CPU than this host's."""
    arch = "arm64" if _host_arch() == "x86_64" else "x86_64"
    out = tmp_path_factory.mktemp("foreign") / "bootstrap"
    return arch, _go_build(FIXTURES / "arm64", out, "arm64" if arch == "arm64" else "amd64").read_bytes()


def _host_arch() -> str:
    from pipeline.local.elf import host_architecture

    return host_architecture()


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    emu = Emulator().start()
    emu.reset()  # moto's state is per Python process, shared with other modules' emulators
    yield emu
    emu.stop()


@pytest.fixture(scope="module")
def clients(emulator: Emulator) -> dict[str, object]:
    kw = {"endpoint_url": emulator.endpoint_url, "region_name": REGION, "verify": emulator.ca_bundle,
          "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    return {"lambda": boto3.client("lambda", **kw), "iam": boto3.client("iam", **kw),
            "sts": boto3.client("sts", **kw), "kw": kw}


@pytest.fixture(scope="module")
def lam(clients: dict[str, object]) -> object:
    return clients["lambda"]


@pytest.fixture(scope="module")
def role(clients: dict[str, object]) -> str:
    iam = clients["iam"]
    return iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]


@pytest.fixture(scope="session")
def service_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The example service's real binary (go-function: the `api` and `worker` handlers), built for this host."""
    out = tmp_path_factory.mktemp("service") / "bootstrap"
    src = Path(__file__).resolve().parents[2] / "go-function"
    return _go_build(src, out, "amd64" if _host_arch() == "x86_64" else "arm64").read_bytes()
