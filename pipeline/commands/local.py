"""`pipeline local up`: keep the embedded AWS emulator running in the foreground for other shells;
and `--local` for any verb (`emulated`). The only doors from the product into `pipeline.local`,
with `demo`: nothing else imports the emulator.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator

from pipeline.commands.context import Context


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="local_command", metavar="ACTION", required=True)
    up = sub.add_parser("up", help="start the emulator and print the export lines for other shells")
    up.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    up.add_argument("--timing", choices=("aws", "instant"), default=None,
                    help="how long AWS's asynchronous states last and what a call costs "
                         "(default: $PIPELINE_EMULATOR_TIMING, else aws)")
    up.add_argument("--time-scale", type=float, default=None, metavar="F",
                    help="multiply every modelled duration and latency by F (default: "
                         "$PIPELINE_EMULATOR_TIME_SCALE, else 1)")
    report = sub.add_parser("iam-report", help="each rendered policy statement's actions with their use count in "
                                               "the emulator's decision logs, and the grants nothing used")
    report.add_argument("--log", action="append", default=[], metavar="FILE",
                        help="a decision log (PIPELINE_EMULATOR_IAM_LOG of a demo or test run); repeatable")
    report.add_argument("--fail-on-unused", action="store_true", help="exit 1 when a grant without a reason is unused")


def run(args: argparse.Namespace) -> int:
    if args.local_command == "iam-report":
        return _iam_report(args)
    from pipeline.local import timing
    from pipeline.local.emulator import Emulator

    ctx = Context(args)
    chosen = timing.from_env(name=args.timing, scale=args.time_scale)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with Emulator(port=args.port, timing=chosen) as emulator:
        # the operator's keys (tooling account: the promoter role, and its pipelines as itself), not the admin's
        env = emulator.environment("operator")
        admin = emulator.environment("admin")
        admin_keys = " ".join(f"{k}={admin[k]}" for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"))
        ctx.out.document("local", endpoint_url=emulator.endpoint_url, environment=env, timing=chosen.describe(),
                         admin_environment=admin)
        ctx.out.text(f"# emulator running at {emulator.endpoint_url}, timing {chosen.describe()} "
                     "(Ctrl-C stops it). In another shell, as the tooling account's operator (it may only "
                     "assume the promoter role `tooling.role`):")
        for key, value in env.items():
            ctx.out.text(f"export {key}={value}")
        ctx.out.text("# bootstrap needs the organization's admin (it assumes OrganizationAccountAccessRole), once:")
        ctx.out.text(f"#   {admin_keys} pipeline bootstrap --all")
        ctx.out.stdout.flush()
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
    return 0


def _iam_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pipeline.errors import InputError
    from pipeline.local.iamreport import report

    ctx = Context(args)
    logs = [Path(p) for p in (args.log or [os.environ.get("PIPELINE_EMULATOR_IAM_LOG", "")]) if p]
    missing = [str(p) for p in logs if not p.is_file()]
    if not logs or missing:
        raise InputError(f"iam-report: no decision log {'at ' + ', '.join(missing) if missing else 'given'} "
                         "(--log FILE, or PIPELINE_EMULATOR_IAM_LOG)")
    data = report(ctx.config(), logs)
    ok = not (args.fail_on_unused and data["unused"])
    ctx.out.document("local", ok=ok, iam_report=data)
    rows = [[s["policy"], s["statement"], action, uses] for s in data["statements"]
            for action, uses in s["uses"].items()]
    ctx.out.table(["policy", "statement", "action", "uses"], rows,
                  title=f"grants and their use ({data['calls']} decisions)")
    ctx.out.table(["policy", "statement", "action"],
                  [[u["policy"], u["statement"], u["action"]] for u in data["unused"]],
                  title=f"unused grants without a reason: {len(data['unused'])}")
    if data["unused_with_reason"]:
        ctx.out.table(["policy", "statement", "action", "reason"], [[u["policy"], u["statement"], u["action"],
                      u["reason"]] for u in data["unused_with_reason"]], title="unused grants with a reason")
    ctx.out.text(f"wildcard actions: {len(data['wildcard_actions'])} {' '.join(data['wildcard_actions'])}".rstrip())
    if data["denied"]:
        ctx.out.table(["principal", "action", "count", "reason"], [[d["principal"], d["action"], d["count"],
                      d["reason"][:80]] for d in data["denied"]], title="denied")
    return 0 if ok else 1


@contextlib.contextmanager
def emulated() -> Iterator[None]:
    """A fresh in-process emulator for one command, this process's AWS variables pointed at it."""
    from pipeline.local.emulator import Emulator

    with Emulator() as emulator:
        emulator.export_environment(os.environ)
        # said every time: state made here is gone when the command ends (a second --local starts empty)
        sys.stderr.write("pipeline: --local: a fresh, empty emulator for this command only; to keep state across "
                         "commands run `pipeline local up` and paste its export lines\n")
        yield
