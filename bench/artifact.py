"""Artifact figures: zip size against the raw binary, build time from a warm Go cache, the cost of
re-staging an artifact that is already staged, and (through bench/invoke.py) warm and cold invokes
of the Go function and the Python stub through the emulator.

Prints figures (not pass/fail). Targets from issue 3: zip <= 45% of the raw binary, warm build
<= 10 s, re-staging 1 API call and 0 bytes. Run: .venv/bin/python bench/artifact.py [--runs N]
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


def bench_restage(out: Path) -> None:
    """Stage the same artifact twice on the emulator; count the second run's calls and uploaded bytes."""
    import contextlib
    import io
    import os
    import shutil

    from pipeline.aws import session as session_module
    from pipeline.cli import main as cli
    from pipeline.local.emulator import Emulator

    manifest = build_artifact(GO_DIR, out / "restage", "greeter", "x86_64", "bench", run_tests=False)
    calls: list[str] = []
    uploaded = [0]

    def count(model, **_kwargs) -> None:
        calls.append(model.name)

    def size(params, **_kwargs) -> None:  # the caller's own parameters, before serialization
        body = params.get("Body")
        if isinstance(body, (bytes, bytearray)):
            uploaded[0] += len(body)

    original = session_module.SessionFactory.__init__

    def patched(self, *args, **kwargs):
        kwargs["event_hooks"] = [*(kwargs.get("event_hooks") or []), ("before-call", count),
                                 ("before-parameter-build.s3.PutObject", size)]
        original(self, *args, **kwargs)

    session_module.SessionFactory.__init__ = patched
    shutil.copytree(GO_DIR.parent / "environments", out / "environments")
    here = os.getcwd()
    os.chdir(out)
    try:
        with Emulator() as emulator, contextlib.redirect_stdout(io.StringIO()):
            emulator.export_environment(os.environ)
            assert cli(["bootstrap", "--tooling"]) == 0
            zip_path = str(out / "restage" / f"{manifest.stem}.zip")
            assert cli(["stage", zip_path]) == 0
            first_bytes = uploaded[0]
            calls.clear()
            uploaded[0] = 0
            assert cli(["stage", zip_path]) == 0
    finally:
        os.chdir(here)
        session_module.SessionFactory.__init__ = original
    others = [c for c in calls if c != "AssumeRole"]
    print(f"[re-staging] first stage uploaded {first_bytes} bytes; staging again: {len(others)} call(s) "
          f"({', '.join(others)}) + {len(calls) - len(others)} AssumeRole, {uploaded[0]} bytes uploaded "
          "(target: 1 call, 0 bytes)")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed warm builds per architecture")
    parser.add_argument("--arch", action="append", choices=["x86_64", "arm64"], help="default: both")
    parser.add_argument("--no-invoke", action="store_true", help="skip the invoke figures (bench/invoke.py)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-artifact-") as tmp:
        for arch in args.arch or ["x86_64", "arm64"]:
            bench_arch(arch, args.runs, Path(tmp) / arch)
        bench_restage(Path(tmp))
    if not args.no_invoke:
        import runpy

        print("[invoke through the emulator]")
        sys.argv = [str(Path(__file__).with_name("invoke.py"))]
        runpy.run_path(str(Path(__file__).with_name("invoke.py")), run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
