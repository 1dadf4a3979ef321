"""Helpers for artifact tests: hand-made zips and fake ELF headers (named uniquely to avoid
clashing with other test directories' conftest modules)."""

from __future__ import annotations

import stat
import struct
import zipfile
from pathlib import Path

EM_X86_64 = 62
EM_AARCH64 = 183


def fake_elf(machine: int = EM_X86_64, elf_class: int = 2, data: int = 1, e_type: int = 2) -> bytes:
    """A 64-byte ELF header (enough for the checks) followed by some padding."""
    ident = b"\x7fELF" + bytes([elf_class, data, 1, 0]) + b"\0" * 8
    rest = struct.pack("<HHI", e_type, machine, 1) + b"\0" * 44
    return ident + rest + b"\0" * 64


Entry = tuple[str, bytes, int]  # (name, data, full unix mode incl. file type)


def write_zip(path: Path, entries: list[Entry], create_system: int = 3) -> Path:
    """Write a zip whose entries carry exactly the given names, bytes and Unix modes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system = create_system
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
            info.external_attr = mode << 16  # writestr turns 0 into 0600; the directory is written at close
    return path


REG_755 = stat.S_IFREG | 0o755
