"""CodeBuild builds run for real in the emulator: StartBuild runs the buildspec (the product's runner) as the
project's service role, with the project's variables, the overrides and CODEBUILD_*; BatchGetBuilds shows
the phases and status; the log goes to CloudWatch Logs as the role; a denied call fails the build with
AccessDenied in its log; StopBuild ends running commands."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from .events_support import execution_role
from .helpers import make_zip, until

pytestmark = pytest.mark.emulator
CODEBUILD_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
BUCKET = f"cb-src-{uuid.uuid4().hex[:8]}"
BUILDSPEC = """version: 0.2
env:
  variables: {FROM_SPEC: spec, BOTH: spec}
  exported-variables: [RESULT]
phases:
  install:
    commands:
      - echo "installing in $CODEBUILD_SRC_DIR"
  build:
    commands:
      - python -c 'import boto3; print("ARN=" + boto3.client("sts").get_caller_identity()["Arn"])'
      - echo "vars $FROM_SPEC $FROM_PROJECT $BOTH $CODEBUILD_BUILD_NUMBER $CODEBUILD_INITIATOR"
      - cat hello.txt
      - export RESULT=made-$BOTH
      - {fail}
  post_build:
    commands:
      - echo "post_build succeeding=$CODEBUILD_BUILD_SUCCEEDING"
