"""CLI start-up figures: median wall time of 10 runs of `pipeline --help` and `pipeline validate`,
next to `python -c pass` as the baseline. Targets (issue 2): <= 0.10 s and <= 0.40 s.

Run: .venv/bin/python bench/startup.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RUNS = 10


def median_wall(cmd: list[str]) -> float:
    times = []
    for _ in range(RUNS + 1):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])  # the first run warms the page cache


def imported_heavy(args: list[str]) -> list[str]:
    probe = ("import sys\nfrom pipeline.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
             "print('HEAVY=' + ','.join(m for m in ('boto3', 'botocore', 'moto') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe, *args], cwd=REPO, capture_output=True, text=True)
    marker = [ln for ln in out.stdout.splitlines() if ln.startswith("HEAVY=")][-1]
    return [m for m in marker.removeprefix("HEAVY=").split(",") if m]


def main() -> None:
    baseline = median_wall([sys.executable, "-c", "pass"])
    print(f"python -c pass:     {baseline:.3f} s (baseline)")
    for label, args, target in (("pipeline --help", ["--help"], 0.10), ("pipeline validate", ["validate"], 0.40)):
        wall = median_wall([str(BIN / "pipeline"), *args])
        heavy = imported_heavy(args)
        print(f"{label + ':':19} {wall:.3f} s  ({wall / baseline:.1f}x baseline; target <= {target:.2f} s; "
              f"{'meets' if wall <= target else 'MISSES'} it; boto3 imported: {'yes' if heavy else 'no'})")


if __name__ == "__main__":
    main()
