"""`pipeline buildspec run`: run buildspec.yml's phases on this machine, as CodeBuild would.

So the buildspec the pipeline runs can be tried (and tested) without AWS: the same phases,
variables and failure rules, then the exported variables for the next stage (`--export-file`
here, `--env-file` there), the way CodePipeline hands them from action to action.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from pipeline.core.buildspec import PHASES, check_env_file
from pipeline.errors import EXIT_FAILED, EXIT_OK, InputError
from pipeline.output import Output


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="buildspec_command", metavar="ACTION", required=True)
    run_parser = sub.add_parser("run", help="run the phases in order with bash; stop at the first failing command",
                                description="Run buildspec.yml's phases in order with bash, with the variables "
                                            "CodeBuild sets; exit 1 naming the phase and command that failed.")
    run_parser.add_argument("--file", default="buildspec.yml", help="the buildspec (default: buildspec.yml)")
    run_parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                            help="set a variable, over env.variables and --env-file (repeatable)")
    run_parser.add_argument("--env-file", help="JSON object of variables, e.g. a previous stage's --export-file")
    run_parser.add_argument("--export-file", help="write env.exported-variables here as JSON when the build succeeds")
    run_parser.add_argument("--skip-phase", action="append", default=[], choices=PHASES, metavar="PHASE",
                            help=f"do not run this phase ({', '.join(PHASES)}; repeatable), e.g. install locally")
    run_parser.add_argument("--src-dir", help="source directory: CODEBUILD_SRC_DIR and the working directory "
                                              "(default: the buildspec's directory)")
    run_parser.add_argument("--project", default="local", help="project part of CODEBUILD_BUILD_ID (default: local)")
    run_parser.add_argument("--build-number", type=int, default=1, help="CODEBUILD_BUILD_NUMBER (default: 1)")


def run(args: argparse.Namespace) -> int:
    from pipeline.core.buildspec import build_environment, codebuild_variables, parse_assignment, parse_buildspec
    from pipeline.engine.buildspec_run import BuildspecRunner

    out = Output(args.output, command="buildspec")
    path = Path(args.file)
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the buildspec ({exc.strerror or exc})") from None
    spec = parse_buildspec(text, str(path))
    overrides = dict(parse_assignment(item) for item in args.env)
    env_file = _env_file(args.env_file) if args.env_file else {}
    src = Path(args.src_dir) if args.src_dir else path.resolve().parent
    if not src.is_dir():
        raise InputError(f"--src-dir {src}: not a directory")
    src = src.resolve()
    build_id = f"{args.project}:{uuid.uuid4()}"
    codebuild = codebuild_variables(build_id=build_id, build_number=args.build_number, src_dir=str(src),
                                    initiator=f"local/{_user()}", start_ms=int(time.time() * 1000),
                                    source_version=_git_head(src))
    env = build_environment(os.environ, spec, env_file, overrides, codebuild)
    for key in spec.ignored:
        out.progress(f"[Container] {key}: not run locally")
    out.progress(f"[Container] {path}: build {build_id} in {src}")

    stream = sys.stderr if out.json else sys.stdout  # the commands' own output; stdout stays the document
    result = BuildspecRunner(spec, env, src, stream=stream, progress=out.progress, skip=args.skip_phase).run()

    out.table(["phase", "status", "seconds"], [[p.name, p.status, f"{p.seconds:.1f}"] for p in result.phases])
    failure = result.failure
    if failure is None:
        for name, value in result.exported.items():
            out.text(f"{name}={value}")
        for name in result.missing_exports:
            out.progress(f"warning: exported variable {name} was never set")
        if args.export_file:
            Path(args.export_file).write_text(json.dumps(result.exported, indent=2, sort_keys=True) + "\n")
    doc = {"build_id": build_id, "phases": [p.to_dict() for p in result.phases], "exported": result.exported,
           "missing_exports": result.missing_exports, "failure": failure.to_dict() if failure else None}
    if failure is not None:
        message = failure.describe(str(path))
        out.error(message)
        out.document("buildspec", ok=False, error=message, exit_code=EXIT_FAILED, tail=result.tail, **doc)
        return EXIT_FAILED
    out.document("buildspec", **doc)
    return EXIT_OK


def _env_file(name: str) -> dict[str, str]:
    try:
        data = json.loads(Path(name).read_text())
    except OSError as exc:
        raise InputError(f"--env-file {name}: cannot read it ({exc.strerror or exc})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"--env-file {name}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    return check_env_file(data, f"--env-file {name}")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _git_head(src: Path) -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=src, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None
