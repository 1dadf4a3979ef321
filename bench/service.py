"""Issue 15's targets: a code-only promotion of a service of N functions (3 smoke cases) against today's
one-function promotion, side by side on one emulator per timing profile: AWS calls and wall time, and the slope
of calls per added function.

Per profile, one counting emulator process (compare_emulator.py, TLS and IAM on), holding three configs at once,
each in its own tooling and dev account so nothing is shared (stacks, roles, buckets, ledger):
- 1 function: the repo's environments/ (today's form), dev's smoke: the two default invoke cases + `/hello/bob`;
- 2 functions: the example service (tests/config/service_example.py: `api` with 3 http routes, `worker` on a
  schedule), smoke: 2 http cases through the front door (health, hello) + 1 invoke case on `worker`;
- 5 functions: the same plus `job1..job3`, each with the worker's handler, no routes and no schedule (the
  cheapest kind of added function: what each more function costs the promotion itself, not the front door).
Set-up, not measured (under `instant`, then the profile's iam.propagation waited out, as compare.py does):
`bootstrap --tooling`, `bootstrap --env dev`, a first release staged and promoted; then one more code change
promoted under the profile, not counted either, so each measured run has an equally timed predecessor in its
ledger (the Lambda polls are timed from it, core/waits.py).

Measured, `--runs` rounds, the configs interleaved in each round so load hits them alike: `pipeline stage` of a
new build (not measured) then `pipeline promote --to dev --artifact SHA` as a process, its wall time from spawn to
exit and its AWS calls counted server-side by the emulator (every HTTP request that reaches it, retries and polls
included; the http smoke requests to the front door are HTTP to the emulator too and are counted apart, as
`http`). Each promote runs through promote_target.py's wrapper (the product's CLI entry point with each botocore
call stamped), which gives the call-by-call listing of the 2-function run nearest its median.

Every promote acts with the organization admin's base keys (listed in `tooling.operators`), for all three
configs alike: the emulator's `operator` user may only assume the promoter role in the one tooling account.

Run: .venv/bin/python bench/service.py [--runs 5] [--timing instant,aws] [--functions 1,2,5] [--scale 1.0]
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
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from compare_pipeline import PIPELINE, config_dir
from compare_report import load
from compare_tools import Bench, Entry, build
from config.service_example import FUNCTIONS
from promote_target import WRAPPER, describe

ONE_FUNCTION_SMOKE = """\
smoke:
  - name: health
    path: /health
    expect: {statusCode: 200, body_json: {status: ok}, max_duration_ms: 2000}
  - name: version
    path: /version
    expect: {statusCode: 200, body_regex: '"environment"'}
  - name: hello
    path: /hello/bob
    expect: {statusCode: 200}
"""
# the example's dev.yml (tests/engine/test_service_front_door.py's form): 2 http cases + 1 invoke on the worker
SERVICE_DEV = """\
account: "{account}"
functions:
  api: {{memory: 512}}
smoke:
  - name: health
    http: {{method: GET, path: /health}}
    expect: {{statusCode: 200}}
  - name: hello
    http: {{method: GET, path: "/hello/bob?x=1", headers: {{accept: application/json}}}}
    expect: {{statusCode: 200}}
  - name: tick
    function: worker
    event: {{"detail-type": "Scheduled Event", "source": "aws.events", "time": "2024-01-01T00:00:00Z", "detail": {{}}}}
