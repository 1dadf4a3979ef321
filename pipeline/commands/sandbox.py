"""`pipeline sandbox up|deploy|invoke|logs|status|down|gc|boundary`: a developer's own sandbox, in their own account.

Every action first asks who the caller is and refuses (exit 3) in any account the pipeline
uses (invariant 9); no flag changes that. AWS imports stay inside `run`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from pipeline.commands.context import Context
from pipeline.errors import InputError

ACTIONS = {
    "up": "create or update the sandbox stacks (function + artifact bucket) in your account",
    "deploy": "build the current tree and deploy it straight in, then run the smoke tests",
    "invoke": "invoke the sandbox function and show the answer",
    "logs": "recent CloudWatch Logs events of the sandbox function",
    "status": "what the sandbox runs, when it was made and when it expires",
    "down": "delete everything the sandbox made (only if tagged with your owner)",
    "gc": "delete expired sandboxes (anyone's), report resources without an owner tag; here or in --accounts",
    "unlock": "free the sandbox's deploy lock (yours or a dead one; --force: anyone's)",
    "boundary": "print the <name>-sandbox-boundary policy (allowed_services); --apply creates/updates it here",
}


def configure(parser: argparse.ArgumentParser) -> None:
    from pipeline.commands.options import global_options

    sub = parser.add_subparsers(dest="sandbox_action", metavar="ACTION", required=True)
    for name, help_text in ACTIONS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        global_options(sp, suppress=True)
        if name == "boundary":
            sp.add_argument("--apply", action="store_true", help="create or update the policy in your account "
                            "(the organization admin, once per sandbox account)")
            continue
        if name != "gc":
            sp.add_argument("--user", help="whose sandbox (default: $USER); sanitized to [a-z0-9-]")
            sp.add_argument("--branch", help="a second sandbox per branch; sanitized like --user")
        if name == "unlock":
            sp.add_argument("--force", action="store_true", help="free it even if another live process holds it")
        if name == "up":
            sp.add_argument("--renew", action="store_true", help="push `expires` to now + ttl_days again")
        if name == "deploy":
            sp.add_argument("--go-dir", type=Path, help="the Go module (default: pipeline.yml go_dir)")
            sp.add_argument("--dist", type=Path, default=Path("dist"), help="build output directory (default: dist)")
            sp.add_argument("--skip-tests", action="store_true", help="do not run go test first")
        if name == "invoke":
            from pipeline.commands.sandbox_invoke import configure as invoke_options

            invoke_options(sp)
        if name == "logs":
            sp.add_argument("--function", help="the function (functions: key) whose logs (default: as invoke)")
            sp.add_argument("--since", type=int, default=60, metavar="MINUTES", help="look back this far (default 60)")
            sp.add_argument("--limit", type=int, default=100, help="at most this many events (default 100)")
        if name == "gc":
            sp.add_argument("--accounts", help="comma-separated account ids to scan (default: your own account)")
            sp.add_argument("--role", help="role to assume in each listed account (default: sandbox.yml deploy_role)")
            sp.add_argument("--dry-run", action="store_true", help="list what would be deleted, delete nothing")


def default_user(environ: dict[str, str] | None = None) -> str:
    import getpass

    environ = dict(os.environ) if environ is None else environ
    try:
        return environ.get("USER") or environ.get("USERNAME") or getpass.getuser()
    except (KeyError, OSError):
        return ""


def run(args: argparse.Namespace) -> int:
    from botocore.exceptions import ClientError

    from pipeline.aws.sandbox import aws_error

    ctx = Context(args)
    try:
        return _ACTIONS[args.sandbox_action](ctx, args)
    except ClientError as exc:  # anything an adapter did not map: still one line
        raise aws_error(exc, f"sandbox {args.sandbox_action}") from None


def _open(ctx: Context, args: argparse.Namespace) -> Any:
    from pipeline.aws.session import SessionFactory
    from pipeline.core import sandbox as S
    from pipeline.engine.sandbox import Sandbox
    from pipeline.engine.sandbox_account import check_render

    config = ctx.config()
    ident = S.sandbox_id(args.user if args.user is not None else default_user(), args.branch)
    region = S.region(config, args.region)
    check_render(config, ident, region)
    factory = SessionFactory(profile=args.profile, region=region)
    return Sandbox.open(config, factory, region, ident, ctx.out.progress)


def _up(ctx: Context, args: argparse.Namespace) -> int:
    box = _open(ctx, args)
    result = box.up(renew=args.renew)
    sbx = box.sbx
    ctx.out.table(["stack", "action", "status"], [[r.name, r.action, r.status] for r in result.stacks],
                  title=f"{sbx.label}: function {', '.join(f.name for f in box.fns)}, bucket {sbx.bucket}")
    ctx.out.text(f"owner {result.owner}, created {result.created}, expires {result.expires}")
    ctx.out.text(result.budget)
    ctx.out.document("sandbox", action="up", sandbox=sbx.id, account=sbx.account, region=sbx.region,
                     function=sbx.function, functions=[f.name for f in box.fns], bucket=sbx.bucket,
                     owner=result.owner, created=result.created,
                     expires=result.expires, budget=result.budget, changes=[r.as_dict() for r in result.stacks])
    return 0


def _deploy(ctx: Context, args: argparse.Namespace) -> int:
    box = _open(ctx, args)
    go_dir = args.go_dir or ctx.config().go_module()
    result = box.deploy(go_dir, args.dist, run_tests=not args.skip_tests)
    ctx.out.table(["smoke", "status", "result", "ms"],
                  [[r.name, r.status, "PASS" if r.passed else f"FAIL: {r.reason}", f"{r.duration_ms:.0f}"]
                   for r in result.smoke],
                  title=f"{', '.join(f'{k} v{v}' for k, v in result.versions.items())} = {result.manifest.sha256[:12]} "
                        f"(smoke from {result.smoke_source})")
    verdict = "passed" if result.passed else "FAILED"
    ctx.out.text(f"uploaded: {'yes' if result.uploaded else 'no'}, code updated: "
                 f"{'yes' if result.code_updated else 'no'}, smoke {verdict}, {result.timings['total']:.1f} s")
    ctx.out.document("sandbox", ok=result.passed, action="deploy", sandbox=box.sbx.id, function=box.sbx.function,
                     sha256=result.manifest.sha256, zip=str(result.zip_path), version=result.version,
                     versions=result.versions,
                     uploaded=result.uploaded, runtime_switched=result.runtime_switched,
                     code_updated=result.code_updated, alias_moved=result.alias_moved,
                     smoke=[r.to_dict() for r in result.smoke], smoke_source=result.smoke_source,
                     timings=result.timings)
    return 0 if result.passed else 1


def _invoke(ctx: Context, args: argparse.Namespace) -> int:
    from pipeline.commands.sandbox_invoke import run_invoke

    return run_invoke(ctx, args, _open)


def _logs(ctx: Context, args: argparse.Namespace) -> int:
    import datetime as dt

    if args.since < 1 or args.limit < 1:
        raise InputError("--since and --limit must be at least 1")
    box = _open(ctx, args)
    events = box.logs(args.since, args.limit, args.function)
    group = box.log_group(args.function)
    saved = None
    if events is None:
        ctx.out.text(f"log group {group} does not exist (yet): the function has not logged anything")
    elif not events:
        ctx.out.text(f"no CloudWatch Logs events in {group} in the last {args.since} min")
    for event in events or []:
        when = dt.datetime.fromtimestamp(event["timestamp"] / 1000, dt.timezone.utc)
        ctx.out.text(f"{when:%Y-%m-%d %H:%M:%S} {event.get('logStreamName', '')} {event['message'].rstrip()}")
    if not events:
        saved = box.saved_tail()
        if saved:
            ctx.out.text(f"the last invoke's log tail from this machine ({box.tail_file}):\n{saved.rstrip()}")
        else:
            ctx.out.text("for an invocation's own log, run `pipeline sandbox invoke --tail`")
    ctx.out.document("sandbox", action="logs", log_group=group, group_exists=events is not None,
                     events=events or [], saved_tail=saved)
    return 0


def _status(ctx: Context, args: argparse.Namespace) -> int:
    box = _open(ctx, args)
    status = box.status()
    if not status["exists"]:
        ctx.out.text(f"no {box.sbx.label}: `pipeline sandbox up` creates it")
    else:
        last = status.get("last_deploy") or {}
        rows = [["function", status["function"]], ["bucket", status["bucket"]], ["owner", status["owner"]],
                ["created", status["created"]],
                ["expires", f"{status['expires']}{' (EXPIRED: gc will delete it)' if status['expired'] else ''}"],
                ["stacks", ", ".join(f"{k} {v}" for k, v in status["stacks"].items())],
                ["runtime", status.get("runtime")],
                ["live", f"v{status['live_version']} {status['live_sha256']}" if status.get("live_version")
                 else "no live alias (never deployed)"],
                ["last deploy", f"{(last.get('sha256') or '')[:12]} v{last.get('version')} smoke "
                                f"{last.get('smoke')} at {last.get('at')}" if last.get("sha256") else None],
                ["budget", _budget_line(status.get("budget"))],
                *[[f"function {f['key']}", _function_line(f)] for f in status.get("functions", [])],
                *([["endpoint", status["endpoint"]]] if status.get("endpoint") else []),
                ["untagged", ", ".join(status["untagged"]) + " (no owner tag)" if status.get("untagged") else None]]
        ctx.out.table(["", ""], rows, title=box.sbx.label)
    ctx.out.document("sandbox", action="status", **status)
    return 0


def _function_line(f: dict[str, Any]) -> str:
    if not f["exists"]:
        return f"{f['function']}: missing (`pipeline sandbox up` makes it)"
    live = f"live v{f['live_version']} {(f['live_sha256'] or '')[:12]}" if f.get("live_version") else "no live alias"
    return f"{f['function']} {f['runtime']} {f['handler']}, {live}, smoke {f['last_deploy'].get('smoke')}"


def _budget_line(budget: dict[str, Any] | None) -> str:
    if budget is None:
        return "none (`pipeline sandbox up` creates it)"
    spend = ", ".join(f"{k} {budget[f'{k}_usd']} USD" for k in ("actual", "forecast") if budget.get(f"{k}_usd"))
    return f"{budget['name']}: {budget['limit_usd']} USD/month" + (f", {spend}" if spend else "") + \
        f", {budget['alerts']} alert(s)"


def _down(ctx: Context, args: argparse.Namespace) -> int:
    box = _open(ctx, args)
    done = box.down()
    for line in done or [f"nothing to delete: no {box.sbx.label}"]:
        ctx.out.text(line)
    ctx.out.document("sandbox", action="down", sandbox=box.sbx.id, account=box.sbx.account, deleted=done)
    return 0


def _gc(ctx: Context, args: argparse.Namespace) -> int:
    from pipeline.aws.session import SessionFactory
    from pipeline.core import sandbox as S
    from pipeline.engine.sandbox import utcnow
    from pipeline.engine.sandbox_gc import gc, parse_accounts

    config = ctx.config()
    accounts = parse_accounts(args.accounts) if args.accounts is not None else None
    role = args.role or (config.sandbox.deploy_role if config.sandbox else None)
    if accounts and not role:
        raise InputError("--accounts needs --role (or deploy_role in sandbox.yml): the role gc assumes in each")
    region = S.region(config, args.region)
    factory = SessionFactory(profile=args.profile, region=region)
    rows = gc(config, factory, region, accounts, role, args.dry_run, utcnow(), ctx.out.progress)
    ctx.out.table(["account", "region", "sandbox", "owner", "expires", "action"], [r.row() for r in rows],
                  title="sandbox gc" + (" (dry run: nothing deleted)" if args.dry_run else ""))
    failed = [r for r in rows if r.action.startswith("failed")]
    ctx.out.document("sandbox", ok=not failed, action="gc", dry_run=args.dry_run,
                     sandboxes=[r.__dict__ for r in rows])
    return 1 if failed else 0


def _unlock(ctx: Context, args: argparse.Namespace) -> int:
    from pipeline.engine.sandbox_guard import unlock

    box = _open(ctx, args)
    done = unlock(box.guard, box.sbx.bucket, box.caller, box.sbx.label, args.force, box.now())
    ctx.out.text(done)
    ctx.out.document("sandbox", action="unlock", sandbox=box.sbx.id, result=done)
    return 0


def _boundary(ctx: Context, args: argparse.Namespace) -> int:
    import json

    from pipeline.core import sandbox_guard as G

    config = ctx.config()
    services = G.allowed_services(config)
    document = G.boundary_document(config.name, services)
    result = None
    if args.apply:
        from pipeline.aws.session import SessionFactory
        from pipeline.core import sandbox as S
        from pipeline.engine.sandbox_guard import apply_boundary

        region = S.region(config, args.region)
        result = apply_boundary(config, SessionFactory(profile=args.profile, region=region), region, services)
    ctx.out.text(result or json.dumps(document, indent=2))
    ctx.out.document("sandbox", action="boundary", name=G.boundary_name(config.name), policy=document,
                     applied=result)
    return 0


_ACTIONS = {"up": _up, "deploy": _deploy, "invoke": _invoke, "logs": _logs, "status": _status, "down": _down,
            "gc": _gc, "unlock": _unlock, "boundary": _boundary}
