"""`pipeline demo --pipeline` (and `make demo-pipeline`): one whole CodePipeline execution on the embedded
emulator, with IAM enforced, driven as an operator drives it on AWS.

The organization admin bootstraps the tooling account (the pipeline stack: CodeBuild project, pipeline,
their roles, the EventBridge rule on the source object) and every env. Then, with the tooling operator's
keys: `pipeline pipeline run` packs a committed repository (the product's tracked files, so buildspec.yml
can install it, and the demo's environments/) and uploads it; the upload's S3 event starts the execution:
Source -> Build (buildspec.yml in the emulator's CodeBuild, as the CodeBuild role: build once, stage) ->
Deploy-dev -> Deploy-test -> the manual approval, which the demo answers as the operator (`pipeline pipeline
approve`) -> Deploy-prod; then `status` and `history` show the builds and the approver in the ledger. The
pipeline's Build skips the repository's test suite (`build_tests: false`): `make test` runs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from pipeline.commands.context import Context
from pipeline.commands.demo_steps import Demo, calls_by_principal, demo_config

# what buildspec.yml needs of the product to install and run it: its tracked files under these
PRODUCT = ("pipeline", "templates", "go-function", "setup.cfg", "pyproject.toml", "README.md", "buildspec.yml")
REPOSITORY = Path(__file__).resolve().parents[2]


def pipeline_config(ctx: Context, source: Path, work: Path) -> Path:
    """The demo's environments/ in the repository the pipeline builds: `source` with freeze windows lifted
    (demo_steps.demo_config) and `build_tests: false`."""
    target = demo_config(source, work, ctx, in_repository=True)
    pipeline = target / "pipeline.yml"
    pipeline.write_text(pipeline.read_text() + "build_tests: false  # the demo: make test runs the suite\n")
    return target


def make_repository(root: Path, product: Path = REPOSITORY) -> str:
    """Commit the product's tracked files (from `product`, a git work tree) and what `root` holds already
    into a new git repository at `root`: the commit's sha."""
    tracked = subprocess.run(["git", "ls-files", *PRODUCT], cwd=product, check=True, capture_output=True,
                             text=True).stdout.split()
    for name in tracked:
        if (product / name).is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(product / name, root / name)
    git = ["git", "-c", "user.name=Demo Operator", "-c", "user.email=operator@example.com"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "the release the pipeline builds"], cwd=root, check=True)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, check=True, capture_output=True,
                          text=True).stdout.strip()


def flow(demo: Demo) -> dict[str, Any]:
    from pipeline.commands import bootstrap, history, pipeline_runs, status, validate
    from pipeline.local.emulator import Emulator

    step = demo.step
    root = Path(demo.base.config_dir).parent
    commit = make_repository(root)
    demo.say(f"demo: the repository the pipeline builds: {root} (commit {commit[:12]})")
    step("validate the environments (offline)", validate, [])
    with Emulator() as emulator:
        emulator.export_environment(os.environ)
        demo.say(f"\n== embedded AWS emulator at {emulator.endpoint_url}")
        step("bootstrap the tooling account (pipeline included) and every environment", bootstrap, ["--all"])
        os.environ.update(emulator.environment("operator"))  # the operator from here on
        before, started = calls_by_principal(), time.perf_counter()
        cwd = Path.cwd()
        os.chdir(root)
        try:
            step("upload the source and follow the execution it starts", pipeline_runs,
                 ["run", "--until-approval"], verb="pipeline")
            step("approve prod, as the operator", pipeline_runs,
                 ["approve", "--stage", "prod", "--reason", "demo release, approved in the pipeline"], verb="pipeline")
            step("follow the execution to its end", pipeline_runs, ["show", "--follow"], verb="pipeline")
        finally:
            os.chdir(cwd)
        seconds = time.perf_counter() - started
        roles = by_role(calls_by_principal(since=before))
        demo.say("\n== calls per role during the execution (the operator's include following it)")
        for role, count in roles.items():
            demo.say(f"   {count:5d}  {role}")
        step("status", status, [])
        step("history", history, ["--limit", "6"])
    return {"promotion_seconds": round(seconds, 3), "commit": commit, "calls_by_role": roles}


def by_role(principals: dict[str, int]) -> dict[str, int]:
    """Calls per principal summed per role (an assumed role's sessions are one role), most first."""
    roles: dict[str, int] = {}
    for arn, count in principals.items():
        role = arn.rsplit("/", 1)[0] if ":assumed-role/" in arn else arn
        roles[role] = roles.get(role, 0) + count
    return dict(sorted(roles.items(), key=lambda item: -item[1]))
