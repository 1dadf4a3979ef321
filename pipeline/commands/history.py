"""`pipeline history [--env E] [--limit N] [--per-env]`: ledger records, newest first.

`--limit N` is the newest N records overall (all envs merged by time); `--per-env` keeps the
grouping by env with N records each. Records are read newest first and only as far as needed:
at most N per env.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from pipeline.commands.context import Context
from pipeline.inputs import positive_int

if TYPE_CHECKING:
    from pipeline.core.ledger import Record


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", help="one environment (default: all)")
    parser.add_argument("--limit", type=positive_int, default=20,
                        help="the newest N records (default 20); with --per-env, N per environment")
    parser.add_argument("--per-env", action="store_true", help="group by environment, --limit records each")


def run(args: argparse.Namespace) -> int:
    from pipeline.core import records as R

    ctx = Context(args)
    config = ctx.config()
    names = [config.env(args.env).name] if args.env else list(config.order)
    store = ctx.engine.ledger
    found = []  # (env, record), each env's newest first
    for name in names:
        view = store.view(name)
        for i, record in enumerate(view.newest_first()):
            if i >= args.limit:
                break
            found.append((name, record))
    if not args.per_env:  # the newest N overall: every env's N newest, merged by time
        found.sort(key=lambda item: (str(item[1].data.get("time", "")), item[1].seq), reverse=True)
        found = found[:args.limit]
    rows, records = [], []
    for name, record in found:
        data = record.data
        rows.append([name, record.seq, str(data.get("time", ""))[:19], record.type, data.get("action"),
                     R.outcome_of(record), (R.artifact(record) or "")[:12], R.version(record) or _functions(record),
                     R.smoke_summary(record), _who(R.actor(record)), _detail(data)])
        records.append({"key": record.key, "hash": record.hash, **data})
    ctx.out.table(["env", "seq", "time", "type", "action", "outcome", "artifact", "version", "smoke", "who",
                   "detail"], rows)
    ctx.out.document("history", records=records)
    return 0


def _functions(record: Record) -> str | None:
    """A service's release: every function's version (`api v4, worker v2`); None for the one-function shape."""
    from pipeline.core import records as R

    if not R.is_service(record):
        return None
    return ", ".join(f"{k} v{v}" if v else f"{k} -" for k, v in R.function_versions(record).items())


def _detail(data: dict) -> str | None:
    """The record's reason, then who approved it (and why) and the CodeBuild build that wrote it, when known."""
    approval = data.get("approval") if isinstance(data.get("approval"), dict) else {}
    parts = [str(data["reason"])] if data.get("reason") else []
    if approval.get("approver"):
        parts.append(f"approved by {approval['approver']}" + (f": {approval['reason']}" if approval.get("reason")
                                                               else ""))
    if data.get("build_id"):
        parts.append(f"build {data['build_id']}")
    return "; ".join(parts) or None


def _who(actor: str) -> str:
    return actor.rsplit("/", 1)[-1] if "assumed-role" in actor else actor
