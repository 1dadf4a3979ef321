"""`pipeline stage [ZIP]`: check the artifact, then upload it to the tooling bucket under its sha256."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.commands.context import Context
from pipeline.errors import InputError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("zip", nargs="?", help="artifact zip (default: the newest dist/<name>-*.zip)")
    parser.add_argument("--dist", default="dist", help="where build put artifacts (default: dist)")


def newest_zip(dist: Path, name: str) -> Path:
    candidates = sorted(dist.glob(f"{name}-*.zip"), key=lambda p: p.stat().st_mtime, reverse=True)
    if not candidates:
        raise InputError(f"{dist}: no {name}-*.zip artifact: run `pipeline build` first or name a zip")
    return candidates[0]


def run(args: argparse.Namespace) -> int:
    from pipeline.artifact.checks import check_artifact
    from pipeline.artifact.manifest import Manifest, manifest_path_for

    ctx = Context(args)
    config = ctx.config()
    zip_path = Path(args.zip) if args.zip else newest_zip(Path(args.dist), config.name)
    manifest_path = manifest_path_for(zip_path)
    if not manifest_path.is_file():
        raise InputError(f"{manifest_path}: manifest not found beside {zip_path} (build writes both)")
    manifest = Manifest.load(manifest_path)
    check_artifact(zip_path, config.function_defaults.architecture, manifest)  # exit 2 before any AWS call

    from pipeline.aws.artifacts import ArtifactStore

    store = ArtifactStore(ctx.accounts.tooling(), config)
    staged = store.stage(zip_path, manifest)
    verb = "staged" if staged.uploaded else "already staged (nothing uploaded)"
    ctx.out.text(f"{verb}: s3://{store.bucket}/{staged.key}")
    from pipeline.aws.replicas import Replicas
    # one upload, then a server-side copy per other target region (exit 1 naming the region; a rerun completes it)
    replicas = Replicas(ctx.accounts.tooling(), config).replicate(staged.key, staged.code_sha256)
    for replica in replicas:
        done = "copied server-side" if replica.state == "copied" else "already there"
        ctx.out.text(f"replica {replica.region}: {done}: {replica.where}")
    sent = staged.size if staged.uploaded else 0
    ctx.out.text(f"bytes sent: {sent} (one upload; {len(replicas)} replica region(s) copied by S3)")
    ctx.out.text(f"artifact id: {staged.sha256}")
    ctx.out.document("stage", artifact=staged.sha256, key=staged.key, bucket=store.bucket, uploaded=staged.uploaded,
                     version_id=staged.version_id, dirty=staged.dirty,
                     replicas=[r.as_dict() for r in replicas], bytes_sent=sent)
    return 0
