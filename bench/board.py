"""Issue 16's target: `pipeline board` against `pipeline status`, side by side, for 3 envs x 2 functions with
200 ledger records per env, on the embedded emulator (in-process, IAM enforced). Prints, does not judge.

Set-up (not measured, under the emulator's `instant` timing): the repo's environments/ made a service of
two functions (tests/config/service_example.py: `api` with routes, `worker` on a schedule), every env
bootstrapped, one release promoted dev -> test -> prod (approved), then each env's ledger padded to
`--records` records with copies of its own newest promotion (a started and a PASSED outcome record,
chained and canonical, as the promoter writes them): a ledger of many equal releases, so both commands
find what they need where a real ledger would put it.

Measured, `--runs` rounds (the first dropped, as a warm-up), status and board alternating: each command's AWS
calls (botocore event hooks on every SessionFactory, as bench/promote.py counts them) and its wall time in
this process under `--timing` (default `aws`: each call pays the modelled round trip; both pay the same role
assumptions; neither pays the interpreter's start). The board reads the
newest N records per env (`--windows`: 10, its default, and 20) and verifies them; `--full` (every record, as `verify`)
is printed once for comparison.

Run: .venv/bin/python bench/board.py [--runs 6] [--records 200] [--windows 10,20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests"))

from config.service_example import FUNCTIONS  # noqa: E402
from promote import Calls, build_two, cli, counting, describe  # noqa: E402

PROD = 'account: "333333333333"\ngates: {requires: test, approval: true}\n'  # no freeze: any weekday


def pad(env: str, total: int) -> int:
    """Append copies of the env's newest promotion (started + outcome) until it holds `total` records."""
    import json

    from helpers import BUCKET, promoter

    from pipeline.core.ledger import Record, new_record

    s3 = promoter("s3")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"ledger/{env}/")["Contents"])
    records = [Record.parse(k, s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()) for k in keys]
    started = next(r for r in reversed(records) if r.type == "started")
    outcome = next(r for r in reversed(records) if r.type == "outcome" and r.get("started_seq") == started.seq)
    tip = records[-1]
    while tip.seq + 1 < total:
        for template in (started, outcome):
            if tip.seq + 1 >= total:
                break
            fields = {k: v for k, v in template.data.items() if k not in ("seq", "prev", "time", "env")}
            if template is outcome:
                fields["started_seq"] = tip.seq
            tip = new_record(env, tip, json.loads(json.dumps(fields)), tip.time or started.time)
            s3.put_object(Bucket=BUCKET, Key=tip.key, Body=tip.raw, IfNoneMatch="*")
    return tip.seq + 1


def measure(argv: list[str], calls: Calls) -> tuple[float, list[tuple[str, str]]]:
    calls.calls.clear()
    began = time.perf_counter()
    code = cli(*argv)
    wall = time.perf_counter() - began
    assert code == 0, (argv, code)
    return wall, list(calls.calls)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--windows", default="10,20", help="board --records N for each N (default 10,20)")
    parser.add_argument("--timing", default="aws", help="the emulator's timing while measuring (default aws: "
                        "every call pays a modelled round trip); the set-up runs under instant")
    args = parser.parse_args()
    from pipeline.local import timing
    from pipeline.local.emulator import Emulator

    work = Path(tempfile.mkdtemp(prefix="bench-board-"))
    (first, digest), _ = build_two(work / "dist")
    calls = Calls()
    counting(calls)
    try:
        with Emulator() as emulator:
            emulator.export_environment(os.environ)
            timing.activate(timing.profile("instant"))
            envs = work / "environments"
            shutil.copytree(REPO / "environments", envs)
            (envs / "pipeline.yml").write_text((envs / "pipeline.yml").read_text() + FUNCTIONS)
            (envs / "prod.yml").write_text(PROD)
            os.chdir(work)
            began = time.perf_counter()
            for step in (["bootstrap", "--tooling"], ["bootstrap", "--env", "dev"], ["bootstrap", "--env", "test"],
                         ["bootstrap", "--env", "prod"], ["stage", str(first)], ["promote", "--to", "dev"],
                         ["promote", "--to", "test"], ["promote", "--to", "prod", "--approve", "--reason", "bench"]):
                assert cli("--config-dir", str(envs), *step) == 0, step
            held = {env: pad(env, args.records) for env in ("dev", "test", "prod")}
            print(f"set-up (not measured): {time.perf_counter() - began:.1f} s; ledger records per env: {held}; "
                  f"artifact {digest[:12]} live everywhere, 2 functions x 3 envs")
            timing.activate(timing.profile(args.timing))
            time.sleep(timing.active().window("iam.propagation"))  # what the instant set-up made has propagated
            status = ["--config-dir", str(envs), "status"]
            boards = {f"board --records {n}": ["--config-dir", str(envs), "board", "--out", str(work / "board.html"),
                                               "--records", n] for n in args.windows.split(",")}
            figures: dict[str, list[tuple[float, list]]] = {"status": [], **{name: [] for name in boards}}
            for _ in range(args.runs):
                figures["status"].append(measure(status, calls))
                for name, argv in boards.items():
                    figures[name].append(measure(argv, calls))
            full = measure([*next(iter(boards.values())), "--full"], calls)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = {}
    for name, runs in figures.items():
        kept = runs[1:] or runs
        wall = statistics.median(w for w, _ in kept)
        counts = sorted(len(c) for _, c in kept)
        rows[name] = (wall, counts[len(counts) // 2], kept[0][1])
        print(f"{name:18} median {wall:.3f} s over {len(kept)} runs; calls {counts[len(counts) // 2]} "
              f"(min {counts[0]}, max {counts[-1]}): {describe(kept[0][1])}")
    sw, sc, _ = rows["status"]
    for name in boards:
        bw, bc, _ = rows[name]
        print(f"{name} / status: calls {bc}/{sc} = {bc / sc:.2f}x (target <= 2x), time {bw:.3f}/{sw:.3f} s = "
              f"{bw / sw:.2f}x (target <= 2x)")
    print(f"board --full (every record verified, as `verify`): {full[0]:.3f} s, {len(full[1])} calls")


if __name__ == "__main__":
    main()