"""
EXTRA = "  job{n}:\n    handler: worker\n"
# each config in its own pair of accounts (any 12-digit account is a member of the emulator's organization)
ACCOUNTS = {1: ("444444444444", "111111111111"), 2: ("464646464646", "616161616161"),
            5: ("494949494949", "656565656565")}
READ_PREFIXES = ("Get", "List", "Head", "Describe", "AssumeRole", "GET ", "HEAD ")


@dataclass
class Config:
    functions: int
    cwd: Path
    tooling: str
    dev: str
    walls: list[float] = field(default_factory=list)
    calls: list[list[Entry]] = field(default_factory=list)
    traces: list[dict] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        if self.functions == 1:
            return ["greeter-dev"]
        return [f"greeter-dev-{k}" for k in ["api", "worker", *(f"job{n}" for n in range(1, self.functions - 1))]]

    def median_run(self) -> int:
        mid = statistics.median(self.walls)
        return min(range(len(self.walls)), key=lambda i: abs(self.walls[i] - mid))


def make_config(bench: Bench, n: int) -> Config:
    tooling, dev = ACCOUNTS.get(n, (f"4{n:02d}" * 4, f"6{n:02d}" * 4))
    cwd = config_dir(bench, f"functions-{n}")
    envdir = cwd / "environments"
    pipeline = envdir / "pipeline.yml"
    text = pipeline.read_text().replace('account: "444444444444"', f'account: "{tooling}"', 1)
    if n == 1:
        (envdir / "dev.yml").write_text(f'account: "{dev}"\nfunction:\n  environment: {{LOG_LEVEL: debug}}\n'
                                        + ONE_FUNCTION_SMOKE)
    else:
        text += FUNCTIONS + "".join(EXTRA.format(n=i) for i in range(1, n - 1))
        (envdir / "dev.yml").write_text(SERVICE_DEV.format(account=dev))
    pipeline.write_text(text)
    return Config(n, cwd, tooling, dev)


def promote_process(bench: Bench, config: Config, digest: str, trace: Path) -> tuple[float, list[Entry], dict]:
    """`pipeline promote --to dev` as a process (the tracing wrapper): wall from spawn to exit, counted calls."""
    bench.counted(reset=True)
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", WRAPPER, "promote", "--to", "dev", "--artifact", digest],
                          env={**bench.env, "PROMOTE_TRACE": str(trace)}, cwd=config.cwd, capture_output=True,
                          text=True)
    wall = time.perf_counter() - began
    calls = bench.counted(reset=True)
    if done.returncode != 0:
        raise SystemExit(f"promote ({config.functions} functions) exited {done.returncode}:\n"
                         f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    data = json.loads(trace.read_text())
    data["wall"], data["spawn"] = wall, 0.0  # describe()'s first line (the spawn) is not printed
    return wall, calls, data


def stage_step(bench: Bench, config: Config, zip_path: Path) -> tuple[list[str], dict[str, str], Path]:
    return [PIPELINE, "stage", str(zip_path)], bench.env, config.cwd


def check_live(bench: Bench, config: Config, code_sha256: str) -> None:
    for name in config.names:
        assert bench.live_sha(config.dev, name, "live") == code_sha256, (config.functions, name)


def kind(entry: Entry) -> str:
    service, op, _ = entry
    if service == "unsigned":
        return "http"
    if op == "Invoke":
        return "invoke"
    return "read" if op.startswith(READ_PREFIXES) else "write"


def slope(xs: list[int], ys: list[float]) -> tuple[float, float]:
    """Least squares y = a + b x: (b, a)."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    return b, my - b * mx


def run_profile(profile: str, sizes: list[int], runs: int, scale: float, artifacts: list, work: Path) -> list[str]:
    out: list[str] = []
    bench = Bench(work / profile, None, profile, scale)
    try:
        configs = [make_config(bench, n) for n in sizes]
        first_zip, first = artifacts[0]
        steps = []
        for c in configs:
            steps += [([PIPELINE, "bootstrap", "--tooling"], bench.env, c.cwd),
                      ([PIPELINE, "bootstrap", "--env", "dev"], bench.env, c.cwd),
                      stage_step(bench, c, first_zip),
                      ([PIPELINE, "promote", "--to", "dev", "--artifact", first.sha256], bench.env, c.cwd)]
        began = time.perf_counter()
        bench.setup(steps)
        out.append(f"[{profile}] set-up (bootstraps, first releases; not measured) {time.perf_counter() - began:.1f} s")
        for i, (zip_path, manifest) in enumerate(artifacts[1:]):  # the first: the profile-timed predecessor
            for c in configs:
                bench.measure([stage_step(bench, c, zip_path)])
                trace_file = work / f"trace-{profile}-{c.functions}.json"
                wall, calls, trace = promote_process(bench, c, manifest.sha256, trace_file)
                check_live(bench, c, manifest.code_sha256)
                if i:
                    c.walls.append(wall)
                    c.calls.append(calls)
                    c.traces.append(trace)
        out += report(profile, configs, runs, scale)
    finally:
        bench.close()
    return out


