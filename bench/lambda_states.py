"""What Lambda's asynchronous states cost a promotion (issue 11, item 5). Prints, does not judge.

For each emulator timing profile (`instant`, `aws`, or those given), in-process: bootstrap tooling and
dev, stage two builds, promote the first (runtime switch + code deploy), then the second (code only),
counting every API call with a botocore `before-call` hook: how many GetFunctionConfiguration polls
the waits for `LastUpdateStatus: Successful` add, any 409 retries, and the wall time of each promotion.

Run: .venv/bin/python bench/lambda_states.py [--profiles instant,aws] [--scale 1.0] [--sequence]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from promote import Calls, build_two, cli, counting  # noqa: E402


def polls(calls: list[tuple[str, str]]) -> tuple[int, int, int]:
    """(GetFunctionConfiguration after the first write, extra UpdateFunctionCode/Configuration attempts, all)."""
    ops = [op for svc, op in calls if svc == "lambda"]
    writes = [i for i, op in enumerate(ops) if op in ("UpdateFunctionCode", "UpdateFunctionConfiguration")]
    after = sum(1 for op in ops[writes[0]:] if op == "GetFunctionConfiguration") if writes else 0
    retries = max(0, ops.count("UpdateFunctionCode") - 1) + max(0, ops.count("UpdateFunctionConfiguration") - 1)
    return after, retries, len(calls)


def one_profile(name: str, scale: float, artifacts: list[tuple[Path, str]], calls: Calls,
                sequence: bool = False) -> None:
    from pipeline.local import timing
    from pipeline.local.emulator import Emulator

    work = Path(tempfile.mkdtemp(prefix=f"bench-states-{name}-"))
    shutil.copytree(REPO / "environments", work / "environments")
    os.chdir(work)
    chosen = timing.profile(name, scale)
    with Emulator(timing=chosen) as emulator:
        emulator.export_environment(os.environ)
        emulator.reset()  # moto's state is the process's: start each profile from nothing
        assert cli("bootstrap", "--tooling") == 0 and cli("bootstrap", "--env", "dev") == 0
        for zip_path, _ in artifacts:
            assert cli("stage", str(zip_path)) == 0
        for label, (_, digest) in zip(("first promotion (runtime switch + code)", "code-only promotion"),
                                      artifacts, strict=True):
            calls.calls.clear()
            start = time.perf_counter()
            assert cli("promote", "--to", "dev", "--artifact", digest) == 0
            wall = time.perf_counter() - start
            after, retries, total = polls(calls.calls)
            by = Counter(op for _, op in calls.calls)
            print(f"{chosen.describe():>10}  {label}: {wall:.2f} s, {total} calls, "
                  f"{after} GetFunctionConfiguration polls after the first update, {retries} 409 retries "
                  f"(windows: code {chosen.window('lambda.update_code'):.2f} s, "
                  f"config {chosen.window('lambda.update_config'):.2f} s); "
                  f"{', '.join(f'{k} x{v}' if v > 1 else k for k, v in sorted(by.items()))}", flush=True)
            if sequence:
                print("    lambda calls in order: " + " ".join(op for svc, op in calls.calls if svc == "lambda"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", default="instant,aws")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--sequence", action="store_true", help="print each promotion's Lambda calls in order")
    args = parser.parse_args()
    calls = Calls()
    counting(calls)
    artifacts = build_two(Path(tempfile.mkdtemp(prefix="bench-states-")))
    for name in args.profiles.split(","):
        one_profile(name.strip(), args.scale, artifacts, calls, args.sequence)


if __name__ == "__main__":
    main()
