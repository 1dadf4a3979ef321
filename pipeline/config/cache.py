"""Validated configurations kept between runs, keyed by the bytes they were made from.

Validating `environments/` means importing pydantic and building the file models (~0.5x the time of
`import boto3`), on every command. A configuration that validated once is stored here as the merged
plain values (`config/merged.py`); the next run with the same files reads it back without pydantic.
The key is a SHA-256 over the config modules' own source (a new release or an edit of the rules
invalidates every entry), the directory as given, the working directory (error and source paths are
shown relative to it) and the name and bytes of every file in the directory. Only valid
configurations are stored: a broken file is validated, and reported, on every run.

The cache lives in `$PIPELINE_CACHE_DIR` (default `$XDG_CACHE_HOME/pipeline`, else `~/.cache/pipeline`;
`off` disables it), shared with the template bytecode cache. An entry is only read when the current
user owns it; a cache that cannot be read or written is no cache, never a failure.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path

from pipeline.config.merged import PipelineConfig

FORMAT = b"pipeline-config-cache/1"
KEEP = 32  # entries kept; the oldest beyond that are removed when a new one is written
_RULES = ("values.py", "merged.py", "files.py", "validation.py", "plain.py", "merge.py", "yamlsource.py",
          "errors.py", "cache.py", "iam_services.py", "sandbox_fields.py", "policy_fields.py", "smoke_fields.py",
          "function_fields.py", "functions.py", "routes.py", "schedule.py", "service_checks.py", "wording.py",
          "../infra/naming.py")


def cache_root() -> Path | None:
    configured = os.environ.get("PIPELINE_CACHE_DIR", "")
    if configured.lower() in ("off", "0", "none"):
        return None
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pipeline"


def key(directory: Path, entries: list[Path]) -> str | None:
    """The entry's name for these files, or None (no cache, or a file could not be read)."""
    if cache_root() is None:
        return None
    digest = hashlib.sha256(FORMAT)
    here = Path(__file__).parent
    try:
        for name in _RULES:
            digest.update(name.encode() + b"\0" + (here / name).read_bytes() + b"\0")
        digest.update(f"{directory}\0{os.getcwd()}\0".encode())
        for entry in entries:
            data = entry.read_bytes() if entry.is_file() else b"<not a file>"
            digest.update(f"{entry.name}\0{len(data)}\0".encode() + data)
    except OSError:
        return None
    return digest.hexdigest()


def read(name: str | None) -> PipelineConfig | None:
    root = cache_root()
    if name is None or root is None:
        return None
    path = root / f"config-{name}.pickle"
    try:
        with path.open("rb") as handle:
            if os.fstat(handle.fileno()).st_uid != os.getuid():
                return None
            config = pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
        return None
    return config if isinstance(config, PipelineConfig) else None


def write(name: str | None, config: PipelineConfig) -> None:
    root = cache_root()
    if name is None or root is None:
        return
    try:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=root, prefix=".config-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(config, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, root / f"config-{name}.pickle")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _prune(root)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        return


def _prune(root: Path) -> None:
    entries = sorted(root.glob("config-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[KEEP:]:
        old.unlink(missing_ok=True)
