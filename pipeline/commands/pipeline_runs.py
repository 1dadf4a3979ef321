"""`pipeline pipeline run|approve|show`: the CodePipeline as an operator drives it.

run      upload the source zip (yours, or the git work tree holding the config, packed with its .git) where
         the pipeline's S3 source reads it, find the execution that upload started and follow it stage by
         stage; `--start` re-runs the current source with StartPipelineExecution instead
approve  answer the manual approval waiting before an env's promote action, as yourself
show     one execution (default: the newest) as a table of stages and actions; `--follow` until it ends
         (`--until-approval`: or until an approval waits in it)
AWS imports stay inside `run`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.commands.context import Context
from pipeline.errors import InputError, PipelineError

if TYPE_CHECKING:
    from pipeline.aws.pipeline_runs import PipelineRuns
    from pipeline.engine.pipeline_follow import Followed

ACTIONS = {
    "run": "upload the source zip and follow the execution it starts (or --start: re-run the current source)",
    "approve": "approve (or --reject) the approval waiting before an env's promotion, as yourself",
    "show": "one execution's stages and actions (default: the newest); --follow until it ends",
}


def configure(parser: argparse.ArgumentParser) -> None:
    from pipeline.commands.options import global_options

    sub = parser.add_subparsers(dest="pipeline_action", metavar="ACTION", required=True)
    for name, help_text in ACTIONS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        global_options(sp, suppress=True)
        if name == "run":
            how = sp.add_mutually_exclusive_group()
            how.add_argument("--source", type=Path, metavar="ZIP", help="the source zip to upload (default: the git "
                             "work tree holding the config, its tracked files and .git; it must be clean)")
            how.add_argument("--start", action="store_true", help="StartPipelineExecution on the current source")
            sp.add_argument("--no-follow", action="store_true", help="print the execution id and return")
        if name == "approve":
            sp.add_argument("--stage", required=True, metavar="ENV", help="the env whose approval to answer")
            sp.add_argument("--reason", help="your comment (it goes into the ledger with your identity)")
            sp.add_argument("--reject", action="store_true", help="reject: that env is never promoted in it")
            sp.add_argument("--execution", help="refuse unless the approval waits in this execution")
            sp.add_argument("--artifact", help="refuse unless the approval asks for this artifact (sha256 or prefix)")
        if name == "show":
            sp.add_argument("--execution", help="the execution id (default: the newest)")
            sp.add_argument("--follow", action="store_true", help="look again until it ends")
        if name in ("run", "show"):
            sp.add_argument("--until-approval", action="store_true",
                            help="stop following (exit 0) when an approval waits for an answer")
            sp.add_argument("--timeout", type=float, default=3600.0,
                            help="seconds to follow at most (default 3600)")


def run(args: argparse.Namespace) -> int:
    from pipeline.engine import pipeline_follow as pf

    ctx = Context(args)
    action = args.pipeline_action
    if action == "approve":
        _check_approve(ctx, args)  # bad input: one line, exit 2, before any call
    elif action == "run" and args.source and not args.source.is_file():
        raise InputError(f"--source {args.source}: no such file")
    engine = ctx.engine
    pipeline = pf.runs(engine, ctx.sessions.base())
    if action == "approve":
        return _approve(ctx, pipeline, args)
    if action == "run":
        execution = _start(ctx, pipeline, args)
        follow = not args.no_follow
    else:
        execution = args.execution or _newest(pipeline)
        follow = args.follow or args.until_approval
    followed = (pf.follow(engine, pipeline, execution, args.timeout, until_approval=args.until_approval) if follow
                else pf.look(pipeline, execution))
    return _report(ctx, followed, f"pipeline {action}")


def _check_approve(ctx: Context, args: argparse.Namespace) -> None:
    order = ctx.config().order
    if args.stage not in order:
        raise InputError(f"--stage {args.stage}: no such env (pipeline.yml order: {', '.join(order)})")
    if args.artifact is not None:
        from pipeline.core.shas import normalise

        try:
            args.artifact = normalise(args.artifact)
        except ValueError as exc:
            raise InputError(f"--artifact: {exc}") from None


def _approve(ctx: Context, pipeline: PipelineRuns, args: argparse.Namespace) -> int:
    from pipeline.engine import pipeline_follow as pf

    me = ctx.sessions.caller_identity(ctx.sessions.base()).arn
    verb = "rejected" if args.reject else "approved"
    reason = args.reason or f"{verb} with pipeline pipeline approve"
    pending, message = pf.approve(ctx.engine, pipeline, args.stage, not args.reject, reason, args.execution,
                                  args.artifact)
    ctx.out.progress(f"{pending.stage}/{pending.action} in execution {pending.execution_id} asked: {message}")
    ctx.out.text(f"{verb} by {me}: {reason}")
    ctx.out.document("pipeline approve", approved=not args.reject, approver=me, reason=reason,
                     execution=pending.execution_id, stage=pending.stage, action=pending.action, message=message)
    return 0


def _start(ctx: Context, pipeline: PipelineRuns, args: argparse.Namespace) -> str:
    from pipeline.artifact.source_zip import pack_source, work_tree
    from pipeline.engine import pipeline_follow as pf

    engine = ctx.engine
    if args.start:
        execution = pipeline.start()
        ctx.out.progress(f"started execution {execution} of {pipeline.pipeline} (the current source)")
        return execution
    if args.source:
        body, what = args.source.read_bytes(), str(args.source)
    else:
        root = work_tree(Path(engine.config.directory).resolve())
        body, what = pack_source(root), f"{root} (tracked files and .git)"
    before = pf.known(pipeline)
    bucket, key, version = pf.upload(engine, body)
    where = f"s3://{bucket}/{key}"
    ctx.out.progress(f"uploaded {what} to {where} (version {version}, {len(body)} bytes)")
    execution = pf.wait_started(engine, pipeline, where, version, before, min(args.timeout, 300.0))
    ctx.out.progress(f"execution {execution} of {pipeline.pipeline} started by that upload")
    return execution


def _newest(pipeline: PipelineRuns) -> str:
    executions = pipeline.executions(1)
    if not executions:
        raise InputError(f"pipeline {pipeline.pipeline} has no execution yet (pipeline pipeline run starts one)")
    return str(executions[0]["pipelineExecutionId"])


def _report(ctx: Context, followed: Followed, command: str) -> int:
    from pipeline.core.pipeline_view import ENDED, HEADERS, approve_hint

    f = followed
    ctx.out.table(HEADERS, [r.row() for r in f.rows], title=f"execution {f.execution_id}: {f.status}")
    if f.waiting:
        ctx.out.text(f"waiting: {f.waiting.stage}/{f.waiting.action} ({approve_hint(f.waiting)})")
    if f.status in ENDED and f.status != "Succeeded":  # the error document carries the same facts
        row = next((r for r in f.rows if r.status == "Failed"), None)
        where = f" at {row.stage}/{row.action}: {row.detail}" if row else ""
        raise PipelineError(f"execution {f.execution_id} {f.status}{where}", fields=f.doc())
    ctx.out.document(command, **f.doc())
    return 0
