"""Real builds of go-function: determinism, ELF/mode of bootstrap, stamping, arm64, failures."""

from __future__ import annotations

import json
import shutil
import stat
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest

from pipeline.artifact.build import build_artifact, compute_build_id, git_state, source_digest
from pipeline.artifact.checks import check_artifact, sha256_file
from pipeline.artifact.manifest import Manifest
from pipeline.artifact.pack import ZIP_EPOCH
from pipeline.errors import EXIT_FAILED, InputError, PipelineError

GO_DIR = Path(__file__).resolve().parents[2] / "go-function"
EM_X86_64, EM_AARCH64 = 62, 183


def bootstrap_of(zip_path: Path) -> tuple[zipfile.ZipInfo, bytes]:
    with zipfile.ZipFile(zip_path) as zf:
        assert [i.filename for i in zf.infolist()] == ["bootstrap"]
        info = zf.getinfo("bootstrap")
        return info, zf.read("bootstrap")


@pytest.fixture(scope="module")
def x86_builds(tmp_path_factory) -> tuple[Manifest, Path, Manifest, Path]:
    """The same commit built twice into two separate directories."""
    a = tmp_path_factory.mktemp("dist-a")
    b = tmp_path_factory.mktemp("dist-b")
    m1 = build_artifact(GO_DIR, a, "greeter", "x86_64", "1.0.0")
    m2 = build_artifact(GO_DIR, b, "greeter", "x86_64", "1.0.0", run_tests=False)
    return m1, a, m2, b


def test_two_builds_are_byte_identical(x86_builds):
    m1, a, m2, b = x86_builds
    assert m1 == m2
    zip_a, zip_b = a / f"{m1.stem}.zip", b / f"{m2.stem}.zip"
    assert zip_a.read_bytes() == zip_b.read_bytes()
    assert (a / f"{m1.stem}.json").read_bytes() == (b / f"{m2.stem}.json").read_bytes()


def test_outputs_are_named_by_content_and_described_by_manifest(x86_builds):
    m, out, _, _ = x86_builds
    assert sorted(p.name for p in out.iterdir()) == [f"greeter-{m.sha12}.json", f"greeter-{m.sha12}.zip"]
    zip_path = out / f"greeter-{m.sha12}.zip"
    assert (m.sha256, m.code_sha256) == sha256_file(zip_path)
    assert m.size == zip_path.stat().st_size
    assert Manifest.load(out / f"greeter-{m.sha12}.json") == m
    assert m.architecture == "x86_64" and m.version == "1.0.0" and m.name == "greeter"
    assert m.go_version.startswith("go1.")


def test_handlers_the_binary_serves_are_read_back_from_the_manifest(x86_builds):
    m, out, _, _ = x86_builds
    assert Manifest.load(out / f"{m.stem}.json").handlers == ("api", "worker")
    assert json.loads((out / f"{m.stem}.json").read_text())["handlers"] == ["api", "worker"]


def test_a_handler_the_binary_does_not_serve_fails_the_build_and_writes_nothing(tmp_path):
    where = "environments/pipeline.yml:12 functions.billing.handler"
    wanted = {"function": ("bootstrap", "core"), "billing": ("billing", where)}
    with pytest.raises(InputError) as exc:
        build_artifact(GO_DIR, tmp_path / "dist", "greeter", "x86_64", "1.0.0", run_tests=False,
                       wanted_handlers=wanted)
    assert str(exc.value) == f"{where}: handler 'billing' is not served by the binary (it serves: api, worker)"
    assert not (tmp_path / "dist").exists()


def test_a_module_without_the_listing_mode_has_unknown_handlers_and_is_not_refused(tmp_path):
    module = tmp_path / "old"
    module.mkdir()
    (module / "go.mod").write_text("module example.com/old\n\ngo 1.22\n")
    (module / "main.go").write_text('package main\n\nimport "os"\n\nfunc main() { os.Exit(3) }\n')
    m = build_artifact(module, tmp_path / "dist", "greeter", "x86_64", "1.0.0", run_tests=False,
                       wanted_handlers={"function": ("whatever", "w")})
    assert m.handlers is None
    assert json.loads((tmp_path / "dist" / f"{m.stem}.json").read_text())["handlers"] is None


def test_bootstrap_is_x86_64_elf_with_mode_0755(x86_builds):
    m, out, _, _ = x86_builds
    info, data = bootstrap_of(out / f"{m.stem}.zip")
    mode = info.external_attr >> 16
    assert stat.S_ISREG(mode) and stat.S_IMODE(mode) == 0o755
    assert info.create_system == 3
    assert info.date_time == ZIP_EPOCH
    assert info.extra == b""
    assert info.compress_type == zipfile.ZIP_DEFLATED
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1
    assert struct.unpack_from("<H", data, 18)[0] == EM_X86_64
    assert m.unzipped_size == len(data)
    check_artifact(out / f"{m.stem}.zip", "x86_64", m)


def test_commit_dirty_and_build_id_are_stamped(x86_builds):
    m, out, _, _ = x86_builds
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=GO_DIR, capture_output=True, text=True).stdout.strip()
    status = subprocess.run(
        ["git", "status", "--porcelain", "--", "."], cwd=GO_DIR, capture_output=True, text=True
    ).stdout
    assert m.commit == head
    assert m.dirty == bool(status.strip())
    assert m.build_id == compute_build_id("greeter", "1.0.0", head, "x86_64", source_digest(GO_DIR))
    _, data = bootstrap_of(out / f"{m.stem}.zip")
    for stamped in (m.commit.encode(), m.build_id.encode()):
        assert stamped in data
    assert b"/work/" not in data and str(GO_DIR).encode() not in data  # -trimpath


