"""The repository's buildspec.yml run by the emulator's CodeBuild, in the project `bootstrap --tooling`
deployed, as its service role, install phase included: the Build action stages the artifact and exports
ARTIFACT_SHA, the Promote-dev action promotes exactly those bytes; the ledger names the build."""

from __future__ import annotations

import io
import json
import subprocess
import time
import zipfile

import boto3
import pytest
from helpers import REPO, as_codepipeline, promoter

pytestmark = pytest.mark.emulator
BUCKET = "greeter-artifacts-444444444444-us-east-1"
TOOLING = "444444444444"


def _source_zip(envdir) -> bytes:
    """The repository as CodeBuild gets it (tracked files), with the test world's environments/."""
    tracked = subprocess.run(["git", "ls-files", "pipeline", "templates", "go-function", "setup.cfg",
                              "pyproject.toml", "README.md", "buildspec.yml"], cwd=REPO, check=True,
                             capture_output=True, text=True).stdout.split()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in tracked:
            if (REPO / name).is_file():
                archive.write(REPO / name, name)
        for path in sorted(envdir.rglob("*")):
            if path.is_file():
                archive.write(path, f"environments/{path.relative_to(envdir)}")
    return buf.getvalue()


def _tooling(service: str):
    """A client of the tooling account (the organization's admin role there)."""
    sts = boto3.client("sts")
    keys = sts.assume_role(RoleArn=f"arn:aws:iam::{TOOLING}:role/OrganizationAccountAccessRole",
                           RoleSessionName="test")["Credentials"]
    return boto3.client(service, aws_access_key_id=keys["AccessKeyId"], aws_secret_access_key=keys["SecretAccessKey"],
                        aws_session_token=keys["SessionToken"])


def _build(cb, source_key: str, variables: dict[str, str]) -> dict:
    started = cb.start_build(projectName="greeter-pipeline", sourceTypeOverride="S3",
                             sourceLocationOverride=f"{BUCKET}/{source_key}",
                             environmentVariablesOverride=[{"name": k, "value": v, "type": "PLAINTEXT"}
                                                           for k, v in variables.items()])
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        build = cb.batch_get_builds(ids=[started["build"]["id"]])["builds"][0]
        if build["buildComplete"]:
            return build
        time.sleep(0.05)
    raise AssertionError("the build did not end in 240 s")


def _log(build: dict) -> str:
    logs = _tooling("logs")
    events = logs.get_log_events(logGroupName=build["logs"]["groupName"],
                                 logStreamName=build["logs"]["streamName"])["events"]
    return "\n".join(e["message"] for e in events)


@pytest.mark.bootstrapped("dev")
def test_the_real_buildspec_builds_stages_and_promotes_in_the_emulators_codebuild(world):
    s3 = as_codepipeline("s3")
    key = "greeter-pipeline/Source/test.zip"  # in the pipeline's artifact store
    s3.put_object(Bucket=BUCKET, Key=key, Body=_source_zip(world.envdir))
    cb = _tooling("codebuild")

    build = _build(cb, key, {"PIPELINE_ACTION": "build", "PIPELINE_SKIP_TESTS": "1", "GOTOOLCHAIN": "local"})
    log = _log(build)
    assert build["buildStatus"] == "SUCCEEDED", log[-4000:]
    assert build["initiator"] == "assumed-role/OrganizationAccountAccessRole/test"
    install = next(p for p in build["phases"] if p["phaseType"] == "INSTALL")
    assert install["phaseStatus"] == "SUCCEEDED"  # pip install -e '.[dev]' ran, offline, in the image
    exported = {v["name"]: v["value"] for v in build["exportedEnvironmentVariables"]}
    sha = exported["ARTIFACT_SHA"]
    assert len(sha) == 64 and f"ARTIFACT_SHA={sha}" in log
    promoter("s3").head_object(Bucket=BUCKET, Key=f"artifacts/greeter/{sha}.zip")
    records = [json.loads(line) for line in log.splitlines() if line.startswith('{"time"')]
    assert records and {r["build_id"] for r in records} == {build["id"]}

    promote = _build(cb, key, {"PIPELINE_ACTION": "promote", "PIPELINE_ENV": "dev", "ARTIFACT_SHA": sha,
                               "PIPELINE_SKIP_TESTS": "1", "GOTOOLCHAIN": "local"})
    log = _log(promote)
    assert promote["buildStatus"] == "SUCCEEDED", log[-4000:]
    exported = {v["name"]: v["value"] for v in promote["exportedEnvironmentVariables"]}
    assert exported["SMOKE_SUMMARY"] == f"dev: PASSED, 2/2 smoke checks passed for {sha[:12]}"
    outcome = world.ledger("dev")[-1]
    assert outcome["artifact"] == sha and outcome["outcome"] == "PASSED"
    assert outcome["build_id"] == promote["id"]
    assert outcome["actor"].endswith("/pipeline-codebuild-" + promote["id"].split(":", 1)[1])
    # post_build: the promotion board in the tooling bucket, as the build's role, its presigned URL in the log
    import os
    import re
    import ssl
    import urllib.request

    url = re.search(r"board: s3://\S+/board/index\.html, for \d+s at (http\S+?)\"", log)
    assert url, log[-4000:]
    tls = ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE"))  # the emulator's own CA, as boto3
    with urllib.request.urlopen(url.group(1).encode().decode("unicode_escape"), timeout=10, context=tls) as answer:
        page = answer.read().decode()
    assert '<td class="cell tone-ok" data-env="dev"' in page and sha[:12] in page
