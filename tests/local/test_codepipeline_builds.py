"""CodeBuild actions in the emulator's CodePipeline: an action's output artifact is its buildspec's `artifacts`
files, uploaded as the project's role (a role that may not write the artifact store fails UPLOAD_ARTIFACTS) and
read by the next action; two builds of one runOrder run at the same time."""

from __future__ import annotations

import io
import zipfile

import pytest

from . import pipeline_support as ps
from .helpers import make_zip

pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def world(clients) -> dict:
    return ps.make_world(clients, "builds")


MAKE = """version: 0.2
phases:
  build:
    commands:
      - mkdir -p out/sub
      - echo made-by-make > out/sub/result.txt
      - cp next.yml out/buildspec.yml
artifacts:
  files: ["**/*"]
  base-directory: out
"""


NEXT = """version: 0.2
env:
  exported-variables: [RESULT]
phases:
  build:
    commands:
      - export RESULT=$(cat sub/result.txt)
"""


def test_a_build_actions_output_artifact_is_its_buildspecs_files_and_the_next_action_builds_from_it(world):
    s3 = world["s3"]
    s3.put_object(Bucket=world["bucket"], Key="source/make.zip",
                  Body=make_zip({"buildspec.yml": MAKE, "next.yml": NEXT}))
    project = ps.project(world, may_write=True)
    name = ps.pipeline(world, {"name": "Build", "actions": [
        ps.build_action("Make", project, "Source", outputs="Made"),
        ps.build_action("Use", project, "Made", namespace="UseVars", run_order=2)]}, key="source/make.zip")
    execution = world["cp"].start_pipeline_execution(name=name)["pipelineExecutionId"]
    ended = ps.ended(world, name, execution)
    assert ended["status"] == "Succeeded", ended.get("statusSummary")
    actions = ps.actions(world, name, execution)
    assert actions["Use"]["output"]["outputVariables"] == {"RESULT": "made-by-make"}
    [made] = actions["Make"]["output"]["outputArtifacts"]
    assert made["name"] == "Made" and actions["Use"]["input"]["inputArtifacts"][0]["s3location"] == made["s3location"]
    body = s3.get_object(Bucket=made["s3location"]["bucket"], Key=made["s3location"]["key"])["Body"].read()
    assert sorted(zipfile.ZipFile(io.BytesIO(body)).namelist()) == ["buildspec.yml", "sub/result.txt"]


def test_a_build_role_that_may_not_write_the_artifact_store_fails_upload_artifacts(world):
    world["s3"].put_object(Bucket=world["bucket"], Key="source/make.zip",
                           Body=make_zip({"buildspec.yml": MAKE, "next.yml": NEXT}))
    project = ps.project(world, may_write=False)
    make = ps.build_action("Make", project, "Source", outputs="Made")
    name = ps.pipeline(world, {"name": "Build", "actions": [make]}, key="source/make.zip")
    execution = world["cp"].start_pipeline_execution(name=name)["pipelineExecutionId"]
    ended = ps.ended(world, name, execution)
    assert ended["status"] == "Failed"
    assert "Phase: UPLOAD_ARTIFACTS, Code: CLIENT_ERROR" in ended["statusSummary"]
    assert "AccessDenied" in ended["statusSummary"] and "s3:PutObject" in ended["statusSummary"]


SLOW = """version: 0.2
phases:
  build:
    commands:
      - sleep 1
"""


def test_two_builds_of_one_run_order_run_at_the_same_time(world):
    world["s3"].put_object(Bucket=world["bucket"], Key="source/slow.zip",
                           Body=make_zip({"buildspec.yml": SLOW}))
    project = ps.project(world, may_write=False)
    name = ps.pipeline(world, {"name": "Build", "actions": [ps.build_action("One", project, "Source"),
                                                          ps.build_action("Two", project, "Source")]},
                     key="source/slow.zip")
    execution = world["cp"].start_pipeline_execution(name=name)["pipelineExecutionId"]
    assert ps.ended(world, name, execution)["status"] == "Succeeded"
    actions = ps.actions(world, name, execution)
    builds = world["cb"].batch_get_builds(ids=[actions[a]["output"]["executionResult"]["externalExecutionId"]
                                               for a in ("One", "Two")])["builds"]
    one, two = sorted(builds, key=lambda b: b["startTime"])
    assert two["startTime"] < one["endTime"]  # each build sleeps a second: they overlapped
