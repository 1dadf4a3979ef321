"""`pipeline promote --to E [--artifact SHA] [--approve [--reason TEXT]] [--dry-run]`."""

from __future__ import annotations

import argparse

from pipeline.commands.context import Context
from pipeline.errors import EXIT_FAILED, EXIT_OK
from pipeline.inputs import require_sha_prefix


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to", required=True, metavar="ENV", help="environment to promote into")
    parser.add_argument("--artifact", metavar="SHA",
                        help="artifact sha256, or a unique prefix of it (>= 7 hex characters, like the 12 tables "
                             "show) (default: what passed in the predecessor; for the first stage, the newest staged)")
    parser.add_argument("--approve", action="store_true", help="approve (recorded with your STS identity)")
    parser.add_argument("--approval-from-pipeline", action="store_true",
                        help="in CodeBuild: the approval is the pipeline's manual approval action for this env "
                             "(approver ARN and comment recorded); needs --artifact and CODEPIPELINE_EXECUTION_ID")
    parser.add_argument("--reason", help="why (recorded with the approval)")
    parser.add_argument("--dry-run", action="store_true", help="print gates and plan; write nothing")


def run(args: argparse.Namespace) -> int:
    ctx = Context(args)
    config = ctx.config()
    env = config.env(args.to)  # exit 2 before any AWS call
    artifact = require_sha_prefix(args.artifact, "--artifact") if args.artifact is not None else None
    if args.reason and not args.approve:
        from pipeline.errors import InputError

        raise InputError("--reason goes with --approve")
    approver, reason = None, args.reason
    if args.approval_from_pipeline:
        import os

        from pipeline.engine.pipeline_approval import approval_from_pipeline
        from pipeline.errors import InputError

        if args.approve:
            raise InputError("--approve and --approval-from-pipeline exclude each other: one approval, one approver")
        if artifact is not None:  # the approval names the full digest: resolve a typed prefix first
            from pipeline.engine.promote import staged_digest

            artifact = staged_digest(ctx.engine, artifact)
        pipeline_approval = approval_from_pipeline(ctx.sessions, config, env, artifact, os.environ,
                                                   ctx.out.progress)
        if pipeline_approval is not None:
            approver, reason = pipeline_approval
    if config.service_functions:  # every function of the service as one release
        from pipeline.engine.service_promote import promote_service as promote
    else:
        from pipeline.engine.promote import promote

    result = promote(
        ctx.engine, env.name, artifact, approve=args.approve, reason=reason, dry_run=args.dry_run,
        approver=approver)
    ctx.out.document("promote", ok=result.ok, dry_run=args.dry_run, **result.to_dict())
    if not result.ok:
        failed = [f"{r.label}: {r.outcome}: {r.reason}" for r in result.runs if r.outcome != "PASSED"]
        ctx.out.error(f"promotion of {result.artifact[:12]} to {env.name} failed: {'; '.join(failed)}")
        return EXIT_FAILED
    return EXIT_OK
