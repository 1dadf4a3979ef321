"""`pipeline build`: go test, cross-compile, deterministic zip + manifest in dist/."""

from __future__ import annotations

import argparse
import re
import subprocess
from pathlib import Path

from pipeline.commands.context import Context


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--go-dir", help="the Go module to build (default: pipeline.yml go_dir, go-function/ "
                                         "beside environments/)")
    parser.add_argument("--dist", default="dist", help="output directory (default: dist)")
    parser.add_argument("--version", dest="build_version", help="version stamped into the binary "
                        "(default: git describe)")
    parser.add_argument("--skip-tests", action="store_true", help="do not run go test first")


def repo_root(ctx: Context) -> Path:
    return Path(ctx.config().directory).resolve().parent


def default_version(root: Path) -> str:
    try:
        out = subprocess.run(["git", "describe", "--tags", "--always"], cwd=root, capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "dev"
    text = re.sub(r"[^A-Za-z0-9._+-]", "-", out.stdout.strip())[:64]
    return text if out.returncode == 0 and text else "dev"


def run(args: argparse.Namespace) -> int:
    from pipeline.artifact.build import build_artifact
    from pipeline.config.handlers import wanted_handlers
    from pipeline.core.function import GO_HANDLER

    ctx = Context(args)
    config = ctx.config()
    root = repo_root(ctx)
    go_dir = Path(args.go_dir) if args.go_dir else config.go_module()
    version = args.build_version or default_version(root)
    arch = config.function_defaults.architecture
    ctx.out.progress(f"building {config.name} {version} for {arch} from {go_dir}"
                     + ("" if args.skip_tests else " (go test first)"))
    manifest = build_artifact(go_dir, Path(args.dist), config.name, arch, version, run_tests=not args.skip_tests,
                              wanted_handlers=wanted_handlers(config, GO_HANDLER))
    zip_path = Path(args.dist) / f"{manifest.stem}.zip"
    served = "unknown" if manifest.handlers is None else ", ".join(manifest.handlers)
    ctx.out.table(["artifact", "sha256", "size", "commit", "dirty", "handlers"],
                  [[str(zip_path), manifest.sha256, manifest.size, manifest.commit[:12], manifest.dirty, served]])
    ctx.out.document("build", zip=str(zip_path), manifest=manifest.to_dict())
    return 0