"""



@pytest.fixture(scope="module")
def project(clients, emulator) -> dict[str, object]:
    import boto3

    s3 = boto3.client("s3", **clients["kw"])
    s3.create_bucket(Bucket=BUCKET)
    statements = [
        {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/src/*"},
    ]
    role_name, role_arn = execution_role(clients["iam"], statements, trust=CODEBUILD_TRUST)
    cb = boto3.client("codebuild", **clients["kw"])
    name = f"proj-{uuid.uuid4().hex[:6]}"
    cb.create_project(name=name, source={"type": "S3", "location": f"{BUCKET}/src/ok.zip"},
                      artifacts={"type": "NO_ARTIFACTS"}, serviceRole=role_arn,
                      environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
                                   "computeType": "BUILD_GENERAL1_SMALL",
                                   "environmentVariables": [{"name": "FROM_PROJECT", "value": "project"},
                                                            {"name": "BOTH", "value": "project"}]},
                      logsConfig={"cloudWatchLogs": {"status": "ENABLED", "groupName": f"/aws/codebuild/{name}"}})
    for key, fail in (("ok", "echo fine"), ("bad", "ls /no/such/file")):
        s3.put_object(Bucket=BUCKET, Key=f"src/{key}.zip",
                      Body=make_zip({"buildspec.yml": BUILDSPEC.replace("{fail}", fail),
                                     "hello.txt": "hello source\n"}))
    s3.put_object(Bucket=BUCKET, Key="other/ok.zip", Body=make_zip({"buildspec.yml": BUILDSPEC, "hello.txt": "x"}))
    s3.put_object(Bucket=BUCKET, Key="src/slow.zip", Body=make_zip({"buildspec.yml": "version: 0.2\nphases:\n  build:\n"
                                                                                  "    commands:\n      - sleep 60\n"}))
    return {"name": name, "role": role_name, "cb": cb, "logs": boto3.client("logs", **clients["kw"])}


def _wait(cb, build_id: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        build = cb.batch_get_builds(ids=[build_id])["builds"][0]
        if build["buildComplete"]:
            return build
        time.sleep(0.05)
    raise AssertionError(f"build {build_id} did not end in {timeout} s")


def _log(project, build: dict) -> str:
    events = project["logs"].get_log_events(logGroupName=build["logs"]["groupName"],
                                            logStreamName=build["logs"]["streamName"])["events"]
    return "\n".join(e["message"] for e in events)


def test_a_build_runs_the_buildspec_as_the_service_role_and_exports_its_variables(project, clients):
    cb = project["cb"]
    started = cb.start_build(projectName=project["name"],
                             environmentVariablesOverride=[{"name": "BOTH", "value": "override", "type": "PLAINTEXT"}])
    build = _wait(cb, started["build"]["id"])
    assert build["buildStatus"] == "SUCCEEDED", [(p["phaseType"], p.get("contexts")) for p in build["phases"]]
    assert build["exportedEnvironmentVariables"] == [{"name": "RESULT", "value": "made-override"}]
    phases = [p["phaseType"] for p in build["phases"]]
    assert phases[:4] == ["SUBMITTED", "QUEUED", "PROVISIONING", "DOWNLOAD_SOURCE"]
    assert phases[-1] == "COMPLETED" and "BUILD" in phases and "POST_BUILD" in phases
    assert all(p["phaseStatus"] == "SUCCEEDED" for p in build["phases"][:-1])
    log = _log(project, build)
    assert f"ARN=arn:aws:sts::123456789012:assumed-role/{project['role']}/" in log
    assert f"vars spec project override {build['buildNumber']} user/admin" in log
    assert "hello source" in log and "[Container] Entering phase BUILD" in log


def test_a_failing_command_fails_build_and_still_runs_post_build(project, clients):
    cb = project["cb"]
    started = cb.start_build(projectName=project["name"], sourceTypeOverride="S3",
                             sourceLocationOverride=f"{BUCKET}/src/bad.zip")
    build = _wait(cb, started["build"]["id"])
    assert build["buildStatus"] == "FAILED"
    failed = next(p for p in build["phases"] if p["phaseType"] == "BUILD")
    assert failed["phaseStatus"] == "FAILED"
    assert failed["contexts"][0]["statusCode"] == "COMMAND_EXECUTION_ERROR"
    assert "ls /no/such/file" in failed["contexts"][0]["message"]
    assert build["exportedEnvironmentVariables"] == []
    assert "post_build succeeding=0" in _log(project, build)


def test_a_source_the_role_may_not_read_fails_download_source_with_access_denied(project, clients):
    cb = project["cb"]
    started = cb.start_build(projectName=project["name"], sourceTypeOverride="S3",
                             sourceLocationOverride=f"{BUCKET}/other/ok.zip")
    build = _wait(cb, started["build"]["id"])
    assert build["buildStatus"] == "FAILED"
    download = next(p for p in build["phases"] if p["phaseType"] == "DOWNLOAD_SOURCE")
    assert download["phaseStatus"] == "FAILED" and "AccessDenied" in download["contexts"][0]["message"]
    assert "AccessDenied" in _log(project, build)
    assert not any(p["phaseType"] == "BUILD" for p in build["phases"])


def test_stop_build_ends_the_running_commands(project):
    cb = project["cb"]
    started = cb.start_build(projectName=project["name"], sourceTypeOverride="S3",
                             sourceLocationOverride=f"{BUCKET}/src/slow.zip")
    build_id = started["build"]["id"]
    deadline = time.monotonic() + 30
    while cb.batch_get_builds(ids=[build_id])["builds"][0]["currentPhase"] != "BUILD":
        assert time.monotonic() < deadline, "the build never reached BUILD"
        time.sleep(0.05)
    begun = time.monotonic()
    cb.stop_build(id=build_id)
    build = _wait(cb, build_id, timeout=10)
    assert build["buildStatus"] == "STOPPED" and time.monotonic() - begun < 10
    phase = next(p for p in build["phases"] if p["phaseType"] == "BUILD")
    assert phase["phaseStatus"] == "STOPPED" and phase["contexts"][0]["statusCode"] == "BUILD_STOPPED"
    assert build_id in cb.list_builds_for_project(projectName=project["name"])["ids"]


def test_a_build_reports_its_projects_timeout_or_startbuilds_override(project, clients):
    import boto3

    cb = project["cb"]
    name = f"proj-{uuid.uuid4().hex[:6]}"
    role = cb.batch_get_projects(names=[project["name"]])["projects"][0]["serviceRole"]
    cb.create_project(name=name, source={"type": "NO_SOURCE", "location": "unused", "buildspec": (
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\n")}, artifacts={"type": "NO_ARTIFACTS"},
                      serviceRole=role, timeoutInMinutes=25, queuedTimeoutInMinutes=100,
                      environment={"type": "LINUX_CONTAINER", "image": "x", "computeType": "BUILD_GENERAL1_SMALL"})
    build = _wait(cb, cb.start_build(projectName=name)["build"]["id"])
    assert (build["timeoutInMinutes"], build["queuedTimeoutInMinutes"]) == (25, 100)
    assert build["buildStatus"] == "SUCCEEDED", build["phases"]
    overridden = cb.start_build(projectName=name, timeoutInMinutesOverride=7)["build"]
    assert overridden["timeoutInMinutes"] == 7
    _wait(boto3.client("codebuild", **clients["kw"]), overridden["id"])


def _inline_project(project, commands: list[str], **extra) -> str:
    """A NO_SOURCE project of the fixture's role whose inline buildspec runs `commands` in its build phase."""
    cb = project["cb"]
    name = f"proj-{uuid.uuid4().hex[:6]}"
    role = cb.batch_get_projects(names=[project["name"]])["projects"][0]["serviceRole"]
    spec = "version: 0.2\nphases:\n  build:\n    commands:\n" + "".join(f"      - {c}\n" for c in commands)
    cb.create_project(name=name, source={"type": "NO_SOURCE", "location": "unused", "buildspec": spec},
                      artifacts={"type": "NO_ARTIFACTS"}, serviceRole=role,
                      environment={"type": "LINUX_CONTAINER", "image": "x", "computeType": "BUILD_GENERAL1_SMALL"},
                      logsConfig={"cloudWatchLogs": {"status": "ENABLED", "groupName": f"/aws/codebuild/{name}"}},
                      **extra)
    return name


