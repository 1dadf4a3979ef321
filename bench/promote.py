"""Promotion figures (issue 5), measured on the embedded emulator. Prints, does not judge.

- API calls of a code-only promotion of one env (two smoke cases), and of a no-op re-promotion,
  counted with a botocore `before-call` hook on every client the product makes;
- as whole processes against a running `pipeline local up`, medians of interleaved rounds, each next to
  `python -c "import boto3"` (B) measured in the same rounds: `promote --to dev` (a code deploy, two smoke
  cases), a no-op `promote`, and `status` (issue 12 targets: <= 2.0x, 1.5x, 1.6x B);
- the demo's promotion part: dev -> test -> prod after build and bootstrap;
- one wave of N targets against a single target (as processes, emulator in its own process).

Run: .venv/bin/python bench/promote.py [--runs 10] [--wave 20]   (--wave 0: no wave; --no-in-process)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

WRITE_PREFIXES = ("Put", "Create", "Update", "Delete", "Publish", "Tag", "Execute", "Set")


class Calls:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def hook(self, model, **_kwargs) -> None:
        self.calls.append((model.service_model.service_name, model.name))


def counting(calls: Calls) -> None:
    from pipeline.aws import session as session_module

    original = session_module.SessionFactory.__init__

    def patched(self, *args, **kwargs):
        kwargs["event_hooks"] = [*(kwargs.get("event_hooks") or []), ("before-call", calls.hook)]
        original(self, *args, **kwargs)

    session_module.SessionFactory.__init__ = patched


def cli(*args: str) -> int:
    from pipeline.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(list(args))


def build_two(work: Path) -> list[tuple[Path, str]]:
    from pipeline.artifact.build import build_artifact

    out = []
    for version in ("bench-1", "bench-2"):
        manifest = build_artifact(REPO / "go-function", work / version, "greeter", "x86_64", version, run_tests=False)
        out.append((work / version / f"{manifest.stem}.zip", manifest.sha256))
    return out


def describe(calls: list[tuple[str, str]]) -> str:
    by = Counter(f"{svc}:{op}" for svc, op in calls)
    writes = sum(n for name, n in by.items() if name.split(":")[1].startswith(WRITE_PREFIXES))
    return f"{len(calls)} calls, {writes} writes ({', '.join(f'{k} x{v}' if v > 1 else k for k, v in by.items())})"


def in_process(work: Path, artifacts: list[tuple[Path, str]]) -> None:
    from pipeline.local.emulator import Emulator

    calls = Calls()
    counting(calls)
    envs = work / "environments"
    shutil.copytree(REPO / "environments", envs)
    prod = (envs / "prod.yml").read_text().replace('  freeze: ["Fri 15:00-Mon 08:00"]\n', "")
    (envs / "prod.yml").write_text(prod)
    os.chdir(work)
    with Emulator() as emulator:
        emulator.export_environment(os.environ)
        assert cli("bootstrap", "--all") == 0
        for zip_path, _ in artifacts:
            assert cli("stage", str(zip_path)) == 0
        first, second = artifacts
        start = time.perf_counter()
        for env in ("dev", "test"):
            assert cli("promote", "--to", env, "--artifact", first[1]) == 0
        assert cli("promote", "--to", "prod", "--artifact", first[1], "--approve") == 0
        demo_part = time.perf_counter() - start
        print(f"demo promotion part (dev -> test -> prod, first deploys, canary bake in prod): {demo_part:.2f} s "
              "(target <= 3 s)")
        calls.calls.clear()
        assert cli("promote", "--to", "dev", "--artifact", second[1]) == 0
        print(f"code-only promotion of dev, 2 smoke cases: {describe(calls.calls)} (target <= 14)")
        calls.calls.clear()
        assert cli("promote", "--to", "dev", "--artifact", second[1]) == 0
        print(f"no-op re-promotion: {describe(calls.calls)} (target <= 5, 0 writes)")



def whole_process(artifacts: list[tuple[Path, str]], runs: int, wave: int) -> None:
    """`pipeline promote` as its own process against `pipeline local up` (what a user times), for one
    target and for one wave of `wave` targets (the emulator in its own process, as a user runs it)."""
    work = Path(tempfile.mkdtemp(prefix="bench-proc-"))
    shutil.copytree(REPO / "environments", work / "environments")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    bin_dir = Path(sys.executable).parent
    server = subprocess.Popen([str(bin_dir / "pipeline"), "local", "up"], cwd=work, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        exports = {}
        while "AWS_DEFAULT_REGION" not in exports:
            line = server.stdout.readline()
            if line.startswith("export "):
                key, value = line.removeprefix("export ").strip().split("=", 1)
                exports[key] = value
        env.update(exports)

        def run(*args: str) -> float:
            start = time.perf_counter()
            subprocess.run([str(bin_dir / "pipeline"), *args], cwd=work, env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return time.perf_counter() - start

        run("bootstrap", "--tooling")
        run("bootstrap", "--env", "dev")
        for zip_path, _ in artifacts:
            run("stage", str(zip_path))
        run("promote", "--to", "dev", "--artifact", artifacts[0][1])  # first deploy: runtime switch
        boto3_cmd = [sys.executable, "-c", "import boto3"]
        rounds: dict[str, list[float]] = {"B": [], "promote": [], "noop": [], "status": []}
        for i in range(runs):  # one round: B, a code deploy, a no-op of the same artifact, status
            start = time.perf_counter()
            subprocess.run(boto3_cmd, check=True)
            rounds["B"].append(time.perf_counter() - start)
            sha = artifacts[(i + 1) % 2][1]
            rounds["promote"].append(run("promote", "--to", "dev", "--artifact", sha))
            rounds["noop"].append(run("promote", "--to", "dev", "--artifact", sha))
            rounds["status"].append(run("status"))
        med = {k: statistics.median(v) for k, v in rounds.items()}
        b = med["B"]
        print(f"medians of {runs} interleaved rounds vs `pipeline local up`: python -c 'import boto3' (B) {b:.3f} s")
        for key, label, target in (("promote", "promote --to dev (code deploy, 2 smoke cases)", 2.0),
                                   ("noop", "promote --to dev (no-op)", 1.5), ("status", "status", 1.6)):
            ratio = med[key] / b
            print(f"  {label + ':':47} {med[key]:.3f} s = {ratio:.2f}x B (target <= {target}x: "
                  f"{'meets' if ratio <= target else 'MISSES'} it)")
        single = med["promote"]
        if wave <= 0:
            return
        accounts = [f"{700000000000 + i:012d}" for i in range(wave)]
        targets = "".join(f'  - {{account: "{a}"}}\n' for a in accounts)
        (work / "environments" / "dev.yml").write_text(f"targets:\n{targets}wave_size: {wave}\n")
        run("bootstrap", "--env", "dev")
        run("promote", "--to", "dev", "--artifact", artifacts[0][1])  # every target's first deploy
        many = statistics.median([run("promote", "--to", "dev", "--artifact", artifacts[(i + 1) % 2][1])
                                  for i in range(3)])
        print(f"one wave of {wave} targets: median {many:.2f} s vs one target {single:.2f} s = "
              f"{many / single:.1f}x (target <= 4x)")
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--wave", type=int, default=20)
    parser.add_argument("--no-in-process", action="store_true", help="skip the in-process call counts")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-promote-"))
    try:
        artifacts = build_two(work)
        whole_process(artifacts, args.runs, args.wave)
        if not args.no_in_process:
            in_process(work, artifacts)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
