"""`sandbox deploy` after the lock is held: build once, upload once (when one HEAD says it is absent), then
for every function of the sandbox switch the runtime, update the code, publish and move `live`; then the
smoke cases (a service's `http:` cases over its HTTP API) and what the deploy left, as function tags.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.artifact.manifest import Manifest, hex_sha256
from pipeline.aws.functions import FunctionAdapter
from pipeline.config.values import SmokeCase
from pipeline.core import sandbox as S
from pipeline.core import sandbox_service as V
from pipeline.core.bootstrap import LiveFunction
from pipeline.core.function import GO_RUNTIME, LIVE_ALIAS
from pipeline.core.smoke import SmokeResult, case_event, evaluate
from pipeline.engine.sandbox_service import Sandbox
from pipeline.engine.sandbox_service import smoke as service_smoke
from pipeline.errors import PipelineError


@dataclass
class DeployResult:
    manifest: Manifest
    zip_path: Path
    uploaded: bool
    runtime_switched: bool
    code_updated: bool
    version: str  # the first function's (the one function's) live version
    alias_moved: bool
    smoke: list[SmokeResult]
    smoke_source: str
    timings: dict[str, float] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)  # function name -> its live version

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.smoke)


@dataclass(frozen=True)
class FunctionDeploy:
    live: LiveFunction
    switched: bool
    code_updated: bool
    version: str
    moved: bool


def run_deploy(box: Sandbox, go_dir: Path, dist: Path, run_tests: bool, started: float) -> DeployResult:
    timings: dict[str, float] = {}
    fns = box.fns
    architecture = fns[0].settings.architecture  # one binary: a service has one architecture
    box.progress(f"building {go_dir}" + ("" if run_tests else " (tests skipped)"))
    mark = time.perf_counter()
    manifest = box.build(go_dir, dist, architecture, run_tests)
    timings["build"] = time.perf_counter() - mark
    zip_path = dist / f"{manifest.stem}.zip"
    sha, key, bucket = manifest.sha256, box.sbx.artifact_key(manifest.sha256), box.sbx.bucket

    mark = time.perf_counter()
    uploaded = not box.aws.has_object(bucket, key)
    if uploaded:
        box.progress(f"uploading {manifest.sha256[:12]} to s3://{bucket}/{key}")
        box.aws.put_object(bucket, key, zip_path.read_bytes(),
                           {"sha256": sha, "commit": manifest.commit, "dirty": str(manifest.dirty).lower()})
    done = [deploy_function(box, f, manifest, key) for f in fns]
    timings["deploy"] = time.perf_counter() - mark

    mark = time.perf_counter()
    cases, source = S.smoke_cases(box.config)
    results = smoke(box, cases)
    timings["smoke"] = time.perf_counter() - mark
    summary = S.smoke_summary(sum(r.passed for r in results), len(results))
    for one in done:
        record(box, one.live, sha, one.version, summary)
    timings["total"] = time.perf_counter() - started
    first = done[0]
    return DeployResult(manifest, zip_path, uploaded, any(d.switched for d in done), any(d.code_updated for d in done),
                        first.version, any(d.moved for d in done), results, source,
                        {k: round(v, 3) for k, v in timings.items()},
                        {f.name: d.version for f, d in zip(fns, done, strict=True)})


def deploy_function(box: Sandbox, f: V.SandboxFunction, manifest: Manifest, key: str) -> FunctionDeploy:
    """One function onto the artifact: runtime and handler, code (published), `live` on that version."""
    sha, bucket = manifest.sha256, box.sbx.bucket
    of = f" of {f.name}" if f.key else ""  # the one-function form says it as before
    live = box.aws.live_function(f.name)
    if live is None:
        raise PipelineError(f"function {f.name} not found: run `pipeline sandbox up`")
    fn = FunctionAdapter(box.caller.session, box.sbx.region, f.name)
    switched = live.runtime != GO_RUNTIME
    if switched:
        box.progress(f"switching runtime {live.runtime} -> {GO_RUNTIME}{of}")
        fn.switch_runtime(GO_RUNTIME, f.handler)
    version: str | None = None
    code_updated = live.sha256 != sha
    if code_updated:
        box.progress(f"updating code{of} to {sha[:12]} (publish)")
        published = fn.deploy(bucket, key, None, f.settings.architecture)
        require_sha(published.code_sha256, sha, f"published version {published.version}{of}")
        version = published.version
    alias = fn.version(LIVE_ALIAS)
    if version is None and (alias is None or hex_sha256(alias.code_sha256) != sha):
        version, code = box.aws.publish(f.name, manifest.code_sha256)
        require_sha(code, sha, f"published version {version}{of}")
    moved = version is not None
    if version is not None:
        box.progress(f"{f.name + ': ' if f.key else ''}{LIVE_ALIAS} -> v{version}")
        fn.point_alias(LIVE_ALIAS, version, exists=alias is not None)
    else:
        assert alias is not None
        version = alias.version
        box.progress(f"{f.name} already runs {sha[:12]} (v{version}): no upload, no code update")
    return FunctionDeploy(live, switched, code_updated, version, moved)


def smoke(box: Sandbox, cases: tuple[SmokeCase, ...]) -> list[SmokeResult]:
    """The smoke cases: the one function's `live` alias, or a service's (engine/sandbox_service.py)."""
    if V.is_service(box.config):
        return service_smoke(box, cases)
    results: list[SmokeResult] = []
    for case in cases:
        inv, tail = box.aws.invoke(box.sbx.function, LIVE_ALIAS, case_event(case))
        results.append(evaluate(case, LIVE_ALIAS, inv))
        box.keep_tail(tail, f"smoke {case.name}")
    return results


def record(box: Sandbox, live: LiveFunction, sha: str, version: str, smoke: str) -> None:
    """What the last deploy left, as function tags (written only when it changed)."""
    wanted = {S.TAG_DEPLOYED_SHA: sha, S.TAG_DEPLOYED_VERSION: version, S.TAG_DEPLOYED_SMOKE: smoke}
    if any(live.tags.get(k) != v for k, v in wanted.items()):
        box.aws.tag_function(live.arn, {**wanted, S.TAG_DEPLOYED_AT: S.stamp(box.now())})


def require_sha(code_sha256: str, sha: str, what: str) -> None:
    got = hex_sha256(code_sha256)
    if got != sha:
        raise PipelineError(f"{what} has CodeSha256 {got}, expected {sha}: the alias was not moved")
