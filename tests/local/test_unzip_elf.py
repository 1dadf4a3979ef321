"""Unit checks for the code-package unpacker and the ELF header reader."""

from __future__ import annotations

import io
import stat
import struct
import zipfile

import pytest

from pipeline.local import elf, unzip


def _zip(entries: list[tuple[str, bytes, int]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def test_extract_restores_modes_and_directories(tmp_path):
    unzip.extract(_zip([("bootstrap", b"#!/bin/sh\n", 0o100755), ("lib/data.txt", b"x", 0o100644)]), tmp_path)
    assert stat.S_IMODE((tmp_path / "bootstrap").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "lib/data.txt").stat().st_mode) == 0o644
    assert (tmp_path / "lib/data.txt").read_bytes() == b"x"


@pytest.mark.parametrize("name", ["../evil", "a/../../evil", "/etc/evil", "C:/evil"])
def test_extract_refuses_paths_outside(tmp_path, name):
    with pytest.raises(unzip.UnsafeZip, match="outside the task directory"):
        unzip.extract(_zip([(name, b"x", 0o100644)]), tmp_path / "root")
    assert not (tmp_path / "evil").exists()


def test_extract_refuses_symlinks(tmp_path):
    with pytest.raises(unzip.UnsafeZip, match="symbolic link"):
        unzip.extract(_zip([("link", b"/etc/passwd", 0o120777)]), tmp_path)
    assert not (tmp_path / "link").exists()


def test_extract_refuses_unzipped_size_over_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(unzip, "MAX_UNZIPPED_BYTES", 10)
    with pytest.raises(unzip.UnsafeZip, match="unzipped size"):
        unzip.extract(_zip([("big", b"x" * 11, 0o100644)]), tmp_path)


def _elf_header(machine: int, little: bool = True) -> bytes:
    order = "<" if little else ">"
    return b"\x7fELF" + bytes([2, 1 if little else 2, 1]) + bytes(9) + struct.pack(order + "HH", 2, machine)


@pytest.mark.parametrize(("header", "expected"), [
    (_elf_header(62), "x86_64"),
    (_elf_header(183), "arm64"),
    (_elf_header(183, little=False), "arm64"),
    (_elf_header(40), "e_machine=40"),
    (b"#!/bin/sh\necho hi\n", None),
    (b"", None),
])
def test_elf_architecture(tmp_path, header, expected):
    path = tmp_path / "bootstrap"
    path.write_bytes(header)
    assert elf.elf_architecture(path) == expected
