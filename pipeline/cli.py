"""Command-line frame: global options, lazy dispatch to one module per verb, exit codes.

Kept light on purpose: `pipeline --help` and `pipeline validate` must not import boto3,
so command modules are imported only when their verb runs, and each keeps AWS imports
inside its `run`.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.commands.options import global_options
from pipeline.commands.usage import Parser, UsageError, output_format
from pipeline.errors import EXIT_FAILED, EXIT_USAGE, PipelineError, one_line

COMMANDS_DIR = Path(__file__).resolve().parent / "commands"

# verb -> (module under pipeline.commands, one-line help). Order is the help order.
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("validate", "check config and templates offline (no AWS call)"),
    "build": ("build", "go test, cross-compile, deterministic zip + manifest in dist/"),
    "stage": ("stage", "upload an artifact to the tooling bucket under its sha256"),
    "artifacts": ("artifacts", "list staged artifacts, newest first"),
    "bootstrap": ("bootstrap", "deploy the tooling / environment stacks through change sets"),
    "promote": ("promote", "gates, code deploy, smoke tests, ledger record"),
    "status": ("status", "one row per environment: what runs where"),
    "history": ("history", "ledger entries"),
    "rollback": ("rollback", "move the alias back to the last good (or a given) artifact"),
    "prune": ("prune", "delete old function versions no alias or rollback needs (recorded)"),
    "verify": ("verify", "ledger hash chains and live code vs ledger"),
    "board": ("board", "the promotion board: one HTML page of what runs where, what blocks what, the ledger"),
    "unlock": ("unlock", "break a stale promotion lock (recorded)"),
    "invoke": ("invoke", "invoke an environment's function and show the answer"),
    "doctor": ("doctor", "preflight checks for one environment"),
    "accounts": ("accounts", "assume the role into every configured account and show who we are"),
    "sandbox": ("sandbox", "per-developer sandbox lifecycle"),
    "pipeline": ("pipeline_runs", "the CodePipeline: run it on a new source, approve, show an execution"),
    "buildspec": ("buildspec", "run buildspec.yml's phases locally, as CodeBuild would"),
    "local": ("local", "run the embedded AWS emulator in the foreground"),
    "demo": ("demo", "the whole flow on the embedded emulator"),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full parser. With `only`, just that verb's module is imported (fast path); `only=""` imports
    none (top-level `--help` and usage errors need only the verb names)."""
    parser = Parser(prog="pipeline", description="Promote one Go Lambda artifact through accounts.")
    parser.add_argument("--version", action="version", version=f"pipeline {__version__}")
    global_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, (module_name, help_text) in COMMANDS.items():
        if not (COMMANDS_DIR / f"{module_name}.py").is_file():
            continue  # verb not built yet: not offered
        sp = sub.add_parser(name, help=help_text, description=help_text)
        global_options(sp, suppress=True)
        if only is None or name == only:
            module = importlib.import_module(f"pipeline.commands.{module_name}")
            module.configure(sp)
    return parser


def _verb(argv: Sequence[str]) -> str | None:
    for arg in argv:
        if arg in COMMANDS:
            return arg
    return None


def _fewer_collections() -> None:
    """A process makes ~100 000 tracked objects while it starts (modules, botocore's service models and
    clients), nearly all of them kept; at the default threshold (700) the cyclic collector runs ~15
    middle and one full collection over them and frees next to nothing (~5-10% of a `status` process's
    CPU). Young collections every 50 000 allocations still bound any cyclic garbage of long runs (`local up`)."""
    gc.set_threshold(50_000, 20, 10)


def _no_final_collection() -> None:
    """When the interpreter exits it runs the cyclic collector over every tracked object once more (~0.08 s
    after a promotion: botocore's models and clients), although the process's memory goes back to the system
    anyway. Frozen objects are left out of that collection. Nothing depends on it: files, sockets, emulators
    and temporary directories are closed by their `with` blocks before main returns, and `weakref.finalize`
    callbacks still run at exit."""
    gc.freeze()


def main(argv: Sequence[str] | None = None) -> int:
    if argv is not None:  # a caller inside another program (the tests): its collector is its own business
        return _run(list(argv))
    _fewer_collections()  # a process of its own: the console script or `python -m pipeline`
    code = _run(sys.argv[1:])
    _no_final_collection()
    return code


def _run(argv: list[str]) -> int:
    verb = _verb(argv)
    parser = build_parser(only=verb or "")
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:  # one line on stderr, one JSON document under --output json, exit 2
        _report(exc.message, [], 0, output_format(argv), verb, EXIT_USAGE)
        return EXIT_USAGE
    if args.command is None:
        if args.output == "json":
            _report("no command given (see `pipeline --help`)", [], 0, "json", None, EXIT_USAGE)
        else:
            parser.print_help()
        return EXIT_USAGE
    module = importlib.import_module(f"pipeline.commands.{COMMANDS[args.command][0]}")
    try:
        if args.local and args.command not in ("local", "demo"):
            from pipeline.commands.local import emulated

            with emulated():
                return module.run(args)
        return module.run(args)
    except PipelineError as exc:
        _report(exc.message, exc.details, args.verbose, args.output, args.command, exc.exit_code, exc.fields)
        return exc.exit_code
    except BrokenPipeError:
        # stdout closed early (e.g. `| head`): not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED
    except KeyboardInterrupt:
        sys.stderr.write("pipeline: interrupted\n")
        return 130
    except Exception as exc:  # the last line of defence: one line, no traceback
        _report(_describe_unexpected(exc), [], args.verbose, args.output, args.command, EXIT_FAILED)
        return EXIT_FAILED


def _describe_unexpected(exc: Exception) -> str:
    if "botocore" in sys.modules:  # an AWS error is only possible once botocore is loaded: keep this path light
        from botocore.exceptions import ClientError

        from pipeline.aws.errors import describe, describe_connection

        if isinstance(exc, ClientError):
            return f"AWS error in {exc.operation_name}: {describe(exc)}"
        unreachable = describe_connection(exc, os.environ)
        if unreachable:
            return unreachable
    return f"unexpected error: {type(exc).__name__}: {exc}"


def _report(message: str, details: list[str], verbose: int, output: str, command: str | None, code: int,
            fields: dict[str, Any] | None = None) -> None:
    from pipeline.output import Output  # stdlib only: keeps the error path light
    from pipeline.redact import redact

    message, details = one_line(redact(message)), [redact(line) for line in details]

    out = Output(output, command=command)
    out.error(message, details if len(details) > 1 else ())  # in CodeBuild: one JSON record, details inside
    if output == "json":
        out.document(command, **{**(fields or {}), "ok": False, "error": message, "details": details,
                                 "exit_code": code})
    if len(details) > 1 and not out.build_id:
        for line in details:
            if line not in message:  # the error line already said the first one ("... (and 2 more)")
                sys.stderr.write(f"  {line}\n")
    if verbose:
        # the exception's text may quote a request, a response or a credential: same redaction as above
        import traceback  # only under -v: keeps every start a little lighter

        sys.stderr.write(redact(traceback.format_exc()))


if __name__ == "__main__":
    raise SystemExit(main())
