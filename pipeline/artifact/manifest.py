"""The manifest written beside each artifact zip: what the bytes are and where they came from.

`dist/<name>-<sha12>.json` describes `dist/<name>-<sha12>.zip`. It holds no timestamp, so two
builds of the same commit give identical manifests as well as identical zips. `handlers` (the names
the binary serves, `artifact/handlers.py`) is null when the binary did not say, and may be absent in
manifests written before it existed.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path
from typing import Any

from pipeline.artifact.arch import ARCHITECTURES
from pipeline.artifact.handlers import HANDLER_RE
from pipeline.errors import InputError

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def lambda_sha256(hex_digest: str) -> str:
    """Lambda's CodeSha256 form of a sha256: base64 of the raw 32-byte digest."""
    return base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")


def hex_sha256(code_sha256: str | None) -> str | None:
    """The inverse: Lambda's (or S3's) base64 CodeSha256 as the hex digest artifacts are named by.

    None when there is no value or it is not base64 of 32 bytes.
    """
    if not code_sha256:
        return None
    try:
        raw = base64.b64decode(code_sha256, validate=True)
    except ValueError:
        return None
    return raw.hex() if len(raw) == 32 else None


@dataclass(frozen=True)
class Manifest:
    """Facts about one artifact zip. `sha256` (hex) is its identity everywhere."""

    name: str
    sha256: str
    code_sha256: str
    size: int
    unzipped_size: int
    architecture: str
    go_version: str
    commit: str
    dirty: bool
    version: str
    build_id: str
    handlers: tuple[str, ...] | None = None  # sorted; None: the binary did not answer the listing

    @property
    def sha12(self) -> str:
        """The short id used in file names and for people."""
        return self.sha256[:12]

    @property
    def stem(self) -> str:
        """`<name>-<sha12>`: the file name of the zip and the manifest, without suffix."""
        return f"{self.name}-{self.sha12}"

    def to_dict(self) -> dict[str, Any]:
        """The manifest as a plain dict (JSON-ready)."""
        data = asdict(self)
        data["handlers"] = None if self.handlers is None else list(self.handlers)
        return data

    def to_json(self) -> str:
        """Stable JSON text: sorted keys, two-space indent, trailing newline."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, data: Any, source: str = "manifest") -> Manifest:
        """Validate a decoded manifest. Raises InputError naming `source` and the bad field.

        Unknown keys are ignored so a newer writer does not break an older reader; fields with a
        default (`handlers`) may be missing, so an older manifest stays readable.
        """
        if not isinstance(data, dict):
            raise InputError(f"{source}: manifest must be a JSON object, got {type(data).__name__}")
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in data:
                values[f.name] = data[f.name]
            elif f.default is MISSING:
                raise InputError(f"{source}: manifest field '{f.name}' is missing")
            else:
                values[f.name] = f.default
        _validate(values, source)
        if values["handlers"] is not None:
            values["handlers"] = tuple(values["handlers"])
        return cls(**values)

    @classmethod
    def from_json(cls, text: str, source: str = "manifest") -> Manifest:
        """Parse and validate manifest JSON text. Raises InputError naming `source`."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{source}: manifest is not valid JSON: {exc.msg} (line {exc.lineno})") from None
        return cls.from_dict(data, source)

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """Read and validate a manifest file. Raises InputError naming the file."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(f"{path}: manifest not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot read manifest: {exc}") from None
        return cls.from_json(text, str(path))

    def write(self, path: Path) -> None:
        """Write the manifest JSON to `path` (replaced atomically)."""
        tmp = Path(path).with_name(Path(path).name + ".tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        tmp.replace(path)


def manifest_path_for(zip_path: Path) -> Path:
    """Where the manifest of a zip lives: beside it, same stem, `.json`."""
    return Path(zip_path).with_suffix(".json")


def _validate(v: dict[str, Any], source: str) -> None:
    """Check every field's type and shape; raise InputError on the first bad one."""

    def bad(field: str, why: str) -> InputError:
        shown = repr(v[field])
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        return InputError(f"{source}: manifest field '{field}' {why} (got {shown})")

    for key in ("name", "sha256", "code_sha256", "architecture", "go_version", "commit", "version", "build_id"):
        if not isinstance(v[key], str) or not v[key]:
            raise bad(key, "must be a non-empty string")
    for key in ("size", "unzipped_size"):
        if type(v[key]) is not int or v[key] < 0:
            raise bad(key, "must be a non-negative integer")
    if type(v["dirty"]) is not bool:
        raise bad("dirty", "must be true or false")
    if not NAME_RE.match(v["name"]):
        raise bad("name", "must be 1-64 characters of letters, digits, '.', '_' or '-'")
    if not SHA256_RE.match(v["sha256"]):
        raise bad("sha256", "must be 64 lowercase hex characters")
    if v["code_sha256"] != lambda_sha256(v["sha256"]):
        raise bad("code_sha256", f"does not match sha256 (expected {lambda_sha256(v['sha256'])})")
    if v["architecture"] not in ARCHITECTURES:
        raise bad("architecture", f"must be one of {', '.join(sorted(ARCHITECTURES))}")
    names = v["handlers"]
    if names is not None and (
        not isinstance(names, (list, tuple))
        or not all(isinstance(n, str) and HANDLER_RE.match(n) for n in names)
        or list(names) != sorted(set(names))
    ):
        raise bad("handlers", "must be null or a sorted list of distinct handler names (no whitespace, "
                              "1-128 characters)")
