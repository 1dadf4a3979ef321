"""`pipeline sandbox invoke`: invoke a sandbox function (`--function`, `--path`/`--event`), or send a real
HTTP request through the sandbox's HTTP API (`--http 'GET /hello/bob'`, `--header K:V`, `--data BODY`).

Bad input is exit 2 before any AWS call. Over HTTP the answer is printed as it came (status, headers,
body); a status of 400 or more is exit 1, as a function error is for an invoke.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pipeline.commands.context import Context
from pipeline.core.function import LIVE_ALIAS
from pipeline.errors import InputError


def configure(sp: argparse.ArgumentParser) -> None:
    source = sp.add_mutually_exclusive_group()
    source.add_argument("--path", help="GET this path (default /health)")
    source.add_argument("--event", type=Path, help="JSON event file")
    source.add_argument("--http", metavar="'METHOD /path'",
                        help="send this HTTP request to the sandbox's HTTP API (a service with http routes)")
    sp.add_argument("--function", help="the function (functions: key) to invoke (default: the one http function, "
                                       "else the only one)")
    sp.add_argument("--header", action="append", default=[], metavar="K:V", help="a header of --http (repeatable)")
    sp.add_argument("--data", help="the body of --http")
    sp.add_argument("--qualifier", default=LIVE_ALIAS, help=f"alias or version (default: {LIVE_ALIAS})")
    sp.add_argument("--tail", action="store_true", help="print the invocation's log tail (LogResult)")


def _event(args: argparse.Namespace) -> dict[str, Any]:
    from pipeline.core.http import http_event

    if args.event is None:
        path = args.path or "/health"
        if not path.startswith("/"):
            raise InputError(f"--path must start with '/', got {path!r}")
        return http_event(path)
    from pipeline.inputs import read_event

    return read_event(args.event)  # a directory, /dev/zero, >6 MB or 100k-deep JSON: one line, exit 2


def _headers(values: list[str]) -> dict[str, str]:
    headers = {}
    for value in values:
        name, sep, text = value.partition(":")
        if not sep or not name.strip():
            raise InputError(f"--header {value!r}: give NAME:VALUE")
        headers[name.strip()] = text.strip()
    return headers


def _check_http(ctx: Context, args: argparse.Namespace) -> tuple[str, str, dict[str, str]]:
    """--http's request, checked offline: a service with routes, no --function/--qualifier/--tail with it."""
    from pipeline.core import sandbox_service as V

    method, path = V.parse_request(args.http)
    headers = _headers(args.header)
    config = ctx.config()
    if not any(f.settings.routes for f in config.sandbox_functions):
        raise InputError(f"--http: {config.directory}/pipeline.yml has no http routes (functions.<key>.http): the "
                         "sandbox has no HTTP API; invoke the function instead (--path, --event)")
    if args.function is not None or args.qualifier != LIVE_ALIAS or args.tail:
        raise InputError("--http goes where its route goes, through the live alias: drop --function, --qualifier "
                         "and --tail")
    return method, path, headers


def run_invoke(ctx: Context, args: argparse.Namespace, open_box: Any) -> int:
    if args.http is None:
        if args.header or args.data is not None:
            raise InputError("--header and --data go with --http")
        return _invoke(ctx, args, open_box)
    method, path, headers = _check_http(ctx, args)
    box = open_box(ctx, args)
    answer = box.http(method, path, headers, args.data)
    ctx.out.text(f"HTTP {answer.status}  {method} {path}  {answer.duration_ms:.1f} ms")
    for name, value in sorted(answer.headers.items()):
        ctx.out.text(f"{name}: {value}")
    ctx.out.text("")
    ctx.out.text(answer.body)
    ctx.out.document("sandbox", ok=answer.status < 400, action="invoke", http=f"{method} {path}",
                     status=answer.status, headers=answer.headers, body=answer.body,
                     duration_ms=round(answer.duration_ms, 1))
    return 0 if answer.status < 400 else 1


def _invoke(ctx: Context, args: argparse.Namespace, open_box: Any) -> int:
    from pipeline.core.http import BadResponse, parse_response

    event = _event(args)  # bad input is exit 2 before any AWS call
    if args.function is not None:
        from pipeline.core import sandbox as S
        from pipeline.core import sandbox_service as V

        config = ctx.config()
        V.pick(V.functions(config, S.names(config.name, "x", "000000000000", config.region)), args.function)
    box = open_box(ctx, args)
    inv, tail = box.invoke(event, args.qualifier, args.function)
    status, body = None, inv.payload.decode("utf-8", "replace")
    if not inv.function_error:
        try:
            response = parse_response(inv.payload)
            status, body = response.status, response.body
        except BadResponse:
            pass
    ctx.out.text(f"status: {status if status is not None else inv.function_error}  "
                 f"version: {inv.executed_version}  duration: {inv.duration_ms:.1f} ms")
    ctx.out.text(body)
    if args.tail:
        ctx.out.text("-- log tail (LogResult) --\n" + (tail.rstrip() or "(empty)"))
    ctx.out.document("sandbox", ok=inv.function_error is None, action="invoke", status=status, body=body,
                     function_error=inv.function_error, executed_version=inv.executed_version,
                     duration_ms=round(inv.duration_ms, 1), **({"log_tail": tail} if args.tail else {}))
    return 1 if inv.function_error else 0
