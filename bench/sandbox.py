"""`pipeline sandbox` figures on the embedded emulator: up, first deploy, unchanged and changed deploys;
with --calls, the AWS calls `sandbox up` makes and what each guardrail costs in calls.

Prints figures (not pass/fail). Issue 6 asks: an unchanged tree makes no upload and no code
update (the calls are listed), and from a warm Go cache a changed tree deploys in <= 15 s.
"Changed" is a copy of go-function/ with one more comment (new source digest -> new bytes).
Each deploy runs `go test` first unless --skip-tests is given here.

Issue 18 asks for the calls of `sandbox up` by service:operation and each guardrail's share (--calls):
every call is counted by a botocore `before-call` hook and attributed to the guardrail whose code
path made it (the innermost of GUARDRAILS on the Python stack at the call; the rest is the sandbox
itself). Run as a developer role (so the owner tag's GetRole is counted), with and without
require_boundary, creating and then with nothing changed.

Run: .venv/bin/python bench/sandbox.py [--skip-tests] [--rounds N] | --calls
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-tests", action="store_true", help="deploy with --skip-tests")
    parser.add_argument("--rounds", type=int, default=3, help="changed-tree deploys to time (default 3)")
    parser.add_argument("--calls", action="store_true", help="only the calls of `sandbox up` per guardrail")
    opts = parser.parse_args()
    if opts.calls:
        from sandbox_guardrails import guardrail_calls

        return guardrail_calls(REPO)

    from pipeline.aws import session as session_module
    from pipeline.cli import main as cli
    from pipeline.local.emulator import Emulator

    calls: list[str] = []
    original = session_module.SessionFactory.__init__

    def counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["event_hooks"] = [("before-call", lambda model, **_: calls.append(model.name))]
        original(self, *args, **kwargs)

    session_module.SessionFactory.__init__ = counting  # type: ignore[method-assign]
    work = Path(tempfile.mkdtemp(prefix="bench-sandbox-"))
    shutil.copytree(REPO / "environments", work / "environments")
    go_dir = work / "go-function"
    shutil.copytree(REPO / "go-function", go_dir)
    os.chdir(work)
    tests = ["--skip-tests"] if opts.skip_tests else []

    def run(*args: str) -> tuple[float, dict]:
        calls.clear()
        out = io.StringIO()
        start = time.perf_counter()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = cli(["--output", "json", "sandbox", *args, "--user", "bench"])
        elapsed = time.perf_counter() - start
        if code != 0:
            raise SystemExit(f"sandbox {' '.join(args)} exited {code}: {out.getvalue()[-500:]}")
        return elapsed, json.loads(out.getvalue())

    deploy = ("deploy", "--go-dir", str(go_dir), "--dist", str(work / "dist"), *tests)
    with Emulator() as emulator:
        emulator.export_environment(os.environ)
        seconds, _ = run("up")
        print(f"up (create, 2 stacks)          {seconds:6.2f} s  {len(calls)} calls")
        seconds, _ = run("up")
        print(f"up (again: no change)          {seconds:6.2f} s  {len(calls)} calls: {', '.join(calls)}")
        seconds, doc = run(*deploy)
        print(f"deploy (stub -> Go)            {seconds:6.2f} s  build {doc['timings']['build']:.2f} s")
        seconds, doc = run(*deploy)
        print(f"deploy (unchanged tree)        {seconds:6.2f} s  build {doc['timings']['build']:.2f} s, "
              f"{len(calls)} calls: {', '.join(calls)}")
        changed = []
        for i in range(opts.rounds):
            (go_dir / "main.go").write_text((go_dir / "main.go").read_text() + f"\n// change {i}\n")
            seconds, doc = run(*deploy)
            changed.append(seconds)
            print(f"deploy (changed tree, round {i + 1}) {seconds:6.2f} s  build {doc['timings']['build']:.2f} s, "
                  f"{len(calls)} calls: {', '.join(calls)}")
        print(f"changed tree: median {statistics.median(changed):.2f} s, max {max(changed):.2f} s "
              f"({'without' if opts.skip_tests else 'with'} go test; target <= 15 s)")
        run("down")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
