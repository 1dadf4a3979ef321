"""`pipeline invoke --env E [--path /health | --event FILE] [--qualifier Q]`: status, body, duration."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pipeline.commands.context import Context
from pipeline.errors import InputError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--path", default=None, help="GET this path (default /health)")
    source.add_argument("--event", type=Path, help="JSON event file")
    parser.add_argument("--qualifier", default="live", help="alias or version (default: live)")


def _event(args: argparse.Namespace) -> dict:
    from pipeline.core.http import http_event

    if args.event is None:
        path = args.path or "/health"
        if not path.startswith("/"):
            raise InputError(f"--path must start with '/', got {path!r}")
        return http_event(path)
    try:
        data = json.loads(args.event.read_text())
    except FileNotFoundError:
        raise InputError(f"--event {args.event}: file not found") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"--event {args.event}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(f"--event {args.event}: must be a JSON object")
    return data


def run(args: argparse.Namespace) -> int:
    ctx = Context(args)
    config = ctx.config()
    env = config.env(args.env)
    event = _event(args)
    from pipeline.aws.functions import FunctionAdapter
    from pipeline.core.http import BadResponse, parse_response
    from pipeline.infra import naming

    target = env.targets[0]
    fn = FunctionAdapter(ctx.accounts.target(env, target), target.region, naming.function_name(config, env))
    inv = fn.invoke(args.qualifier, event)
    payload = inv.payload.decode("utf-8", "replace")
    status, body = None, payload
    if not inv.function_error:
        try:
            response = parse_response(inv.payload)
            status, body = response.status, response.body
        except BadResponse:
            pass
    ctx.out.text(f"status: {status if status is not None else inv.function_error}  "
                 f"version: {inv.executed_version}  duration: {inv.duration_ms:.1f} ms")
    ctx.out.text(body)
    ctx.out.document("invoke", ok=inv.function_error is None, status=status, body=body,
                     function_error=inv.function_error, executed_version=inv.executed_version,
                     duration_ms=round(inv.duration_ms, 1))
    return 1 if inv.function_error else 0
