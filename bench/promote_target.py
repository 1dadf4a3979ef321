"""Issue 11's wall-time target alone, quicker than the whole of bench/compare.py: one code-only promotion with
two smoke cases under the `aws` profile, against Lambda's modelled update + publish + alias time + 1.0 s.

One counting emulator process (compare_emulator.py, TLS and IAM on), set up as compare.py does (bootstrap and a
first deploy under `instant`, not measured), and one more code change under `aws`, not counted either: each
measured run then has an `aws`-timed predecessor in the ledger, as a user's promotion does (the polls are timed
from it, core/waits.py). Then `--runs` code changes: `pipeline stage` (not timed) and
`pipeline promote --to dev` timed as a whole process. Each promote runs through a small wrapper that stamps the
start and end of every botocore API call, so the report also says where the time outside Lambda's window goes
(start-up to the first call, each call, the gaps between them). Prints, does not judge.

Run: .venv/bin/python bench/promote_target.py [--runs 5] [--scale 1.0]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare_pipeline import PIPELINE, config_dir, promote, stage
from compare_report import load
from compare_tools import Bench, build

# The wrapper: the product's own CLI entry point, with each botocore call's start and end written (as offsets
# from the process's first instruction) to the file named by PROMOTE_TRACE when the process exits.
WRAPPER = """
import atexit, json, os, sys, time
t0 = time.time()
import botocore.client
calls = []
real = botocore.client.BaseClient._make_api_call
def traced(self, name, params):
    began = time.time()
    try:
        return real(self, name, params)
    finally:
        calls.append((name, began - t0, time.time() - t0))
botocore.client.BaseClient._make_api_call = traced
atexit.register(lambda: open(os.environ["PROMOTE_TRACE"], "w").write(json.dumps(
    {"start": t0, "end": time.time(), "calls": calls})))
from pipeline.cli import main
sys.argv = ["pipeline", *sys.argv[1:]]
sys.exit(main())
"""


def one_promote(bench: Bench, cwd: Path, digest: str, trace: Path) -> dict:
    argv, env, _ = promote(bench, cwd, "dev", digest)
    began = time.time()
    done = subprocess.run([sys.executable, "-c", WRAPPER, *argv[1:]], env={**env, "PROMOTE_TRACE": str(trace)},
                          cwd=cwd, capture_output=True, text=True)
    wall = time.time() - began
    if done.returncode != 0:
        raise SystemExit(f"promote exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    data = json.loads(trace.read_text())
    data["wall"], data["spawn"] = wall, data["start"] - began
    return data


def describe(run: dict) -> list[str]:
    calls = sorted(run["calls"], key=lambda c: c[1])
    lines = [f"  spawn -> python running {run['spawn']:.3f} s; first call at +{calls[0][1]:.3f} s"]
    for name, start, end in calls:
        lines.append(f"  +{start:6.3f} .. +{end:6.3f}  {end - start:5.3f} s  {name}")
    lines.append(f"  last call ends +{max(c[2] for c in calls):.3f} s; process exits +{run['end'] - run['start']:.3f} s"
                 f"; wall {run['wall']:.3f} s")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="code changes promoted (median reported)")
    parser.add_argument("--scale", type=float, default=1.0, help="PIPELINE_EMULATOR_TIME_SCALE")
    args = parser.parse_args()
    from pipeline.local import timing

    model = timing.profile("aws", args.scale)
    limit = model.window("lambda.update_code") + 3 * model.latency("lambda") + 1.0
    work = Path(tempfile.mkdtemp(prefix="bench-target-"))
    bench = None
    try:
        artifacts = build(work, args.runs + 2)
        bench = Bench(work / "aws", None, "aws", args.scale)
        cwd = config_dir(bench, "pipeline")
        bench.setup([([PIPELINE, "bootstrap", "--tooling"], bench.env, cwd),
                     ([PIPELINE, "bootstrap", "--env", "dev"], bench.env, cwd),
                     stage(bench, cwd, artifacts[0][0]), promote(bench, cwd, "dev", artifacts[0][1].sha256)])
        runs = []
        for i, (zip_path, manifest) in enumerate(artifacts[1:]):  # the first, not counted: an `aws`-timed predecessor

            bench.measure([stage(bench, cwd, zip_path)])
            run = one_promote(bench, cwd, manifest.sha256, work / f"trace-{i}.json")
            assert bench.live_sha("111111111111", "greeter-dev", "live") == manifest.code_sha256
            if i:
                runs.append(run)
    finally:
        if bench is not None:
            bench.close()
        shutil.rmtree(work, ignore_errors=True)
    walls = [r["wall"] for r in runs]
    median = statistics.median(walls)
    typical = min(runs, key=lambda r: abs(r["wall"] - median))
    print(f"machine: nproc {os.cpu_count()}; load {load()}; scale {args.scale:g}")
    print(f"promote --to dev (code change, 2 smoke cases), {len(runs)} runs: median {median:.3f} s "
          f"(min {min(walls):.3f}, max {max(walls):.3f}); limit {limit:.3f} s "
          f"(lambda.update_code {model.window('lambda.update_code'):g} s + 3 x {model.latency('lambda'):g} s + 1.0 s)"
          f": {'met' if median <= limit else 'NOT met'}")
    def at(run: dict, pick: str) -> float:
        calls = sorted(run["calls"], key=lambda c: c[1])
        update = next(c for c in calls if c[0] == "UpdateFunctionCode")
        return {"first call": calls[0][1], "UpdateFunctionCode sent": update[1],
                "UpdateFunctionCode answered -> UpdateAlias sent": next(
                    c for c in calls if c[0] == "UpdateAlias")[1] - update[2],
                "UpdateAlias sent -> last call answered": max(c[2] for c in calls) - next(
                    c for c in calls if c[0] == "UpdateAlias")[1],
                "last call answered -> exit": run["end"] - run["start"] - max(c[2] for c in calls)}[pick]

    print("medians over the runs: " + "; ".join(
        f"{name} {statistics.median(at(r, name) for r in runs):.3f} s" for name in (
            "first call", "UpdateFunctionCode sent", "UpdateFunctionCode answered -> UpdateAlias sent",
            "UpdateAlias sent -> last call answered", "last call answered -> exit")))
    print("the run nearest the median, call by call (offsets from the interpreter's start):")
    print("\n".join(describe(typical)))


if __name__ == "__main__":
    main()
