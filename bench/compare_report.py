"""Figures of bench/compare.py: machine facts, the JSON shape of each profile's results, the performance targets
under `aws` (checked and printed, never asserted), and the printed side-by-side report.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from compare_tools import BIN, REPO, Measured, median_of

PIPELINE_ROW = "pipeline stage + promote"
CFN_ROW = "aws s3 cp + aws cloudformation deploy"


def versions(tools: Path | None) -> dict[str, str]:
    def out(cmd: list[str]) -> str:
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
            return (done.stdout or done.stderr).strip().splitlines()[0]
        except (OSError, subprocess.TimeoutExpired, IndexError):
            return "n/a"

    from importlib.metadata import version

    facts = {"nproc": str(os.cpu_count()), "load average (1/5/15 min) at start": load(),
             "machine": f"{platform.system()} {platform.release()} {platform.machine()}",
             "python": platform.python_version(), "go": out(["go", "version"]),
             "moto": version("moto"), "boto3 (pipeline)": version("boto3")}
    if tools is not None:
        facts["aws cli"] = out([str(tools / "bin" / "aws"), "--version"])
        facts["sceptre"] = out([str(tools / "bin" / "sceptre"), "--version"])
        facts["sam"] = out([str(tools / "bin" / "sam"), "--version"]) if (tools / "bin" / "sam").exists() else "n/a"
    return facts


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def row(ms: list[Measured]) -> dict[str, Any]:
    mid = median_of(ms)
    return {"wall_s": [round(m.wall, 3) for m in ms], "median_wall_s": round(mid.wall, 3), "calls": len(mid.calls),
            "bytes_uploaded": mid.bytes, "steps_s": {step: round(w, 3) for step, w in mid.steps},
            "breakdown": mid.breakdown()}


def step_median(ms: list[Measured], index: int) -> float:
    """The median over runs of one process's wall time (e.g. `pipeline promote`, the 2nd of each run)."""
    walls = sorted(m.steps[index][1] for m in ms)
    return walls[len(walls) // 2]


def targets(aws: dict[str, Any], scale: float) -> list[dict[str, Any]]:
    """Issue 11's two targets for one code-only promotion (2 smoke cases) under the `aws` profile."""
    sys.path.insert(0, str(REPO))
    from pipeline.local import timing

    model = timing.profile("aws", scale)
    lambda_s = model.window("lambda.update_code") + 3 * model.latency("lambda")
    promote_s = aws["promote_step_s"]
    out = [{"target": "pipeline promote wall <= Lambda's modelled update + publish + alias + 1.0 s",
            "limit_s": round(lambda_s + 1.0, 3), "measured_s": promote_s,
            "met": promote_s <= lambda_s + 1.0,
            "how": f"lambda.update_code {model.window('lambda.update_code'):g} s + 3 Lambda calls x "
                   f"{model.latency('lambda'):g} s (UpdateFunctionCode, PublishVersion, UpdateAlias)"
                   + (f" (x{scale:g})" if scale != 1.0 else "") + " + 1.0 s"}]
    if "cfn_deploy_step_s" in aws:
        ratio = aws["cfn_deploy_step_s"] / promote_s
        sides = aws["side_by_side"]
        end_to_end = sides[CFN_ROW]["median_wall_s"] / sides[PIPELINE_ROW]["median_wall_s"]
        out.append({"target": "pipeline promote >= 5x faster than aws cloudformation deploy of the same change",
                    "limit": 5.0, "measured": round(ratio, 2), "met": ratio >= 5.0,
                    "how": f"aws cloudformation deploy {aws['cfn_deploy_step_s']:.2f} s / pipeline promote "
                           f"{promote_s:.2f} s (end to end, with the upload: "
                           f"{end_to_end:.2f}x)"})
    return out


def startup(tools: Path | None) -> list[dict[str, Any]]:
    """Median of 10 interleaved rounds (bench/startup.py), so load from other processes hits all alike."""
    sys.path.insert(0, str(REPO / "bench"))
    from startup import interleaved

    cmds = {"python -c pass": [sys.executable, "-c", "pass"], "pipeline --help": [str(BIN / "pipeline"), "--help"],
            "pipeline validate": [str(BIN / "pipeline"), "validate"]}
    if tools is not None:
        cmds |= {"aws --version": [str(tools / "bin" / "aws"), "--version"],
                 "sceptre --version": [str(tools / "bin" / "sceptre"), "--version"]}
    return [{"command": name, "median_s": round(s, 3)} for name, s in interleaved(cmds, 10).items()]


def print_report(report: dict[str, Any]) -> None:
    print("machine: " + "; ".join(f"{k} {v}" for k, v in report["facts"].items()))
    profiles: dict[str, Any] = report["profiles"]
    names = list(profiles)
    print(f"\none code change to one environment (median of {report['runs']}; zip {report['zip_bytes']} bytes); "
          f"profiles: {', '.join(p['timing'] for p in profiles.values())}")
    head = "".join(f" {n + ' s':>10} {n + ' calls':>12} {'/pipeline':>9}" for n in names)
    print(f"{'tool':40}{head}" + (f" {names[-1] + '/' + names[0]:>14}" if len(names) > 1 else ""))
    tools = list(next(iter(profiles.values()))["side_by_side"])
    for tool in tools:
        line = f"{tool:40}"
        for p in profiles.values():
            r, base = p["side_by_side"][tool], p["side_by_side"][PIPELINE_ROW]
            line += f" {r['median_wall_s']:10.2f} {r['calls']:12d} {r['median_wall_s'] / base['median_wall_s']:9.2f}"
        if len(names) > 1:
            last, first = (profiles[n]["side_by_side"][tool]["median_wall_s"] for n in (names[-1], names[0]))
            line += f" {last / first:14.2f}"
        print(line)
    for name, p in profiles.items():
        print(f"  [{name}]")
        for tool, r in p["side_by_side"].items():
            steps = ", ".join(f"{step} {w:.2f} s" for step, w in r["steps_s"].items())
            print(f"    {tool}: {steps}; {r['breakdown']}")
    print("\npromotion of one artifact dev -> test -> prod (prod approved; test and prod get their first release: "
          "runtime switch from the bootstrap stub, alias created, so no canary)")
    for name, p in profiles.items():
        d = p.get("demo")
        if d:
            steps = ", ".join(f"{step} {w:.2f} s" for step, w in d["steps_s"].items())
            print(f"  {name:8} {d['wall_s']:6.2f} s, {d['calls']} calls ({steps})")
    print("\none wave of N targets (wave_size N), `pipeline promote` as a process")
    for name, p in profiles.items():
        rows = p.get("waves", [])
        one = rows[0].get("median_wall_s", 1.0) if rows else 1.0
        for r in rows:
            if "error" in r:
                print(f"  {name:8} {r['targets']:3d} targets: FAILED: {r['error']}")
                continue
            wall = r["median_wall_s"]
            print(f"  {name:8} {r['targets']:3d} targets: {wall:6.2f} s ({wall / one:4.1f}x {rows[0]['targets']}), "
                  f"{r['calls']} calls, {r['bytes_uploaded']} bytes up")
    if report.get("targets"):
        print("\ntargets (aws profile, one code-only promotion with 2 smoke cases)")
        for t in report["targets"]:
            limit = f"<= {t['limit_s']:.2f} s" if "limit_s" in t else f">= {t['limit']:.1f}x"
            got = f"{t['measured_s']:.2f} s" if "measured_s" in t else f"{t['measured']:.2f}x"
            print(f"  {'MET' if t['met'] else 'NOT MET':7}  {t['target']}: target {limit}, measured {got} ({t['how']})")
    print("\nCLI start-up (median of 10)")
    for r in report.get("startup", []):
        print(f"  {r['command']:20} {r['median_s']:.3f} s")