def report(profile: str, configs: list[Config], runs: int, scale: float) -> list[str]:
    base = next((c for c in configs if c.functions == 1), configs[0])
    base_calls, base_wall = statistics.median(len(x) for x in base.calls), statistics.median(base.walls)
    lines = [f"[{profile}] code-only promote --to dev, 3 smoke cases, {runs} runs interleaved, median; "
             f"scale {scale:g}; load now {load()}",
             "| functions | calls (median) | reads | writes | invoke | http | wall s (median) | min | max "
             "| calls / 1 fn | wall / 1 fn |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    medians: dict[int, tuple[float, float]] = {}
    for c in configs:
        counts = [len(x) for x in c.calls]
        mid = c.median_run()
        kinds = Counter(kind(e) for e in c.calls[mid])
        calls, wall = statistics.median(counts), statistics.median(c.walls)
        medians[c.functions] = (calls, wall)
        spread = f" ({min(counts)}-{max(counts)})" if min(counts) != max(counts) else ""
        lines.append(f"| {c.functions} | {calls:g}{spread} | {kinds['read']} | {kinds['write']} | {kinds['invoke']} "
                     f"| {kinds['http']} | {wall:.3f} | {min(c.walls):.3f} | {max(c.walls):.3f} "
                     f"| {calls / base_calls:.2f} | {wall / base_wall:.2f} |")
    lines.append("(calls: every request the emulator answered, the smoke cases' included; reads/writes/invoke/http: "
                 "of the run nearest the median wall; reads include AssumeRole; http: the smoke requests to the "
                 "front door)")
    if len(medians) >= 2:
        xs = sorted(medians)
        b, a = slope(xs, [medians[x][0] for x in xs])
        bw, aw = slope(xs, [medians[x][1] for x in xs])
        lines.append(f"slope (least squares over {','.join(map(str, xs))} functions): {b:.2f} calls per added "
                     f"function (intercept {a:.1f}); {bw:.3f} s per added function (intercept {aw:.3f} s)")
        resid = max(abs(medians[x][0] - (a + b * x)) for x in xs)
        lines.append(f"largest residual from that line: {resid:.2f} calls")
    if 1 in medians and 2 in medians:
        rc, rw = medians[2][0] / medians[1][0], medians[2][1] / medians[1][1]
        lines.append(f"targets (2 functions vs 1): calls {rc:.2f}x <= 2.0x: {'met' if rc <= 2 else 'NOT met'}; "
                     f"wall {rw:.2f}x <= 1.5x: {'met' if rw <= 1.5 else 'NOT met'}")
    for c in configs:
        mid = c.median_run()
        by = Counter("http:" + op.split(" ")[0] if svc == "unsigned" else f"{svc}:{op}" for svc, op, _ in c.calls[mid])
        lines.append(f"calls, {c.functions} function(s), run nearest the median: " + ", ".join(
            f"{k} x{v}" if v > 1 else k for k, v in sorted(by.items(), key=lambda kv: (-kv[1], kv[0]))))
    two = next((c for c in configs if c.functions == 2), None)
    if two is not None:
        lines.append(f"2 functions, the run nearest the median ({two.walls[two.median_run()]:.3f} s), botocore calls "
                     "one by one (offsets from the interpreter's start; the http smoke requests are not botocore's):")
        lines += describe(two.traces[two.median_run()])[1:]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="measured code changes per config (median reported)")
    parser.add_argument("--timing", default="instant,aws", help="profiles, comma-separated (one emulator each)")
    parser.add_argument("--functions", default="1,2,5", help="service sizes, comma-separated (1 = today's form)")
    parser.add_argument("--scale", type=float, default=1.0, help="PIPELINE_EMULATOR_TIME_SCALE")
    args = parser.parse_args()
    sizes = sorted({int(x) for x in args.functions.split(",")})
    profiles = [p.strip() for p in args.timing.split(",") if p.strip()]
    work = Path(tempfile.mkdtemp(prefix="bench-service-"))
    print(f"machine: nproc {os.cpu_count()}; load at start {load()}", flush=True)
    try:
        began = time.perf_counter()
        artifacts = build(work, args.runs + 2)
        print(f"built {len(artifacts)} artifacts in {time.perf_counter() - began:.1f} s", flush=True)
        for profile in profiles:
            print("\n".join(run_profile(profile, sizes, args.runs, args.scale, artifacts, work)), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load at end {load()}")


if __name__ == "__main__":
    main()