def test_other_version_gives_other_bytes(x86_builds, tmp_path):
    m1, _, _, _ = x86_builds
    m = build_artifact(GO_DIR, tmp_path, "greeter", "x86_64", "1.0.1", run_tests=False)
    assert m.sha256 != m1.sha256 and m.build_id != m1.build_id
    _, data = bootstrap_of(tmp_path / f"{m.stem}.zip")
    assert b"1.0.1" in data


def test_arm64_build(tmp_path):
    m = build_artifact(GO_DIR, tmp_path, "greeter", "arm64", "1.0.0", run_tests=False)
    zip_path = tmp_path / f"{m.stem}.zip"
    info, data = bootstrap_of(zip_path)
    assert struct.unpack_from("<H", data, 18)[0] == EM_AARCH64
    assert stat.S_IMODE(info.external_attr >> 16) == 0o755
    assert m.architecture == "arm64"
    assert m.handlers == ("api", "worker")  # asked through a host build of the same package
    check_artifact(zip_path, "arm64", m)
    with pytest.raises(InputError, match="AArch64"):
        check_artifact(zip_path, "x86_64")


def test_build_id_is_deterministic_and_input_sensitive():
    base = compute_build_id("greeter", "1.0.0", "c" * 40, "x86_64", "s" * 64)
    assert base == compute_build_id("greeter", "1.0.0", "c" * 40, "x86_64", "s" * 64)
    assert len(base) == 20 and int(base, 16) >= 0
    others = {
        compute_build_id("greeter", "1.0.1", "c" * 40, "x86_64", "s" * 64),
        compute_build_id("greeter", "1.0.0", "d" * 40, "x86_64", "s" * 64),
        compute_build_id("greeter", "1.0.0", "c" * 40, "arm64", "s" * 64),
        compute_build_id("greeter", "1.0.0", "c" * 40, "x86_64", "t" * 64),
    }
    assert base not in others and len(others) == 4


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"architecture": "amd64"}, "unknown architecture"),
        ({"name": "bad name"}, "artifact name"),
        ({"name": "../x"}, "artifact name"),
        ({"version": "1.0 -X main.commit=evil"}, "version"),
        ({"version": ""}, "version"),
    ],
)
def test_bad_arguments_are_input_errors(tmp_path, kwargs, words):
    args = {"name": "greeter", "architecture": "x86_64", "version": "1.0.0"} | kwargs
    with pytest.raises(InputError, match=words):
        build_artifact(GO_DIR, tmp_path, **args)
    assert not any(tmp_path.iterdir())


def test_not_a_go_module(tmp_path):
    with pytest.raises(InputError, match=r"no go\.mod"):
        build_artifact(tmp_path, tmp_path / "dist", "greeter", "x86_64", "1.0.0")


@pytest.fixture
def go_copy(tmp_path) -> Path:
    """go-function copied outside any git repository."""
    dst = tmp_path / "src" / "go-function"
    shutil.copytree(GO_DIR, dst)
    return dst


def test_outside_git_commit_unknown_and_dirty(go_copy, tmp_path):
    assert git_state(go_copy) == ("unknown", True)
    m = build_artifact(go_copy, tmp_path / "dist", "greeter", "x86_64", "1.0.0", run_tests=False)
    assert m.commit == "unknown" and m.dirty is True


def test_failing_go_test_raises_pipeline_error_with_output_tail(go_copy, tmp_path):
    (go_copy / "zz_fail_test.go").write_text(
        'package main\n\nimport "testing"\n\n'
        'func TestDeliberatelyBroken(t *testing.T) { t.Fatal("the handler is broken on purpose") }\n'
    )
    with pytest.raises(PipelineError) as exc:
        build_artifact(go_copy, tmp_path / "dist", "greeter", "x86_64", "1.0.0")
    msg = str(exc.value)
    assert exc.value.exit_code == EXIT_FAILED and not isinstance(exc.value, InputError)
    assert msg.startswith("go test failed") and "\n" not in msg
    assert "the handler is broken on purpose" in msg
    assert any("TestDeliberatelyBroken" in line for line in exc.value.details)
    assert not (tmp_path / "dist").exists()


def test_compile_error_raises_pipeline_error(go_copy, tmp_path):
    (go_copy / "broken.go").write_text("package main\n\nfunc broken() int { return \"nope\" }\n")
    with pytest.raises(PipelineError, match=r"go build failed.*broken\.go"):
        build_artifact(go_copy, tmp_path / "dist", "greeter", "x86_64", "1.0.0", run_tests=False)


def git(cwd: Path, *args: str) -> str:
    cmd = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "commit.gpgsign=false", *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def test_git_state_dirty_only_for_changes_under_go_dir(go_copy):
    repo = go_copy.parent
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    head = git(repo, "rev-parse", "HEAD")
    assert git_state(go_copy) == (head, False)

    (repo / "README.md").write_text("outside the module: not an input to the bytes\n")
    assert git_state(go_copy) == (head, False)

    (go_copy / "extra.go").write_text("package main\n")  # untracked source counts
    assert git_state(go_copy) == (head, True)
    before = source_digest(go_copy)
    (go_copy / "extra.go").write_text("package main\n\n// changed\n")
    assert source_digest(go_copy) != before

    (go_copy / "extra.go").unlink()
    (go_copy / "main.go").write_text((go_copy / "main.go").read_text() + "\n")  # modified tracked file
    assert git_state(go_copy) == (head, True)
