"""The real buildspec.yml, end to end on the emulator through `pipeline buildspec run`:
build stage -> Deploy-dev -> Deploy-test (each receiving ARTIFACT_SHA) -> prod with an approval."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO, promoter

pytestmark = pytest.mark.emulator
BUCKET = "greeter-artifacts-444444444444-us-east-1"


@pytest.fixture
def source(world, monkeypatch) -> Path:
    """The work directory as CodeBuild gets it from a full clone: buildspec, config, Go code, one commit."""
    src = world.envdir.parent
    shutil.copy(REPO / "buildspec.yml", src / "buildspec.yml")
    shutil.copytree(REPO / "go-function", src / "go-function")
    git = ["git", "-c", "user.name=ci", "-c", "user.email=ci@example.com"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "source"]):
        subprocess.run([*git, *args], cwd=src, check=True, capture_output=True)
    # the buildspec calls `pipeline` and `python`: this venv's (install phase skipped locally)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return src


def stage(world, src: Path, name: str, *env: str, env_file: Path | None = None) -> tuple[int, dict, str]:
    """One pipeline action: `buildspec run` with the action's variables; exported ones go to <name>.json."""
    args = ["buildspec", "run", "--file", str(src / "buildspec.yml"), "--skip-phase", "install",
            "--project", "greeter-pipeline", "--export-file", str(src / f"{name}.json"),
            "--env", "PIPELINE_SKIP_TESTS=1", "--env", "GOTOOLCHAIN=local"]
    if env_file:
        args += ["--env-file", str(env_file)]
    for item in env:
        args += ["--env", item]
    code, out, err = world.cli("--output", "json", *args)
    return code, json.loads(out), err


def test_buildspec_builds_once_then_promotes_those_bytes_to_dev_test_and_approved_prod(world, source):
    code, build, err = stage(world, source, "build")
    assert code == 0, err[-3000:]
    sha = build["exported"]["ARTIFACT_SHA"]
    assert len(sha) == 64 and build["exported"]["SMOKE_SUMMARY"] == "none"
    promoter("s3").head_object(Bucket=BUCKET, Key=f"artifacts/greeter/{sha}.zip")
    # in CodeBuild (CODEBUILD_BUILD_ID set) the product logs one JSON object per line, with the build id
    records = [json.loads(line) for line in err.splitlines() if line.startswith('{"time"')]
    assert records and {r["build_id"] for r in records} == {build["build_id"]}
    assert {"validate", "build"} <= {r["command"] for r in records}

    for env in ("dev", "test"):
        code, doc, err = stage(world, source, env, "PIPELINE_ACTION=promote", f"PIPELINE_ENV={env}",
                               env_file=source / "build.json")
        assert code == 0, err[-3000:]
        assert doc["exported"]["ARTIFACT_SHA"] == sha
        assert doc["exported"]["SMOKE_SUMMARY"] == f"{env}: PASSED, 2/2 smoke checks passed for {sha[:12]}"
        outcome = world.ledger(env)[-1]
        assert outcome["artifact"] == sha and outcome["outcome"] == "PASSED"
        assert outcome["build_id"] == doc["build_id"]
        assert world.live(env, {"dev": "111111111111", "test": "222222222222"}[env])["CodeSha256"]

    world.bootstrap("prod")
    # no approval from anywhere: the gate refuses (promote exits 3), the stage fails naming the command
    code, doc, err = stage(world, source, "prod", "PIPELINE_ACTION=promote", "PIPELINE_ENV=prod",
                           env_file=source / "build.json")
    assert code == 1 and doc["failure"]["phase"] == "build" and doc["failure"]["exit_code"] == 3
    assert "approval: this environment needs an approval" in err
    assert doc["error"].startswith(f"{source / 'buildspec.yml'}: phase build failed: command 6 `if [ ")
    # the explicit approval path outside CodePipeline: PIPELINE_APPROVE=1 -> --approve, recorded as this build
    code, doc, err = stage(world, source, "prod", "PIPELINE_ACTION=promote", "PIPELINE_ENV=prod",
                           "PIPELINE_APPROVE=1", env_file=source / "build.json")
    assert code == 0, err[-3000:]
    outcome = world.ledger("prod")[-1]
    assert outcome["outcome"] == "PASSED" and outcome["artifact"] == sha
    assert outcome["build_id"] == doc["build_id"]
    assert outcome["approval"] == {"approver": "arn:aws:sts::123456789012:user/moto",
                                   "reason": f"approved by PIPELINE_APPROVE=1 in {doc['build_id']}"}
    # the session names say who acted: the CodeBuild build
    assert outcome["actor"].endswith("/pipeline-codebuild-" + doc["build_id"].split(":", 1)[1])
