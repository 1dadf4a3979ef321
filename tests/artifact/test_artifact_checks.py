"""Every check in pipeline.artifact.checks: each bad artifact is one InputError naming the file."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from artifact_zipkit import EM_AARCH64, EM_X86_64, REG_755, fake_elf, write_zip

from pipeline.artifact import checks
from pipeline.artifact.checks import check_artifact, sha256_file
from pipeline.artifact.manifest import Manifest, lambda_sha256
from pipeline.errors import EXIT_USAGE, InputError


def expect_input_error(path: Path, arch: str = "x86_64", manifest: Manifest | None = None) -> str:
    with pytest.raises(InputError) as exc:
        check_artifact(path, arch, manifest)
    msg = str(exc.value)
    assert exc.value.exit_code == EXIT_USAGE
    assert "\n" not in msg
    assert str(path) in msg
    return msg


def manifest_for(path: Path, arch: str = "x86_64") -> Manifest:
    hex_digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Manifest(
        name="greeter", sha256=hex_digest, code_sha256=lambda_sha256(hex_digest),
        size=path.stat().st_size, unzipped_size=128, architecture=arch, go_version="go1.26.8",
        commit="0" * 40, dirty=False, version="1.0.0", build_id="b" * 20,
    )


def test_sha256_file_hex_and_lambda_base64(tmp_path):
    p = tmp_path / "f.bin"
    p.write_bytes(b"hello" * 1000)
    hex_digest, b64 = sha256_file(p)
    digest = hashlib.sha256(b"hello" * 1000).digest()
    assert hex_digest == digest.hex()
    assert b64 == base64.b64encode(digest).decode()
    assert len(base64.b64decode(b64)) == 32


def test_good_x86_artifact_passes(good_zip):
    info = check_artifact(good_zip, "x86_64")
    assert info.path == good_zip
    assert info.sha256 == sha256_file(good_zip)[0]
    assert info.code_sha256 == sha256_file(good_zip)[1]
    assert info.sha12 == info.sha256[:12]
    assert info.size == good_zip.stat().st_size
    assert info.unzipped_size == len(fake_elf())
    assert info.architecture == "x86_64"
    assert info.entries == ("bootstrap",)


def test_good_arm64_artifact_passes(make_zip):
    z = make_zip([("bootstrap", fake_elf(EM_AARCH64), REG_755), ("lib/data.txt", b"x", stat.S_IFREG | 0o644)])
    info = check_artifact(z, "arm64")
    assert info.unzipped_size == len(fake_elf()) + 1
    assert set(info.entries) == {"bootstrap", "lib/data.txt"}


def test_good_artifact_with_matching_manifest_passes(good_zip):
    check_artifact(good_zip, "x86_64", manifest_for(good_zip))


def test_unknown_architecture(good_zip):
    msg = expect_input_error(good_zip, arch="mips")
    assert "mips" in msg


def test_missing_file(tmp_path):
    msg = expect_input_error(tmp_path / "nope.zip")
    assert "not found" in msg


def test_directory_is_not_an_artifact(tmp_path):
    d = tmp_path / "dir.zip"
    d.mkdir()
    assert "not a regular file" in expect_input_error(d)


def test_not_a_zip(tmp_path):
    p = tmp_path / "a.zip"
    p.write_bytes(fake_elf())
    assert "not a zip" in expect_input_error(p)


def test_empty_file_is_not_a_zip(tmp_path):
    p = tmp_path / "a.zip"
    p.write_bytes(b"")
    assert "not a zip" in expect_input_error(p)


def test_truncated_zip(good_zip):
    data = good_zip.read_bytes()
    good_zip.write_bytes(data[: len(data) // 2])
    assert "zip" in expect_input_error(good_zip)


def test_corrupt_bootstrap_data_is_one_line(good_zip):
    data = bytearray(good_zip.read_bytes())
    # The local header is 30 bytes + name; flip the compressed bytes right after it.
    start = 30 + len("bootstrap")
    for i in range(start, start + 8):
        data[i] ^= 0xFF
    good_zip.write_bytes(bytes(data))
    msg = expect_input_error(good_zip)
    assert "zip" in msg or "ELF" in msg


def test_no_bootstrap(make_zip):
    z = make_zip([("main", fake_elf(), REG_755)])
    assert "no root-level 'bootstrap'" in expect_input_error(z)


def test_empty_zip_has_no_bootstrap(make_zip):
    z = make_zip([])
    assert "no root-level 'bootstrap'" in expect_input_error(z)


def test_nested_bootstrap_is_not_root_level(make_zip):
    z = make_zip([("dist/bootstrap", fake_elf(), REG_755)])
    msg = expect_input_error(z)
    assert "no root-level 'bootstrap'" in msg
    assert "dist/bootstrap" in msg


def test_bootstrap_directory_entry_is_not_the_file(make_zip):
    z = make_zip([("bootstrap/", b"", stat.S_IFDIR | 0o755)])
    assert "no root-level 'bootstrap'" in expect_input_error(z)


@pytest.mark.parametrize("perm", [0o644, 0o700, 0o750, 0o754, 0o000])
def test_bootstrap_not_executable_by_everyone(make_zip, perm):
    z = make_zip([("bootstrap", fake_elf(), stat.S_IFREG | perm)])
    msg = expect_input_error(z)
    assert "executable" in msg or "mode" in msg


def test_bootstrap_without_unix_mode(make_zip):
    z = make_zip([("bootstrap", fake_elf(), 0)], create_system=0)
    assert "no Unix mode" in expect_input_error(z)


def test_bootstrap_mode_without_file_type_bits_is_accepted(make_zip):
    z = make_zip([("bootstrap", fake_elf(), 0o755)])
    check_artifact(z, "x86_64")


def test_bootstrap_is_symlink(make_zip):
    z = make_zip([("bootstrap", b"/bin/sh", stat.S_IFLNK | 0o777)])
    assert "symlink" in expect_input_error(z)


def test_other_symlink_entry(make_zip):
    z = make_zip([("bootstrap", fake_elf(), REG_755), ("lib/link", b"/etc/passwd", stat.S_IFLNK | 0o777)])
    msg = expect_input_error(z)
    assert "symlink" in msg and "lib/link" in msg


def test_bootstrap_not_regular_file(make_zip):
    z = make_zip([("bootstrap", fake_elf(), stat.S_IFIFO | 0o755)])
    assert "not a regular file" in expect_input_error(z)


@pytest.mark.parametrize("name", ["../evil", "lib/../../evil", "/etc/passwd", "C:/evil", "..\\evil"])
def test_zip_slip_entries(make_zip, name):
    z = make_zip([("bootstrap", fake_elf(), REG_755), (name, b"x", stat.S_IFREG | 0o644)])
    msg = expect_input_error(z)
    assert "absolute path" in msg or "'..'" in msg


def test_duplicate_entries(tmp_path):
    z = tmp_path / "dup.zip"
    with pytest.warns(UserWarning, match="Duplicate name"):
        write_zip(z, [("bootstrap", fake_elf(), REG_755), ("bootstrap", b"#!/bin/sh", REG_755)])
    assert "more than once" in expect_input_error(z)


def test_bootstrap_not_elf_script(make_zip):
    z = make_zip([("bootstrap", b"#!/bin/sh\nexec ./main\n" + b" " * 40, REG_755)])
    assert "not an ELF" in expect_input_error(z)


def test_bootstrap_too_short_for_elf_header(make_zip):
    z = make_zip([("bootstrap", b"\x7fELF", REG_755)])
    assert "not an ELF" in expect_input_error(z)


def test_bootstrap_macho_binary(make_zip):
    z = make_zip([("bootstrap", b"\xcf\xfa\xed\xfe" + b"\0" * 60, REG_755)])
    assert "not an ELF" in expect_input_error(z)


def test_elf_32_bit(make_zip):
    z = make_zip([("bootstrap", fake_elf(EM_X86_64, elf_class=1), REG_755)])
    assert "64-bit" in expect_input_error(z)


def test_elf_big_endian(make_zip):
    z = make_zip([("bootstrap", fake_elf(EM_X86_64, data=2), REG_755)])
    assert "little-endian" in expect_input_error(z)


def test_elf_relocatable_object_is_not_executable(make_zip):
    z = make_zip([("bootstrap", fake_elf(EM_X86_64, e_type=1), REG_755)])
    assert "not an executable" in expect_input_error(z)


def test_elf_position_independent_executable_is_accepted(make_zip):
    z = make_zip([("bootstrap", fake_elf(EM_X86_64, e_type=3), REG_755)])
    check_artifact(z, "x86_64")


def test_arm64_binary_for_x86_64(make_zip):
    z = make_zip([("bootstrap", fake_elf(EM_AARCH64), REG_755)])
    msg = expect_input_error(z, "x86_64")
    assert "AArch64" in msg and "x86-64" in msg


def test_x86_64_binary_for_arm64(make_zip):
    z = make_zip([("bootstrap", fake_elf(EM_X86_64), REG_755)])
    msg = expect_input_error(z, "arm64")
    assert "x86-64" in msg and "arm64" in msg


def test_unknown_machine_named_by_number(make_zip):
    z = make_zip([("bootstrap", fake_elf(0x1234), REG_755)])
    assert str(0x1234) in expect_input_error(z)


def test_zip_over_50mb(tmp_path):
    """A real zip just over 50 MB (incompressible bytes, stored), rejected before it is opened."""
    z = tmp_path / "big.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_STORED) as zf:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = REG_755 << 16
        info.create_system = 3
        zf.writestr(info, fake_elf() + os.urandom(checks.ZIP_LIMIT))
    assert z.stat().st_size > 50 * 1024 * 1024
    msg = expect_input_error(z)
    assert "50 MB" in msg


def test_zip_exactly_at_limit_is_not_rejected_for_size(tmp_path, monkeypatch):
    z = write_zip(tmp_path / "a.zip", [("bootstrap", fake_elf(), REG_755)])
    monkeypatch.setattr(checks, "ZIP_LIMIT", z.stat().st_size)
    check_artifact(z, "x86_64")
    monkeypatch.setattr(checks, "ZIP_LIMIT", z.stat().st_size - 1)
    assert "50 MB" in expect_input_error(z)


def test_unzipped_over_250mb(tmp_path):
    """Sizes are summed from the central directory: 2 x 130 MB of zeros compress to little."""
    z = tmp_path / "bomb.zip"
    chunk = b"\0" * (1 << 20)
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = REG_755 << 16
        info.create_system = 3
        zf.writestr(info, fake_elf())
        for name in ("a.bin", "b.bin"):
            big = zipfile.ZipInfo(name)
            big.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(big, "w", force_zip64=True) as fh:
                for _ in range(130):
                    fh.write(chunk)
    assert z.stat().st_size < checks.ZIP_LIMIT
    msg = expect_input_error(z)
    assert "250 MB" in msg and "unzipped" in msg


def test_manifest_sha_mismatch_shows_both_hashes(good_zip):
    m = manifest_for(good_zip)
    actual = m.sha256
    other = hashlib.sha256(b"other bytes").hexdigest()
    m = replace(m, sha256=other, code_sha256=lambda_sha256(other))
    msg = expect_input_error(good_zip, manifest=m)
    assert actual in msg and other in msg


def test_bytes_replaced_after_manifest_written(good_zip, make_zip):
    m = manifest_for(good_zip)
    make_zip([("bootstrap", fake_elf() + b"tampered", REG_755)], name=good_zip.name)
    msg = expect_input_error(good_zip, manifest=m)
    assert m.sha256 in msg and sha256_file(good_zip)[0] in msg


def test_manifest_size_mismatch(good_zip):
    m = replace(manifest_for(good_zip), size=1)
    assert "size" in expect_input_error(good_zip, manifest=m)


def test_manifest_architecture_mismatch(make_zip):
    z = make_zip([("bootstrap", fake_elf(EM_AARCH64), REG_755)])
    m = manifest_for(z, arch="x86_64")
    msg = expect_input_error(z, "arm64", manifest=m)
    assert "architecture" in msg
