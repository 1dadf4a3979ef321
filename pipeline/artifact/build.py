"""Build the artifact: go test, cross-compile `bootstrap`, pack a deterministic zip, write a manifest.

After compiling, the build asks the binary which handlers it serves (`artifact/handlers.py`; a
binary for another architecture is asked through a host build of the same package with the same
flags), records them in the manifest and checks the wanted handlers against them.

The output is content-addressed: `<out_dir>/<name>-<sha12>.zip` plus `<name>-<sha12>.json`.
Nothing in the bytes depends on the clock or the build machine's paths, so building the same
commit twice gives byte-identical zips.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from pipeline.artifact.arch import ARCHITECTURES, Architecture
from pipeline.artifact.checks import ENTRYPOINT, check_artifact
from pipeline.artifact.handlers import ask_binary, check_handlers
from pipeline.artifact.manifest import NAME_RE, Manifest, lambda_sha256
from pipeline.artifact.pack import deterministic_zip
from pipeline.errors import InputError, PipelineError

VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")
_TAIL_LINES = 40


def build_artifact(
    go_dir: Path,
    out_dir: Path,
    name: str,
    architecture: Architecture,
    version: str,
    run_tests: bool = True,
    wanted_handlers: Mapping[str, tuple[str, str]] | None = None,
) -> Manifest:
    """Test, cross-compile and pack the Go function in `go_dir`; return the written manifest.

    Raises InputError (exit 2) for bad arguments, a missing Go module, or a wanted handler
    (`check_handlers`: function key -> (handler, config location)) the binary does not serve;
    PipelineError (exit 1) when `go test` or `go build` fails. Nothing is written to `out_dir`
    on failure. The zip is checked with `check_artifact` before return.
    """
    go_dir = Path(go_dir).resolve()
    out_dir = Path(out_dir)
    spec = ARCHITECTURES.get(architecture)
    if spec is None:
        raise InputError(f"unknown architecture {architecture!r} (expected one of {', '.join(ARCHITECTURES)})")
    if not NAME_RE.match(name):
        raise InputError(f"artifact name {name!r} must be 1-64 characters of letters, digits, '.', '_' or '-'")
    if not VERSION_RE.match(version):
        raise InputError(f"version {version!r} must be 1-64 characters of letters, digits, '.', '_', '+' or '-'")
    if not (go_dir / "go.mod").is_file():
        raise InputError(f"{go_dir}: no go.mod (not a Go module)")
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: output directory is a file")  # before minutes of go test and build
    go = find_go()

    commit, dirty = git_state(go_dir)
    build_id = compute_build_id(name, version, commit, architecture, source_digest(go_dir))
    env = _go_env(spec.goarch)

    if run_tests:
        _run([go, "test", "./..."], go_dir, _native_env(), "go test failed")
    go_version = _run([go, "env", "GOVERSION"], go_dir, env, "go env failed").strip()

    ldflags = (
        f"-s -w -buildid= -X main.version={version} -X main.commit={commit} -X main.buildID={build_id}"
    )
    build = [go, "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o"]
    with tempfile.TemporaryDirectory(prefix="pipeline-build-") as tmp:
        binary = Path(tmp) / ENTRYPOINT
        _run([*build, str(binary), "."], go_dir, env, "go build failed")
        raw = binary.read_bytes()
        handlers = served_handlers(go, go_dir, binary, spec.goarch, build)
    check_handlers(handlers, wanted_handlers or {})

    data = deterministic_zip({ENTRYPOINT: (raw, 0o755)})
    sha_hex = hashlib.sha256(data).hexdigest()
    manifest = Manifest(
        name=name,
        sha256=sha_hex,
        code_sha256=lambda_sha256(sha_hex),
        size=len(data),
        unzipped_size=len(raw),
        architecture=architecture,
        go_version=go_version,
        commit=commit,
        dirty=dirty,
        version=version,
        build_id=build_id,
        handlers=handlers,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    zip_path = out_dir / f"{manifest.stem}.zip"
    tmp_zip = out_dir / f".{manifest.stem}.zip.tmp"
    tmp_zip.write_bytes(data)
    tmp_zip.replace(zip_path)
    manifest.write(out_dir / f"{manifest.stem}.json")
    check_artifact(zip_path, architecture, manifest)
    return manifest


def served_handlers(go: str, go_dir: Path, binary: Path, goarch: str, build: list[str]) -> tuple[str, ...] | None:
    """What `binary` (linux/`goarch`) serves: asked directly when the host runs it, else through a
    host build of the same package with the same `build` command and flags; None when unknown."""
    host = subprocess.run([go, "env", "GOHOSTOS", "GOHOSTARCH"], cwd=go_dir, env=_native_env(),
                          capture_output=True, text=True, check=False).stdout.split()
    if host == ["linux", goarch]:
        return ask_binary(binary)
    if len(host) != 2:
        return None
    env = _go_env(host[1]) | {"GOOS": host[0]}
    with tempfile.TemporaryDirectory(prefix="pipeline-handlers-") as tmp:
        native = Path(tmp) / ENTRYPOINT
        res = subprocess.run([*build, str(native), "."], cwd=go_dir, env=env, capture_output=True, check=False)
        return ask_binary(native) if res.returncode == 0 else None


def find_go() -> str:
    """The `go` binary: $GO if set, else `go` on PATH, else /usr/local/go/bin/go."""
    candidates = [os.environ.get("GO"), shutil.which("go"), "/usr/local/go/bin/go"]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise InputError("go toolchain not found (install Go, put it on PATH, or set GO=/path/to/go)")


def git_state(path: Path) -> tuple[str, bool]:
    """(commit, dirty) of the git work tree holding `path`.

    dirty means uncommitted or untracked (not ignored) changes under `path`: the only inputs
    to the artifact's bytes. Outside a git repository: ("unknown", True).
    """
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True, check=False
        )
        if head.returncode != 0:
            return "unknown", True
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", "."], cwd=path, capture_output=True, text=True,
            check=False,
        )
    except OSError:  # git is not installed
        return "unknown", True
    if status.returncode != 0:
        return head.stdout.strip(), True
    return head.stdout.strip(), bool(status.stdout.strip())


def source_digest(go_dir: Path) -> str:
    """sha256 over the relative paths and bytes of the module's source files.

    Uses git's view (tracked + untracked, not ignored) when available, else every file not
    under a dot-directory. Same sources, same digest, on any machine.
    """
    files = _git_files(go_dir)
    if files is None:
        files = sorted(
            p.relative_to(go_dir).as_posix()
            for p in go_dir.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(go_dir).parts)
        )
    h = hashlib.sha256()
    for rel in files:
        p = go_dir / rel
        if not p.is_file():  # deleted but still tracked
            continue
        h.update(rel.encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def compute_build_id(name: str, version: str, commit: str, architecture: str, sources: str) -> str:
    """A deterministic build id (20 hex chars) from what goes into the build; no timestamp."""
    text = "\n".join((name, version, commit, architecture, sources))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _git_files(go_dir: Path) -> list[str] | None:
    try:
        res = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
            cwd=go_dir, capture_output=True, check=False,
        )
    except OSError:
        return None
    if res.returncode != 0:
        return None
    return sorted({f for f in res.stdout.decode("utf-8", "surrogateescape").split("\0") if f})


def _native_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("GOOS", None)
    env.pop("GOARCH", None)
    return env


def _go_env(goarch: str) -> dict[str, str]:
    """Environment for a reproducible Linux cross-compile: everything that shapes the bytes is fixed."""
    env = dict(os.environ)
    env.update(
        CGO_ENABLED="0",
        GOOS="linux",
        GOARCH=goarch,
        GOAMD64="v1",
        GOARM64="v8.0",
        GOFLAGS="-mod=readonly",
        GOEXPERIMENT="",
    )
    return env


def _run(cmd: list[str], cwd: Path, env: dict[str, str], what: str) -> str:
    """Run a go command; on failure raise PipelineError with the output's tail on one line."""
    try:
        res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise PipelineError(f"{what}: cannot run {cmd[0]}: {exc}") from None
    if res.returncode == 0:
        return res.stdout
    lines = [ln for ln in (res.stdout + res.stderr).splitlines() if ln.strip()]
    tail = lines[-_TAIL_LINES:]
    summary = " | ".join(" ".join(ln.split()) for ln in _interesting(tail)[-4:])
    if len(summary) > 400:
        summary = "..." + summary[-397:]
    raise PipelineError(f"{what} in {cwd} (exit {res.returncode}): {summary}", details=tail)


def _interesting(lines: list[str]) -> list[str]:
    """The lines that explain a failure (FAIL/--- FAIL/error lines and test messages), else all."""
    keep = [
        ln for ln in lines
        if not ln.startswith(("ok ", "?   ", "=== RUN", "--- PASS", "PASS"))
        and ln.strip() not in ("FAIL",)
    ]
    return keep or lines
