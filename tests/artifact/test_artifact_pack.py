"""The deterministic zip writer: sorted entries, fixed time, explicit modes, no extras."""

from __future__ import annotations

import io
import stat
import struct
import zipfile

from pipeline.artifact.pack import COMPRESS_LEVEL, ZIP_EPOCH, deterministic_zip


def test_same_input_same_bytes_regardless_of_insertion_order():
    a = deterministic_zip({"b.txt": (b"bee", 0o644), "bootstrap": (b"\x7fELF" * 100, 0o755)})
    b = deterministic_zip({"bootstrap": (b"\x7fELF" * 100, 0o755), "b.txt": (b"bee", 0o644)})
    assert a == b


def test_different_content_different_bytes():
    assert deterministic_zip({"bootstrap": (b"one", 0o755)}) != deterministic_zip({"bootstrap": (b"two", 0o755)})


def test_entry_attributes():
    data = deterministic_zip({"z": (b"zz" * 500, 0o644), "bootstrap": (b"bin" * 500, 0o755), "a/b": (b"", 0o600)})
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == ["a/b", "bootstrap", "z"]
        for info in infos:
            assert info.date_time == ZIP_EPOCH
            assert info.create_system == 3
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert info.extra == b""
            assert info.comment == b""
            assert stat.S_ISREG(info.external_attr >> 16)
        modes = {i.filename: stat.S_IMODE(i.external_attr >> 16) for i in infos}
        assert modes == {"a/b": 0o600, "bootstrap": 0o755, "z": 0o644}
        assert zf.read("bootstrap") == b"bin" * 500
        assert zf.comment == b""


def test_local_headers_have_no_extra_field():
    data = deterministic_zip({"bootstrap": (b"x" * 1000, 0o755)})
    assert data[:4] == b"PK\x03\x04"
    name_len, extra_len = struct.unpack_from("<HH", data, 26)
    assert name_len == len("bootstrap") and extra_len == 0


def test_fixed_compression_level_is_used():
    payload = bytes(range(256)) * 400 + b"a" * 50_000
    with zipfile.ZipFile(io.BytesIO(deterministic_zip({"f": (payload, 0o644)}))) as zf:
        compressed = zf.getinfo("f").compress_size
    assert compressed == _deflated_size(payload, COMPRESS_LEVEL)
    assert compressed != _deflated_size(payload, 1)  # the payload is sensitive to the level


def _deflated_size(payload: bytes, level: int) -> int:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("f"), payload, compress_type=zipfile.ZIP_DEFLATED, compresslevel=level)
    with zipfile.ZipFile(buf) as zf:
        return zf.getinfo("f").compress_size
