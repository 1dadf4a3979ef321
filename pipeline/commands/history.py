"""`pipeline history [--env E] [--limit N]`: ledger records, newest first."""

from __future__ import annotations

import argparse

from pipeline.commands.context import Context
from pipeline.inputs import positive_int


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", help="one environment (default: all)")
    parser.add_argument("--limit", type=positive_int, default=20, help="records per environment (default 20)")


def run(args: argparse.Namespace) -> int:
    from pipeline.aws.ledger import LedgerStore

    ctx = Context(args)
    config = ctx.config()
    names = [config.env(args.env).name] if args.env else list(config.order)
    store = LedgerStore(ctx.accounts.tooling(), config)
    rows, records = [], []
    for name in names:
        view = store.view(name)
        for i, record in enumerate(view.newest_first()):
            if i >= args.limit:
                break
            data = record.data
            smoke = data.get("smoke") or []
            rows.append([name, record.seq, str(data.get("time", ""))[:19], data.get("type"), data.get("action"),
                         data.get("outcome"), str(data.get("artifact") or "")[:12], data.get("version"),
                         f"{sum(1 for s in smoke if s.get('passed'))}/{len(smoke)}" if smoke else None,
                         _who(data), data.get("reason")])
            records.append({"key": record.key, "hash": record.hash, **data})
    ctx.out.table(["env", "seq", "time", "type", "action", "outcome", "artifact", "version", "smoke", "who",
                   "detail"], rows)
    ctx.out.document("history", records=records)
    return 0


def _who(data: dict) -> str:
    actor = str(data.get("actor") or "")
    return actor.rsplit("/", 1)[-1] if "assumed-role" in actor else actor
