"""`pipeline demo` (and `make demo`): the whole flow on the embedded emulator, ending with `status`.
`--pipeline` (`make demo-pipeline`): one whole CodePipeline execution instead (`commands/demo_pipeline.py`).

By default the example service (examples/service/environments: functions api and worker, one binary):
validate -> build (the binary asked for its handlers) -> start the emulator -> the heartbeat buckets ->
bootstrap tooling and every env -> stage -> promote dev -> test -> prod (approved) as one release, http
smoke cases through each env's front door -> a GET through prod's front door, the worker's schedule fired,
its heartbeat read back -> a broken release (the api answers 500 on /health) rolled back on every function
in dev and refused for test -> status, history, verify (`commands/demo_service.py`). `--one-function` runs
the same flow on the repo's environments/ (one function, invoke-style smoke cases). Every smoke test runs
the real Go binary.

Separation of duties, as the README describes it: bootstrap (and the service's data store, the heartbeat
buckets) runs with the organization admin's keys (it assumes the admin roles, OrganizationAccountAccessRole);
everything after it runs with the keys of the tooling account's operator, who may assume the promoter
role. Each step prints the keys it ran with (`as <arn>`) and, from the emulator's authorization layer, every
principal that made calls; the end prints the calls authorized and denied per principal.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from pipeline.commands.context import Context
from pipeline.commands.demo_steps import Demo, demo_config, digest_of, iam_report

# A release that builds and packs fine but dies at start: what a broken deploy looks like (--one-function).
BROKEN_MAIN = 'package main\n\nimport "os"\n\nfunc main() { os.Exit(3) }\n'
# The example service `make demo` promotes (a documented configuration in the repository).
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "service" / "environments"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dist", default="dist", help="where the build goes (default: dist)")
    parser.add_argument("--skip-tests", action="store_true", help="skip go test in the build step")
    parser.add_argument("--one-function", action="store_true",
                        help="the one-function flow on --config-dir (default environments) instead of the service")
    parser.add_argument("--pipeline", action="store_true",
                        help="one whole CodePipeline execution of --config-dir instead (make demo-pipeline)")
    parser.add_argument("--example", default=None,
                        help=f"the service's environments folder (default: {EXAMPLE.relative_to(EXAMPLE.parents[2])})")


def run(args: argparse.Namespace) -> int:
    from pipeline.commands import demo_service

    ctx = Context(args)
    work = Path(tempfile.mkdtemp(prefix="pipeline-demo-"))
    try:
        if args.pipeline:
            from pipeline.commands import demo_pipeline

            config_dir = demo_pipeline.pipeline_config(ctx, Path(args.config_dir).resolve(), work)
            demo = Demo(ctx, args, config_dir, work)
            summary = demo_pipeline.flow(demo)
            return _finish(ctx, demo, summary, "one pipeline execution, source upload -> prod,")
        if args.one_function:
            source = Path(args.config_dir).resolve()
        else:
            source = Path(args.example).resolve() if args.example else EXAMPLE
            ctx.out.progress(f"demo: the example service in {source} (`pipeline demo --one-function`: the "
                             "one-function flow on environments/)")
        demo = Demo(ctx, args, demo_config(source, work, ctx), work)
        summary = _one_function(demo) if args.one_function else demo_service.flow(demo)
        return _finish(ctx, demo, summary, "promotion dev -> test -> prod")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _finish(ctx: Context, demo: Demo, summary: dict[str, Any], what: str) -> int:
    """The IAM report (calls authorized and denied per principal), the time taken, the JSON document."""
    iam = iam_report()
    ctx.out.progress(f"\n== IAM (the emulator's authorization layer): {iam['authorized']} calls authorized, "
                     f"{iam['denied']} denied")
    for arn, counts in iam["principals"].items():
        ctx.out.progress(f"   {counts['authorized']:5d} authorized {counts['denied']:3d} denied  {arn}")
    ctx.out.progress(f"\ndemo finished: {what} took {summary['promotion_seconds']:.2f} s")
    ctx.out.document("demo", acted=demo.acted, iam=iam, **summary)
    return 0


def _one_function(demo: Demo) -> dict[str, Any]:
    """The one-function flow on the repo's environments/ (`--one-function`)."""
    from pipeline.commands import board, bootstrap, build, history, promote, stage, status, validate, verify
    from pipeline.local.emulator import Emulator

    args, step = demo.args, demo.step
    step("validate the environments (offline)", validate, [])
    go_dir = str(demo.context("build").config().go_module())
    step("build the Go function", build, ["--dist", args.dist, "--go-dir", go_dir]
         + (["--skip-tests"] if args.skip_tests else []))
    with Emulator() as emulator:
        emulator.export_environment(os.environ)
        demo.say(f"\n== embedded AWS emulator at {emulator.endpoint_url}")
        step("bootstrap the tooling account and every environment", bootstrap, ["--all"])
        # from here on the operator's keys: it may assume the promoter role the tooling stack made
        os.environ.update(emulator.environment("operator"))
        step("stage the artifact", stage, ["--dist", args.dist])
        started = time.perf_counter()
        step("promote to dev", promote, ["--to", "dev"])
        step("promote to test", promote, ["--to", "test"])
        step("promote to prod (approved)", promote, ["--to", "prod", "--approve", "--reason", "demo release"])
        promotion_seconds = time.perf_counter() - started
        broken = _broken_main(demo.work)
        step("stage a broken release", stage, [str(broken)])
        sha = broken.stem.rsplit("-", 1)[-1]
        demo.say(f"\n-- the broken release {sha} fails its smoke tests in dev and is rolled back:")
        digest = digest_of(broken)
        step("promote the broken release to dev", promote, ["--to", "dev", "--artifact", digest], expect=1)
        step("promote the broken release to test", promote, ["--to", "test", "--artifact", digest], expect=3)
        step("status", status, [])
        step("history", history, ["--limit", "4"])
        step("verify", verify, [])
        step("the promotion board (open it in a browser)", board, ["--out", str(Path(args.dist) / "board.html")])
    return {"promotion_seconds": round(promotion_seconds, 3)}


def _broken_main(work: Path) -> Path:
    from pipeline.artifact.build import build_artifact

    module = work / "broken"
    module.mkdir()
    (module / "go.mod").write_text("module example.com/broken\n\ngo 1.22\n")
    (module / "main.go").write_text(BROKEN_MAIN)
    dist = work / "dist-broken"
    manifest = build_artifact(module, dist, "greeter", "x86_64", "broken-1", run_tests=False)
    return dist / f"{manifest.stem}.zip"
