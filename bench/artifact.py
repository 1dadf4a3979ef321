"""Artifact figures: zip size against the raw binary, and build time from a warm Go cache.

Prints figures (not pass/fail). Targets from issue 3: zip <= 45% of the raw binary, warm build
<= 10 s. Run: .venv/bin/python bench/artifact.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pipeline.artifact.build import build_artifact

GO_DIR = Path(__file__).resolve().parents[1] / "go-function"
RATIO_TARGET = 0.45
BUILD_TARGET_S = 10.0


def bench_arch(architecture: str, runs: int, out: Path) -> None:
    # Warm-up: fills the Go build and test caches for this architecture; not counted.
    t0 = time.perf_counter()
    first = build_artifact(GO_DIR, out / "warmup", "greeter", architecture, "bench")
    warmup_s = time.perf_counter() - t0

    times: list[float] = []
    digests: set[str] = set()
    for i in range(runs):
        t0 = time.perf_counter()
        m = build_artifact(GO_DIR, out / f"run{i}", "greeter", architecture, "bench")
        times.append(time.perf_counter() - t0)
        digests.add(m.sha256)

    ratio = first.size / first.unzipped_size
    print(f"[{architecture}]")
    print(f"raw binary: {first.unzipped_size} bytes")
    print(f"zip: {first.size} bytes")
    print(f"zip/raw ratio: {ratio:.2f} (target <= {RATIO_TARGET:.2f}) {'ok' if ratio <= RATIO_TARGET else 'OVER'}")
    print(f"first build (cache state as found): {warmup_s:.2f} s")
    print(
        f"warm build time: {statistics.median(times):.2f} s median, {max(times):.2f} s max of {runs}"
        f" (go test + build + zip; target <= {BUILD_TARGET_S:.0f} s)"
        f" {'ok' if max(times) <= BUILD_TARGET_S else 'OVER'}"
    )
    same = len(digests) == 1 and first.sha256 in digests
    print(f"reproducible: {'yes' if same else 'NO'} (sha256 {first.sha12} across {runs + 1} builds)")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed warm builds per architecture")
    parser.add_argument("--arch", action="append", choices=["x86_64", "arm64"], help="default: both")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-artifact-") as tmp:
        for arch in args.arch or ["x86_64", "arm64"]:
            bench_arch(arch, args.runs, Path(tmp) / arch)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
