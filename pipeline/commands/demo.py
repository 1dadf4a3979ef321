"""`pipeline demo` (and `make demo`): the whole flow on the embedded emulator, ending with `status`.

validate -> build (go test + deterministic zip) -> start the emulator -> bootstrap tooling and
every env -> stage -> promote dev -> test -> prod (approved) -> a broken release rolled back in
dev and refused for test -> status, history, verify. Every smoke test runs the real Go binary.

Separation of duties, as the README describes it: bootstrap runs with the organization admin's keys
(it assumes the admin roles, OrganizationAccountAccessRole); everything after it runs with the keys of
the tooling account's operator, who may only assume the promoter role. Each step prints the keys it
ran with (`as <arn>`) and, from the emulator's authorization layer, every principal that made calls.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from types import ModuleType

from pipeline.commands.context import Context
from pipeline.errors import PipelineError

# A release that builds and packs fine but dies at start: what a broken deploy looks like.
BROKEN_MAIN = 'package main\n\nimport "os"\n\nfunc main() { os.Exit(3) }\n'


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dist", default="dist", help="where the build goes (default: dist)")
    parser.add_argument("--skip-tests", action="store_true", help="skip go test in the build step")


def run(args: argparse.Namespace) -> int:
    from pipeline.commands import (
        bootstrap,
        build,
        history,
        promote,
        stage,
        status,
        validate,
        verify,
    )
    from pipeline.local.emulator import Emulator

    ctx = Context(args)
    source = Path(args.config_dir).resolve()
    work = Path(tempfile.mkdtemp(prefix="pipeline-demo-"))
    try:
        config_dir = _demo_config(source, work, ctx)
        base = argparse.Namespace(**{**vars(args), "config_dir": str(config_dir), "local": False})

        acted: list[dict[str, object]] = []

        def step(title: str, module: ModuleType, argv: list[str], expect: int = 0) -> int:
            ctx.out.progress(f"\n== {title}: pipeline {module.__name__.rsplit('.', 1)[-1]} {' '.join(argv)}")
            parser = argparse.ArgumentParser()
            module.configure(parser)
            merged = argparse.Namespace(**{**vars(base), **vars(parser.parse_args(argv))})
            before = _calls_by_principal()
            keys = _acting_as()
            if keys:
                ctx.out.progress(f"   as {keys}")
            try:
                code = module.run(merged)
            except PipelineError as exc:
                code = exc.exit_code
                ctx.out.progress(f"   -> exit {code}: {exc.message}")
            if keys:
                principals = _calls_by_principal(since=before)
                for arn, count in principals.items():
                    ctx.out.progress(f"   {count:4d} calls by {arn}")
                acted.append({"step": title, "as": keys, "principals": principals})
            if code != expect:
                raise PipelineError(f"demo step {title!r} exited {code}, expected {expect}")
            return code

        step("validate the environments (offline)", validate, [])
        step("build the Go function", build, ["--dist", args.dist, "--go-dir", str(ctx.config().go_module())]
             + (["--skip-tests"] if args.skip_tests else []))
        with Emulator() as emulator:
            emulator.export_environment(os.environ)
            ctx.out.progress(f"\n== embedded AWS emulator at {emulator.endpoint_url}")
            step("bootstrap the tooling account and every environment", bootstrap, ["--all"])
            # from here on the operator's keys: it may only assume the promoter role the tooling stack made
            os.environ.update(emulator.environment("operator"))
            step("stage the artifact", stage, ["--dist", args.dist])
            started = time.perf_counter()
            step("promote to dev", promote, ["--to", "dev"])
            step("promote to test", promote, ["--to", "test"])
            step("promote to prod (approved)", promote, ["--to", "prod", "--approve", "--reason", "demo release"])
            promotion_seconds = time.perf_counter() - started
            broken = _broken_release(work)
            step("stage a broken release", stage, [str(broken)])
            sha = broken.stem.rsplit("-", 1)[-1]
            ctx.out.progress(f"\n-- the broken release {sha} fails its smoke tests in dev and is rolled back:")
            digest = _digest(broken)
            step("promote the broken release to dev", promote, ["--to", "dev", "--artifact", digest], expect=1)
            step("promote the broken release to test", promote, ["--to", "test", "--artifact", digest], expect=3)
            step("status", status, [])
            step("history", history, ["--limit", "4"])
            step("verify", verify, [])
        ctx.out.progress(f"\ndemo finished: promotion dev -> test -> prod took {promotion_seconds:.2f} s")
        ctx.out.document("demo", promotion_seconds=round(promotion_seconds, 3), acted=acted)
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _acting_as() -> str:
    """The ARN of the keys this process holds now: the emulator's admin or its operator."""
    from pipeline.local.authz import org

    key = os.environ.get("AWS_ACCESS_KEY_ID")
    return {org.ADMIN_KEY: f"arn:aws:iam::{org.ADMIN_ACCOUNT}:user/admin", org.OPERATOR_KEY: org.OPERATOR_ARN}.get(
        key or "", "")


def _calls_by_principal(since: dict[str, int] | None = None) -> dict[str, int]:
    """Calls the emulator authorized per principal ARN (all so far, or since an earlier snapshot)."""
    from pipeline.local.authz import layer

    now = dict(layer.PRINCIPALS)
    if since is None:
        return now
    return {arn: n - since.get(arn, 0) for arn, n in sorted(now.items()) if n > since.get(arn, 0)}


def _demo_config(source: Path, work: Path, ctx: Context) -> Path:
    """The repo's environments, with freeze windows lifted so the demo runs on any day of the week."""
    import yaml

    target = work / "environments"
    shutil.copytree(source, target)
    for path in sorted(target.glob("*.yml")):
        data = yaml.safe_load(path.read_text())
        gates = data.get("gates") if isinstance(data, dict) else None
        if isinstance(gates, dict) and gates.get("freeze"):
            ctx.out.progress(f"demo: lifting {path.name} freeze windows {gates['freeze']} for this run")
            gates["freeze"] = []
            path.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


def _broken_release(work: Path) -> Path:
    from pipeline.artifact.build import build_artifact

    module = work / "broken"
    module.mkdir()
    (module / "go.mod").write_text("module example.com/broken\n\ngo 1.22\n")
    (module / "main.go").write_text(BROKEN_MAIN)
    dist = work / "dist-broken"
    manifest = build_artifact(module, dist, "greeter", "x86_64", "broken-1", run_tests=False)
    return dist / f"{manifest.stem}.zip"


def _digest(zip_path: Path) -> str:
    from pipeline.artifact.manifest import Manifest, manifest_path_for

    return Manifest.load(manifest_path_for(zip_path)).sha256
