"""Cold-path figures of two source trees side by side in one run (issue 12 item 6): this tree ("after")
against a git ref ("before", extracted with `git archive`), each command a whole process, as ratios to
`python -c "import boto3"` (B) and `python -c pass` (P) measured in the same interleaved rounds (medians;
the first round is dropped). Both trees run with the same interpreter and venv (`python -m pipeline`,
PYTHONPATH set to the tree), each with its own warm $PIPELINE_CACHE_DIR, against one `pipeline local up`.
Both wall and CPU time are printed (CPU: user + system of the process, which other load on a shared
machine disturbs least). Prints, does not judge; the figures go into ARCHITECTURE.md.

Run: .venv/bin/python bench/coldpath.py [--before main] [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# the floor of any command that calls these three services: import boto3 and make one client of each
CLIENTS = ("import boto3; s = boto3.Session(region_name='us-east-1'); "
           "[s.client(n, endpoint_url='http://127.0.0.1:9') for n in ('sts', 's3', 'lambda')]")
TARGETS = {"help": ("P", 2.5), "validate": ("B", 0.8), "status": ("B", 1.6), "noop": ("B", 1.5),
           "promote": ("B", 2.0)}


def extract(ref: str, into: Path) -> Path:
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", ref, "pipeline", "templates"], cwd=REPO, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", default="main")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    from bench.promote import build_two

    work = Path(tempfile.mkdtemp(prefix="bench-coldpath-"))
    server = None
    try:
        trees = {"before": extract(args.before, work / "before"), "after": REPO}
        shutil.copytree(REPO / "environments", work / "environments")
        artifacts = build_two(work / "dist")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PIPELINE_"))}
        server = subprocess.Popen([sys.executable, "-m", "pipeline", "local", "up"], cwd=work, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        while "AWS_DEFAULT_REGION" not in env:
            line = server.stdout.readline()
            if line.startswith("export "):
                key, value = line.removeprefix("export ").strip().split("=", 1)
                env[key] = value

        def run(tree: str, *argv: str) -> tuple[float, float]:
            tree_env = {**env, "PYTHONPATH": str(trees[tree]), "PIPELINE_CACHE_DIR": str(work / f"cache-{tree}")}
            return timed([sys.executable, "-m", "pipeline", *argv], cwd=work, env=tree_env)

        def base(code: str) -> tuple[float, float]:
            return timed([sys.executable, "-c", code], cwd=work, env=env)

        run("after", "bootstrap", "--tooling")
        run("after", "bootstrap", "--env", "dev")
        for zip_path, _ in artifacts:
            run("after", "stage", str(zip_path))
        run("after", "promote", "--to", "dev", "--artifact", artifacts[0][1])  # first deploy: runtime switch
        times: dict[str, list[tuple[float, float]]] = {}
        flip = 1
        for i in range(args.runs + 1):
            sample = {"P": base("pass"), "B": base("import boto3"), "C": base(CLIENTS)}
            for tree in (("before", "after") if i % 2 else ("after", "before")):
                sha = artifacts[flip][1]
                flip = 1 - flip
                sample[f"{tree}:help"] = run(tree, "--help")
                sample[f"{tree}:validate"] = run(tree, "validate")
                sample[f"{tree}:status"] = run(tree, "status")
                sample[f"{tree}:promote"] = run(tree, "promote", "--to", "dev", "--artifact", sha)
                sample[f"{tree}:noop"] = run(tree, "promote", "--to", "dev", "--artifact", sha)
            if i:  # the first round warms both trees' caches
                for key, value in sample.items():
                    times.setdefault(key, []).append(value)
        for kind, index in (("wall time", 0), ("CPU time (user + system of the process)", 1)):
            med = {k: statistics.median(v[index] for v in vs) for k, vs in times.items()}
            report(kind, med, args)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


def timed(argv: list[str], **kwargs: object) -> tuple[float, float]:
    """(wall, CPU) seconds of one child process; CPU is what the machine's other load disturbs least."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)  # type: ignore
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def report(kind: str, med: dict[str, float], args: argparse.Namespace) -> None:
    print(f"{kind}, medians of {args.runs} interleaved rounds; P = python -c pass {med['P']:.3f} s, "
          f"B = python -c 'import boto3' {med['B']:.3f} s; before = {args.before}, after = this tree")
    print(f"  floor: import boto3 + one sts, s3 and lambda client = {med['C'] / med['B']:.2f}x B")
    labels = {"help": "--help", "validate": "validate", "status": "status (3 envs)",
              "noop": "promote --to dev (no-op)", "promote": "promote --to dev (code, 2 smoke)"}
    for key, (unit, target) in TARGETS.items():
        b, a = med[f"before:{key}"] / med[unit], med[f"after:{key}"] / med[unit]
        print(f"  {labels[key] + ':':34} before {b:.2f}x {unit}  after {a:.2f}x {unit}  "
              f"({med[f'after:{key}']:.3f} s; target <= {target}x {unit})")


if __name__ == "__main__":
    main()
