"""`pipeline artifacts`: staged artifacts, newest first."""

from __future__ import annotations

import argparse

from pipeline.commands.context import Context


def configure(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    from pipeline.aws.artifacts import ArtifactStore

    ctx = Context(args)
    staged = ArtifactStore(ctx.accounts.tooling(), ctx.config()).list()
    ctx.out.table(["artifact", "commit", "size", "staged at", "by"],
                  [[a.sha12 + (" (dirty)" if a.dirty else ""), a.commit[:12], a.size, a.staged_at, a.staged_by]
                   for a in staged])
    ctx.out.document("artifacts", artifacts=[{"sha256": a.sha256, "commit": a.commit, "size": a.size,
                                              "dirty": a.dirty, "staged_at": a.staged_at, "staged_by": a.staged_by}
                                             for a in staged])
    return 0
