"""Offline checks on an artifact zip, run before any upload or deploy.

Every failure is an InputError (exit 2) with one line naming the file; nothing is extracted
and nothing is written. Sizes come from the zip's central directory, as Lambda counts them.
"""

from __future__ import annotations

import base64
import hashlib
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pipeline.artifact.arch import ARCHITECTURES, arch_spec, elf_machine_name
from pipeline.artifact.manifest import Manifest
from pipeline.errors import InputError

ZIP_LIMIT = 50 * 1024 * 1024  # Lambda's direct-upload limit for a zip (52,428,800 bytes)
UNZIPPED_LIMIT = 250 * 1024 * 1024  # Lambda's limit on the unzipped deployment package
ENTRYPOINT = "bootstrap"

_ELF_MAGIC = b"\x7fELF"
_ELFCLASS64 = 2
_ELFDATA2LSB = 1
_ET_EXEC, _ET_DYN = 2, 3


@dataclass(frozen=True)
class ArtifactInfo:
    """What the checks established about a zip that passed them."""

    path: Path
    sha256: str  # hex
    code_sha256: str  # base64 of the raw digest, as Lambda reports CodeSha256
    size: int
    unzipped_size: int
    architecture: str
    entries: tuple[str, ...]

    @property
    def sha12(self) -> str:
        """The short id used in file names and for people."""
        return self.sha256[:12]


def sha256_file(path: Path) -> tuple[str, str]:
    """sha256 of a file as (hex, Lambda's CodeSha256 base64 form), read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest(), base64.b64encode(h.digest()).decode("ascii")


def check_artifact(zip_path: Path, architecture: str, manifest: Manifest | None = None) -> ArtifactInfo:
    """Check a zip is a deployable Lambda artifact for `architecture`; raise InputError if not.

    Checks, in order: the file exists; it is within the 50 MB zip limit; it is a zip; no entry
    is absolute, climbs out with `..`, is a symlink or is duplicated; the unzipped size is within
    250 MB; there is a root-level `bootstrap` regular file, executable by everyone, that is a
    64-bit little-endian ELF for the architecture; and, given a manifest, that the manifest
    describes these bytes (sha256, size) for this architecture.
    """
    path = Path(zip_path)
    spec = arch_spec(architecture)
    if spec is None:
        raise InputError(
            f"{path}: unknown architecture {architecture!r} (expected one of {', '.join(ARCHITECTURES)})"
        )
    if not path.exists():
        raise InputError(f"{path}: artifact not found")
    if not path.is_file():
        raise InputError(f"{path}: artifact is not a regular file")
    size = path.stat().st_size
    if size > ZIP_LIMIT:
        raise InputError(f"{path}: zip is {_mb(size)}, over Lambda's 50 MB direct-upload limit")
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path}: not a zip file")

    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            _check_entries(path, infos)
            unzipped = sum(i.file_size for i in infos)
            if unzipped > UNZIPPED_LIMIT:
                raise InputError(f"{path}: unzipped size is {_mb(unzipped)}, over Lambda's 250 MB limit")
            boot = _find_bootstrap(path, infos)
            _check_mode(path, boot)
            with zf.open(boot) as fh:
                header = fh.read(20)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise InputError(f"{path}: not a readable zip: {exc}") from None
    _check_elf(path, header, architecture)

    sha_hex, sha_b64 = sha256_file(path)
    if manifest is not None:
        _check_manifest(path, manifest, sha_hex, size, architecture)
    return ArtifactInfo(
        path=path,
        sha256=sha_hex,
        code_sha256=sha_b64,
        size=size,
        unzipped_size=unzipped,
        architecture=architecture,
        entries=tuple(i.filename for i in infos),
    )


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB ({n} bytes)"


def _unix_mode(info: zipfile.ZipInfo) -> int:
    return info.external_attr >> 16


def _check_entries(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    """No absolute paths, no `..`, no symlinks, no duplicate names."""
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        posix = PurePosixPath(name.replace("\\", "/"))
        if posix.is_absolute() or (len(name) > 1 and name[1] == ":"):
            raise InputError(f"{path}: entry {name!r} has an absolute path")
        if ".." in posix.parts:
            raise InputError(f"{path}: entry {name!r} climbs out of the archive with '..'")
        if stat.S_ISLNK(_unix_mode(info)):
            raise InputError(f"{path}: entry {name!r} is a symlink; Lambda artifacts must not hold links")
        if name in seen:
            raise InputError(f"{path}: entry {name!r} appears more than once")
        seen.add(name)


def _find_bootstrap(path: Path, infos: list[zipfile.ZipInfo]) -> zipfile.ZipInfo:
    for info in infos:
        if info.filename == ENTRYPOINT:
            return info
    nested = [i.filename for i in infos if PurePosixPath(i.filename).name == ENTRYPOINT]
    hint = f" (found {nested[0]!r}; it must be at the root)" if nested else ""
    raise InputError(f"{path}: no root-level '{ENTRYPOINT}' in the zip{hint}")


def _check_mode(path: Path, info: zipfile.ZipInfo) -> None:
    """bootstrap must be a regular file that Lambda's sandbox user can read and execute."""
    mode = _unix_mode(info)
    if mode == 0:
        raise InputError(f"{path}: '{ENTRYPOINT}' has no Unix mode bits; it must be stored with mode 0755")
    file_type = stat.S_IFMT(mode)
    if file_type not in (0, stat.S_IFREG):
        raise InputError(f"{path}: '{ENTRYPOINT}' is not a regular file (mode {mode:o})")
    perm = stat.S_IMODE(mode)
    if perm & 0o005 != 0o005:
        raise InputError(
            f"{path}: '{ENTRYPOINT}' is not executable by everyone (mode {perm:04o}; Lambda needs 0755)"
        )


def _check_elf(path: Path, header: bytes, architecture: str) -> None:
    """bootstrap must be a 64-bit little-endian ELF executable for the architecture."""
    spec = ARCHITECTURES[architecture]
    if len(header) < 20 or header[:4] != _ELF_MAGIC:
        raise InputError(f"{path}: '{ENTRYPOINT}' is not an ELF executable (a Linux binary is required)")
    if header[4] != _ELFCLASS64:
        raise InputError(f"{path}: '{ENTRYPOINT}' is not a 64-bit ELF (class {header[4]})")
    if header[5] != _ELFDATA2LSB:
        raise InputError(f"{path}: '{ENTRYPOINT}' is not a little-endian ELF")
    e_type, e_machine = struct.unpack_from("<HH", header, 16)
    if e_type not in (_ET_EXEC, _ET_DYN):
        raise InputError(f"{path}: '{ENTRYPOINT}' is an ELF but not an executable (e_type {e_type})")
    if e_machine != spec.elf_machine:
        raise InputError(
            f"{path}: '{ENTRYPOINT}' is built for {elf_machine_name(e_machine)}, "
            f"not {spec.elf_name} (architecture {architecture})"
        )


def _check_manifest(path: Path, manifest: Manifest, sha_hex: str, size: int, architecture: str) -> None:
    if manifest.sha256 != sha_hex:
        raise InputError(f"{path}: sha256 {sha_hex} does not match the manifest's {manifest.sha256}")
    if manifest.size != size:
        raise InputError(f"{path}: size {size} does not match the manifest's {manifest.size}")
    if manifest.architecture != architecture:
        raise InputError(
            f"{path}: manifest says architecture {manifest.architecture}, but {architecture} was asked for"
        )
