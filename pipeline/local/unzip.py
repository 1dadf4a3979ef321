"""Unpack a function's zip into its private task directory, refusing anything that escapes it.

The zip comes from whoever called create_function, so it is untrusted input: entries with
absolute paths, `..` parts or symlinks are rejected, and Lambda's unzipped-size limit holds.
Unix modes are restored so `bootstrap` keeps its execute bit.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

MAX_UNZIPPED_BYTES = 250 * 1024 * 1024  # Lambda's limit for a function and its layers


class UnsafeZip(ValueError):
    """The code package cannot be unpacked safely (or is not a zip at all)."""


def extract(data: bytes, dest: Path) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise UnsafeZip(f"the function's code is not a valid zip file ({exc})") from None
    root = dest.resolve()
    with archive:
        infos = archive.infolist()
        if sum(info.file_size for info in infos) > MAX_UNZIPPED_BYTES:
            raise UnsafeZip(f"unzipped size exceeds {MAX_UNZIPPED_BYTES} bytes")
        for info in infos:
            _check(info, root)
        for info in infos:
            target = root / info.filename
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as src, open(target, "xb") as out:
                    while chunk := src.read(1 << 20):
                        out.write(chunk)
            except (FileExistsError, NotADirectoryError):
                message = f"zip entry {info.filename!r} is duplicated or clashes with another"
                raise UnsafeZip(message) from None
            mode = (info.external_attr >> 16) & 0o777
            # Zips made on Windows carry no Unix mode: Lambda then uses 0644 (not executable).
            os.chmod(target, mode or 0o644)


def _check(info: zipfile.ZipInfo, root: Path) -> None:
    name = info.filename
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":"):
        raise UnsafeZip(f"zip entry {name!r} points outside the task directory")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise UnsafeZip(f"zip entry {name!r} is a symbolic link, which is not allowed")
    if not (root / name).resolve().is_relative_to(root):
        raise UnsafeZip(f"zip entry {name!r} points outside the task directory")
