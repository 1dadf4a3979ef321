"""The pipeline's side of bench/compare.py: one code change to dev (`pipeline stage` + `pipeline promote`), the
demo's promotion of one artifact dev -> test -> prod (prod: approval and alarm gate; as in the demo, test and prod
get their first release, so no canary: there is no previous version to split traffic with), and one
wave of N targets. Bootstrap runs as the organization's admin under `instant` (not measured); stage and promote
run as the tooling account's operator under the bench's profile.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml
from compare_tools import BIN, REPO, Bench, Measured, Step, median_of

PIPELINE = str(BIN / "pipeline")
WAVE_SMOKE_LIMIT_MS = 15000  # the repo's 2000 ms fails 20 parallel cold starts on 2 shared cores


def config_dir(bench: Bench, name: str, smoke_limit_ms: int | None = None) -> Path:
    """A copy of the repo's environments with freeze windows lifted (as `pipeline demo` does): any day works.
    `smoke_limit_ms` replaces the smoke cases' max_duration_ms (the waves: N Go cold starts at once on a small
    machine measure its cores, not the product)."""
    cwd = bench.work / name
    shutil.copytree(REPO / "environments", cwd / "environments")
    if smoke_limit_ms is not None:
        path = cwd / "environments" / "pipeline.yml"
        data = yaml.safe_load(path.read_text())
        for case in data["defaults"]["smoke"]:
            if "max_duration_ms" in case.get("expect", {}):
                case["expect"]["max_duration_ms"] = smoke_limit_ms
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    for path in sorted((cwd / "environments").glob("*.yml")):
        data = yaml.safe_load(path.read_text())
        gates = data.get("gates") if isinstance(data, dict) else None
        if isinstance(gates, dict) and gates.get("freeze"):
            gates["freeze"] = []
            path.write_text(yaml.safe_dump(data, sort_keys=False))
    return cwd


def promote(bench: Bench, cwd: Path, env: str, digest: str, *extra: str) -> Step:
    return [PIPELINE, "promote", "--to", env, "--artifact", digest, *extra], bench.operator_env, cwd


def stage(bench: Bench, cwd: Path, zip_path: Path) -> Step:
    return [PIPELINE, "stage", str(zip_path)], bench.operator_env, cwd


def pipeline_side(bench: Bench, artifacts: list[tuple[Path, Any]], runs: int) -> tuple[list[Measured], Path]:
    """`runs` code changes to dev, each `pipeline stage` + `pipeline promote --to dev` (two smoke cases)."""
    cwd = config_dir(bench, "pipeline")
    bench.setup([([PIPELINE, "bootstrap", "--tooling"], bench.env, cwd),
                 ([PIPELINE, "bootstrap", "--env", "dev"], bench.env, cwd),
                 stage(bench, cwd, artifacts[0][0]), promote(bench, cwd, "dev", artifacts[0][1].sha256)])
    results = []
    for zip_path, manifest in artifacts[1:runs + 1]:
        results.append(bench.measure([stage(bench, cwd, zip_path), promote(bench, cwd, "dev", manifest.sha256)]))
        assert bench.live_sha("111111111111", "greeter-dev", "live") == manifest.code_sha256
    return results, cwd


def demo_promotion(bench: Bench, cwd: Path, artifact: tuple[Path, Any]) -> Measured:
    """One artifact promoted dev -> test -> prod (approved) as `pipeline demo` does; test and prod bootstrapped
    first (not measured), the artifact staged first (not measured)."""
    zip_path, manifest = artifact
    bench.setup([([PIPELINE, "bootstrap", "--env", "test"], bench.env, cwd),
                 ([PIPELINE, "bootstrap", "--env", "prod"], bench.env, cwd),
                 stage(bench, cwd, zip_path)])
    measured = bench.measure([promote(bench, cwd, "dev", manifest.sha256),
                              promote(bench, cwd, "test", manifest.sha256),
                              promote(bench, cwd, "prod", manifest.sha256, "--approve", "--reason", "bench release")])
    assert bench.live_sha("333333333333", "greeter-prod", "live") == manifest.code_sha256
    return measured


def waves(bench: Bench, artifacts: list[tuple[Path, Any]], sizes: list[int],
          runs: int) -> list[tuple[int, Measured | str]]:
    """One environment of N targets (each its own account) promoted as one wave (wave_size N), median of `runs`."""
    out = []
    for n in sizes:
        cwd = config_dir(bench, f"wave-{n}", smoke_limit_ms=WAVE_SMOKE_LIMIT_MS)
        accounts = [f"{700000000000 + 1000 * n + i:012d}" for i in range(n)]
        targets = "".join(f'  - {{account: "{a}"}}\n' for a in accounts)
        (cwd / "environments" / "dev.yml").write_text(f"targets:\n{targets}wave_size: {n}\n")
        bench.setup([([PIPELINE, "bootstrap", "--tooling"], bench.env, cwd),
                     ([PIPELINE, "bootstrap", "--env", "dev"], bench.env, cwd),
                     *[stage(bench, cwd, z) for z, _ in artifacts[:runs + 1]],
                     promote(bench, cwd, "dev", artifacts[0][1].sha256)])
        try:
            measured = [bench.measure([promote(bench, cwd, "dev", m.sha256)]) for _, m in artifacts[1:runs + 1]]
        except SystemExit as failed:  # one failed size is reported, the rest of the run goes on
            out.append((n, str(failed).splitlines()[-1][-300:]))
            continue
        out.append((n, median_of(measured)))
    return out
