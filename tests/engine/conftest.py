"""A bootstrapped world on the emulator: tooling + dev + test stacks, the real Go artifact staged."""

from __future__ import annotations

import json
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import BUCKET, REPO, client, deployer, promoter

from pipeline.cli import main

BROKEN_SOURCES = {
    # exits before answering: a smoke test of it fails with Runtime.ExitError
    "crash": 'package main\n\nimport "os"\n\nfunc main() { os.Exit(3) }\n',
    # takes the invocation, then never answers: the function's timeout ends it
    "hang": ('package main\n\nimport (\n\t"net/http"\n\t"os"\n\t"time"\n)\n\n'
             'func main() {\n\tapi := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API")\n'
             '\tresp, err := http.Get(api + "/2018-06-01/runtime/invocation/next")\n'
             '\tif err == nil {\n\t\tresp.Body.Close()\n\t}\n\ttime.Sleep(time.Hour)\n}\n'),
}


def build_program(tmp: Path, kind: str) -> tuple[Path, object]:
    """A tiny, valid x86-64 Lambda zip built from BROKEN_SOURCES[kind] with the product's own builder."""
    from pipeline.artifact.build import build_artifact

    mod = tmp / f"mod-{kind}"
    mod.mkdir(parents=True, exist_ok=True)
    (mod / "go.mod").write_text(f"module example.com/{kind}\n\ngo 1.22\n")
    (mod / "main.go").write_text(BROKEN_SOURCES[kind])
    dist = tmp / f"dist-{kind}"
    manifest = build_artifact(mod, dist, "greeter", "x86_64", f"{kind}-1", run_tests=False)
    return dist / f"{manifest.stem}.zip", manifest


@pytest.fixture(scope="session")
def built2(tmp_path_factory):
    """A second build of the real function (another version stamp, so another digest)."""
    from pipeline.artifact.build import build_artifact

    dist = tmp_path_factory.mktemp("dist2")
    manifest = build_artifact(REPO / "go-function", dist, "greeter", "x86_64", "2.0.0-test", run_tests=False)
    return dist / f"{manifest.stem}.zip", manifest


@pytest.fixture(scope="session")
def crash_artifact(tmp_path_factory):
    return build_program(tmp_path_factory.mktemp("crash"), "crash")


@pytest.fixture(scope="session")
def hang_artifact(tmp_path_factory):
    return build_program(tmp_path_factory.mktemp("hang"), "hang")


@dataclass
class World:
    envdir: Path
    capsys: object

    def cli(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(list(args))
        out = self.capsys.readouterr()
        return code, out.out, out.err

    def ok(self, *args: str) -> str:
        """Run a command that must succeed; its stderr is the failure message otherwise."""
        code, out, err = self.cli(*args)
        assert code == 0, f"pipeline {' '.join(args)} exited {code}: {err}"
        return out

    def json(self, *args: str) -> tuple[int, dict]:
        code, out, err = self.cli("--output", "json", *args)
        return code, json.loads(out) if out.strip() else {"stderr": err}

    def stage(self, artifact) -> str:
        zip_path, manifest = artifact
        code, _, err = self.cli("stage", str(zip_path))
        assert code == 0, err
        return manifest.sha256

    def bootstrap(self, *envs: str) -> None:
        for env in envs:
            code, _, err = self.cli("bootstrap", "--env", env)
            assert code == 0, err

    def edit(self, name: str, text: str) -> None:
        (self.envdir / name).write_text(textwrap.dedent(text))

    def ledger(self, env: str) -> list[dict]:
        s3 = promoter("s3")
        keys = sorted(o["Key"] for o in s3.list_objects_v2(
            Bucket=BUCKET, Prefix=f"ledger/{env}/").get("Contents", []))
        return [json.loads(s3.get_object(Bucket=BUCKET, Key=k)["Body"].read())
                for k in keys]

    def deploy_out_of_band(self, env: str, account: str, sha256: str) -> str:
        """What someone with the deploy role does by hand: publish the staged bytes and move `live`, no ledger."""
        lam = deployer("lambda", account)
        version = lam.update_function_code(FunctionName=f"greeter-{env}", S3Bucket=BUCKET,
                                           S3Key=f"artifacts/greeter/{sha256}.zip", Publish=True)["Version"]
        lam.update_alias(FunctionName=f"greeter-{env}", Name="live", FunctionVersion=version)
        return version

    def live(self, env: str, account: str, region: str = "us-east-1") -> dict:
        return client("lambda", account, region).get_function_configuration(
            FunctionName=f"greeter-{env}", Qualifier="live")


@pytest.fixture
def world(aws, envdir, capsys, request) -> World:
    w = World(envdir, capsys)
    # prod's freeze window would make these tests depend on the weekday: tests of the freeze gate set it.
    w.edit("prod.yml", """\
        account: "333333333333"
        protect: true
        gates: {requires: test, approval: true}
        strategy: {canary: {percent: 10, bake_seconds: 1}}
        """)
    code, _, err = w.cli("bootstrap", "--tooling")
    assert code == 0, err
    # every env, unless the test says which (`@pytest.mark.bootstrapped("dev", "test")`)
    marker = request.node.get_closest_marker("bootstrapped")
    w.bootstrap(*(marker.args if marker else ("dev", "test", "prod")))
    return w


def copy_into(artifact, folder: Path) -> Path:
    zip_path, _ = artifact
    folder.mkdir(exist_ok=True)
    shutil.copy(zip_path, folder / zip_path.name)
    shutil.copy(zip_path.with_suffix(".json"), folder / zip_path.with_suffix(".json").name)
    return folder / zip_path.name


@pytest.fixture
def operated(world, aws, monkeypatch) -> World:
    """The world ready to run its own CodePipeline (tests/engine/pipeline_world.py): `build_tests: false` (the
    pipeline's Build would run this very suite), the tooling stack updated for it, a committed repository in
    the working directory, the tooling account operator's keys."""
    from pipeline.commands.demo_pipeline import make_repository

    text = (world.envdir / "pipeline.yml").read_text()
    (world.envdir / "pipeline.yml").write_text(text + "build_tests: false\n")
    world.ok("bootstrap", "--tooling")
    make_repository(world.envdir.parent)
    for key, value in aws.environment("operator").items():
        monkeypatch.setenv(key, value)
    return world
