"""CLI start-up figures as ratios measured in one run: `pipeline --help` against `python -c pass` (P),
`pipeline validate` against `python -c "import boto3"` (B). Medians of interleaved rounds (each round
runs every command once, in a rotating order), so load from other processes hits all of them alike.
Targets (issue 12): --help <= 2.5x P, validate <= 0.8x B. Also lists what each command imports that
is heavy (boto3, pydantic, jinja2). `status` and `promote` are in bench/promote.py (they need AWS).

Run: .venv/bin/python bench/startup.py [--runs 10]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
HEAVY = ("boto3", "botocore", "pydantic", "jinja2", "tabulate", "yaml")


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def interleaved(commands: dict[str, list[str]], runs: int) -> dict[str, float]:
    """Median wall time per command over `runs` rounds; one warm-up round is dropped."""
    names = list(commands)
    times: dict[str, list[float]] = {n: [] for n in names}
    for i in range(runs + 1):
        order = names[i % len(names):] + names[:i % len(names)]
        for name in order:
            t = wall(commands[name])
            if i:
                times[name].append(t)
    return {n: statistics.median(ts) for n, ts in times.items()}


def imported_heavy(args: list[str]) -> list[str]:
    probe = ("import sys\nfrom pipeline.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
             f"print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe, *args], cwd=REPO, capture_output=True, text=True)
    marker = [ln for ln in out.stdout.splitlines() if ln.startswith("HEAVY=")][-1]
    return [m for m in marker.removeprefix("HEAVY=").split(",") if m]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    medians = interleaved({"P": [sys.executable, "-c", "pass"], "B": [sys.executable, "-c", "import boto3"],
                           "help": [str(BIN / "pipeline"), "--help"],
                           "validate": [str(BIN / "pipeline"), "validate"]}, args.runs)
    p, b = medians["P"], medians["B"]
    print(f"medians of {args.runs} interleaved rounds: python -c pass (P) {p:.3f} s, "
          f"python -c 'import boto3' (B) {b:.3f} s")
    for label, key, base, base_name, target, argv in (
            ("pipeline --help", "help", p, "P", 2.5, ["--help"]),
            ("pipeline validate", "validate", b, "B", 0.8, ["validate"])):
        ratio = medians[key] / base
        print(f"{label + ':':19} {medians[key]:.3f} s = {ratio:.2f}x {base_name} (target <= {target}x: "
              f"{'meets' if ratio <= target else 'MISSES'} it); imports {', '.join(imported_heavy(argv)) or '-'}")


if __name__ == "__main__":
    main()
