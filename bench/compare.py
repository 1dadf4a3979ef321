"""Side by side, under each emulator timing profile (`instant` and `aws` by default, both from one run): one code
change deployed to one environment by (a) `pipeline stage` + `pipeline promote`, (b) `aws s3 cp` + `aws
cloudformation deploy` (the code key as a parameter), (c) `aws s3 cp` + `sceptre launch` of the same template;
the demo's promotion of one artifact dev -> test -> prod; one wave of N targets; CLI start-up. Under `aws` it
checks issue 11's two targets for a code-only promotion (printed, never asserted).

Each profile gets its own emulator process (compare_emulator.py, TLS and IAM on), which counts every HTTP request
it receives the same way for all tools (a request is an AWS call, retries included) and the bytes of the request
bodies. The AWS CLI and Sceptre live in their own venv (bench/requirements-compare.txt); `make compare` creates it.

Run:  make compare   (or: .venv/bin/python bench/compare.py --tools-venv bench/.venv-compare --timing instant,aws
                          [--scale 1.0] [--runs 3] [--waves instant=1,5,20,50 --waves aws=1,20])
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare_pipeline import demo_promotion, pipeline_side, waves
from compare_report import CFN_ROW, PIPELINE_ROW, load, print_report, row, startup, step_median, targets, versions
from compare_tools import REPO, Bench, Measured, build, cloudformation_side

DEFAULT_WAVES = {"instant": "1,5,20", "aws": "1,20"}


def one_profile(work: Path, tools: Path | None, profile: str, scale: float, runs: int,
                artifacts: list[tuple[Path, Any]], wave_sizes: list[int]) -> dict[str, Any]:
    """Every measurement on one emulator process under `profile` x `scale`."""
    began = time.perf_counter()
    bench = Bench(work / profile, tools, profile, scale)
    try:
        pipeline_runs, cwd = pipeline_side(bench, artifacts, runs)
        side: dict[str, list[Measured]] = {PIPELINE_ROW: pipeline_runs}
        if tools is not None:
            side[CFN_ROW] = cloudformation_side(bench, artifacts, runs, "121212121212", sceptre=False)
            if (tools / "bin" / "sceptre").exists():
                side["aws s3 cp + sceptre launch"] = cloudformation_side(bench, artifacts, runs, "131313131313",
                                                                         sceptre=True)
        out: dict[str, Any] = {"timing": f"{profile}" + (f" x{scale:g}" if scale != 1.0 else ""),
                               "side_by_side": {name: row(ms) for name, ms in side.items()},
                               "promote_step_s": round(step_median(pipeline_runs, 1), 3)}
        if CFN_ROW in side:
            out["cfn_deploy_step_s"] = round(step_median(side[CFN_ROW], 1), 3)
        demo = demo_promotion(bench, cwd, artifacts[runs + 1])
        out["demo"] = {"wall_s": round(demo.wall, 3), "calls": len(demo.calls), "bytes_uploaded": demo.bytes,
                       "steps_s": {step: round(w, 3) for step, w in demo.steps}, "breakdown": demo.breakdown()}
        out["waves"] = [{"targets": n, "median_wall_s": round(m.wall, 3), "calls": len(m.calls),
                         "bytes_uploaded": m.bytes} if isinstance(m, Measured) else {"targets": n, "error": m}
                        for n, m in waves(bench, artifacts, wave_sizes, runs)]
    finally:
        bench.close()
    out["bench_wall_s"] = round(time.perf_counter() - began, 1)
    out["load_after"] = load()
    print(f"[{profile}] done in {out['bench_wall_s']:.0f} s, load {out['load_after']}", file=sys.stderr, flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tools-venv", type=Path, default=REPO / "bench" / ".venv-compare",
                        help="venv holding awscli and sceptre (make compare creates it)")
    parser.add_argument("--timing", default="instant,aws", help="emulator timing profiles, in this order")
    parser.add_argument("--scale", type=float, default=1.0, help="PIPELINE_EMULATOR_TIME_SCALE for every profile")
    parser.add_argument("--runs", type=int, default=3, help="code changes per tool (median reported)")
    parser.add_argument("--waves", action="append", default=[], metavar="PROFILE=SIZES",
                        help=f"wave sizes per profile (default {DEFAULT_WAVES})")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    profiles = [p.strip() for p in args.timing.split(",") if p.strip()]
    sizes = dict(DEFAULT_WAVES, **dict(w.split("=", 1) for w in args.waves))
    tools = args.tools_venv.resolve() if (args.tools_venv / "bin" / "aws").exists() else None
    work = Path(tempfile.mkdtemp(prefix="bench-compare-"))
    report: dict[str, Any] = {"facts": versions(tools), "runs": args.runs, "scale": args.scale,
                              "command": " ".join(["bench/compare.py", *sys.argv[1:]])}
    began = time.perf_counter()
    try:
        artifacts = build(work, args.runs + 2)  # 0: first deploy, 1..runs: the code changes, last: the demo's
        report["zip_bytes"] = artifacts[0][1].size
        report["profiles"] = {p: one_profile(work, tools, p, args.scale, args.runs, artifacts,
                                             [int(s) for s in sizes.get(p, "1").split(",") if s]) for p in profiles}
        report["startup"] = startup(tools)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if "aws" in report["profiles"]:
        report["targets"] = targets(report["profiles"]["aws"], args.scale)
    report["facts"]["load average (1/5/15 min) at end"] = load()
    report["facts"]["whole run s"] = f"{time.perf_counter() - began:.0f}"
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
