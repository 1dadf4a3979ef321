"""`pipeline invoke --env E [--path /health | --event FILE] [--qualifier Q]`: status, body, duration."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.commands.context import Context
from pipeline.core.function import LIVE_ALIAS
from pipeline.errors import InputError
from pipeline.inputs import read_event


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--path", default=None, help="GET this path (default /health)")
    source.add_argument("--event", type=Path, help="JSON event file")
    parser.add_argument("--qualifier", default=LIVE_ALIAS, help=f"alias or version (default: {LIVE_ALIAS})")
    parser.add_argument("--function", default=None, help="the service's function (`functions:` key) to invoke")


def _event(args: argparse.Namespace) -> dict:
    from pipeline.core.http import http_event

    if args.event is None:
        path = args.path or "/health"
        if not path.startswith("/"):
            raise InputError(f"--path must start with '/', got {path!r}")
        return http_event(path)
    return read_event(args.event)


def run(args: argparse.Namespace) -> int:
    ctx = Context(args)
    config = ctx.config()
    env = config.env(args.env)
    event = _event(args)
    from pipeline.aws.functions import FunctionAdapter
    from pipeline.core.http import BadResponse, parse_response
    from pipeline.infra import naming

    keys = [f.key for f in env.functions if f.key]
    if keys and args.function not in keys:
        raise InputError(f"--function: a service's invoke names one of its functions: {', '.join(keys)}"
                         + (f" (not {args.function!r})" if args.function else ""))
    if not keys and args.function:
        raise InputError("--function: this configuration has one function (function:), not a service")
    target = env.targets[0]
    fn = FunctionAdapter(ctx.accounts.target(env, target), target.region,
                         naming.service_function_name(config, env, args.function or ""))
    inv = fn.invoke(args.qualifier, event)
    payload = inv.payload.decode("utf-8", "replace")
    status, body, problem = None, payload, None
    if inv.function_error:
        problem = f"a function error ({_one_line(inv.function_error)}): {_error_message(inv.payload)}"
    else:
        try:
            response = parse_response(inv.payload)
            status, body = response.status, response.body
        except BadResponse as exc:
            problem = f"something that is not an HTTP (payload v2) response: {_one_line(str(exc))}"
    ctx.out.text(f"status: {status if status is not None else inv.function_error}  "
                 f"version: {inv.executed_version}  duration: {inv.duration_ms:.1f} ms")
    ctx.out.text(body)
    ctx.out.document("invoke", ok=problem is None, status=status, body=body,
                     function_error=inv.function_error, executed_version=inv.executed_version,
                     duration_ms=round(inv.duration_ms, 1), **({"error": problem} if problem else {}))
    if problem:
        sys.stderr.write(f"pipeline: error: {fn.name}:{args.qualifier} answered {problem}\n")
        return 1
    return 0


def _error_message(payload: bytes) -> str:
    from pipeline.core.smoke import error_message

    return _one_line(error_message(payload))


def _one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
