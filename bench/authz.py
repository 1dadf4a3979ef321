"""What IAM enforcement costs on the emulator: the demo run in this process with PIPELINE_EMULATOR_IAM=on,
then the calls authorized, the checks made and the time spent deciding (median, p95, total) as the
authorization layer measured it, and the demo's wall time with enforcement on and off.

    .venv/bin/python bench/authz.py
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

    os.environ["PIPELINE_EMULATOR_IAM"] = mode
    with tempfile.TemporaryDirectory() as dist:
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.redirect_stderr(io.StringIO()):
            code = main(["demo", "--skip-tests", "--dist", dist])
        if code != 0:
            sys.exit(f"demo exited {code} with PIPELINE_EMULATOR_IAM={mode}:\n{out.getvalue()[-2000:]}")
        return time.perf_counter() - started


def main() -> None:
    from pipeline.local.authz import layer

    off = demo("off")
    layer.DURATIONS.clear()
    for key in layer.STATS:
        layer.STATS[key] = 0
    on = demo("on")
    ms = sorted(d * 1000 for d in layer.DURATIONS)
    print(f"calls authorized: {layer.STATS['calls']}  checks: {layer.STATS['checks']}  "
          f"denied: {layer.STATS['denied']}")
    print(f"deciding per call: median {statistics.median(ms):.2f} ms, p95 {ms[int(len(ms) * 0.95)]:.2f} ms, "
          f"total {sum(ms) / 1000:.2f} s")
    # side by side in one process, off first: the first run also pays the cold Go build and imports
    print(f"demo wall time: enforcement off {off:.1f} s, on {on:.1f} s (on/off {on / off:.2f}, off ran first)")


if __name__ == "__main__":
    main()