def test_a_build_still_running_at_its_timeout_ends_timed_out(project):
    from pipeline.local import timing

    cb = project["cb"]
    name = _inline_project(project, ["echo started", "sleep 60", "echo never"], timeoutInMinutes=5)
    with timing.using(timing.profile("instant", 0.002)):  # 5 minutes x 0.002: the build may run 0.6 s
        begun = time.monotonic()
        build = _wait(cb, cb.start_build(projectName=name)["build"]["id"], timeout=30)
    assert build["buildStatus"] == "TIMED_OUT" and 0.6 <= time.monotonic() - begun < 30
    phase = next(p for p in build["phases"] if p["phaseType"] == "BUILD")
    assert phase["phaseStatus"] == "TIMED_OUT" and phase["contexts"][0]["statusCode"] == "BUILD_TIMED_OUT"
    log = _log(project, build)
    assert "started" in log and "never" not in log and "Build has timed out." in log


def test_the_log_shows_a_phases_lines_while_it_still_runs(project):
    cb = project["cb"]
    name = _inline_project(project, ["echo streamed-line", "sleep 60"])
    build_id = cb.start_build(projectName=name)["build"]["id"]

    def streamed():
        build = cb.batch_get_builds(ids=[build_id])["builds"][0]
        if build["currentPhase"] != "BUILD":
            return None
        return build if "streamed-line" in _log(project, build) else None

    build = until(streamed)
    assert not build["buildComplete"]  # the command after the echo still runs
    cb.stop_build(id=build_id)
    assert _wait(cb, build_id, timeout=10)["buildStatus"] == "STOPPED"




def test_unknown_project_and_build_are_aws_errors(project):
    from botocore.exceptions import ClientError

    cb = project["cb"]
    with pytest.raises(ClientError) as caught:
        cb.start_build(projectName="no-such-project")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    answer = cb.batch_get_builds(ids=[f"{project['name']}:{uuid.uuid4()}"])
    assert answer["builds"] == [] and len(answer["buildsNotFound"]) == 1


def test_a_build_codepipeline_starts_takes_its_input_artifact_and_names_the_pipeline(project, clients):
    """The contract of the emulator's CodePipeline: StartBuild with `X-Emulator-Codepipeline` (the action's
    input artifacts) builds from the first one, and the initiator is `codepipeline/<pipeline>`."""
    import boto3

    cb = boto3.client("codebuild", **clients["kw"])
    header = json.dumps({"pipeline": "demo-pipeline", "executionId": "e-1", "stage": "Build", "action": "Build",
                         "inputArtifacts": [{"name": "Source", "bucket": BUCKET, "key": "src/ok.zip"}],
                         "outputArtifacts": []})

    def add_header(request, **_):
        request.headers["X-Emulator-Codepipeline"] = header

    cb.meta.events.register("before-sign.codebuild.StartBuild", add_header)
    started = cb.start_build(projectName=project["name"])
    build = _wait(cb, started["build"]["id"])
    assert build["buildStatus"] == "SUCCEEDED"
    assert build["initiator"] == "codepipeline/demo-pipeline"
    assert "vars spec project project" in _log(project, build) and "codepipeline/demo-pipeline" in _log(project, build)
