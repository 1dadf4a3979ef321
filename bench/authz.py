"""What IAM enforcement costs on the emulator: the demo run in this process with PIPELINE_EMULATOR_IAM=on,
then the calls authorized, the checks made and the time spent deciding (median, p95, total) as the
authorization layer measured it, and the demo's wall time with enforcement on and off.

The wall-time ratio: one warm-up demo first (not counted: it pays the cold Go build and the imports), then
`--rounds` pairs off/on interleaved, medians compared. Under the `instant` timing profile by default, so the
modelled AWS waits (the same with or without enforcement) do not hide the layer's cost; `--timing aws` for
the demo as `make demo` runs it.

    .venv/bin/python bench/authz.py [--rounds 2] [--timing instant|aws]
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import sys
import tempfile
import time


def demo(mode: str) -> float:
    from pipeline.cli import main
    from pipeline.local.emulator import reset_state

    reset_state()  # moto's backends live in the process: each demo starts from an empty world, as a new process
    os.environ["PIPELINE_EMULATOR_IAM"] = mode
    with tempfile.TemporaryDirectory() as dist:
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.redirect_stderr(io.StringIO()):
            code = main(["demo", "--skip-tests", "--dist", dist])
        if code != 0:
            sys.exit(f"demo exited {code} with PIPELINE_EMULATOR_IAM={mode}:\n{out.getvalue()[-2000:]}")
        return time.perf_counter() - started


def main() -> None:
    import argparse

    from pipeline.local.authz import layer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="off/on pairs, interleaved (medians compared)")
    parser.add_argument("--timing", default="instant", choices=("instant", "aws"), help="emulator timing profile")
    args = parser.parse_args()
    os.environ["PIPELINE_EMULATOR_TIMING"] = args.timing
    demo("on")  # warm-up: Go build cache, imports, first-use costs
    walls: dict[str, list[float]] = {"off": [], "on": []}
    ms: list[float] = []
    for _ in range(args.rounds):
        walls["off"].append(demo("off"))
        layer.DURATIONS.clear()
        for key in layer.STATS:
            layer.STATS[key] = 0
        walls["on"].append(demo("on"))
        ms = sorted(d * 1000 for d in layer.DURATIONS)  # the last on-run's decisions
    print(f"one demo (timing {args.timing}): calls authorized: {layer.STATS['calls']}  "
          f"checks: {layer.STATS['checks']}  denied: {layer.STATS['denied']}")
    print(f"deciding per call: median {statistics.median(ms):.2f} ms, p95 {ms[int(len(ms) * 0.95)]:.2f} ms, "
          f"total {sum(ms) / 1000:.2f} s")
    off, on = statistics.median(walls["off"]), statistics.median(walls["on"])
    print(f"demo wall time, median of {args.rounds} interleaved after a warm-up: enforcement off {off:.1f} s, "
          f"on {on:.1f} s (on/off {on / off:.2f}); runs off {[round(w, 1) for w in walls['off']]}, "
          f"on {[round(w, 1) for w in walls['on']]}")


if __name__ == "__main__":
    main()
