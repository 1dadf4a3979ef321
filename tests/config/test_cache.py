"""The validated-config cache: same files -> read back without pydantic; any change -> validated again."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.config import cache
from pipeline.config.load import load_config
from pipeline.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def envdir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    return Path(shutil.copytree(REPO / "environments", tmp_path / "environments"))


def _entries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache").glob("config-*.pickle"))


def test_a_second_load_reads_the_cached_config_and_imports_no_pydantic(envdir, tmp_path):
    first = load_config("environments")
    assert len(_entries(tmp_path)) == 1
    code = ("import sys\nfrom pipeline.config.load import load_config\nc = load_config('environments')\n"
            "print(c.env('dev').smoke[0].expect.statusCode, c.artifact_bucket, 'pydantic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["200", first.artifact_bucket, "False"]
    assert load_config("environments") == first


def test_an_edited_file_is_validated_again(envdir, tmp_path):
    before = load_config("environments")
    dev = envdir / "dev.yml"
    dev.write_text(dev.read_text().replace("function:\n", "function:\n  timeout: 21\n", 1))
    after = load_config("environments")
    assert after.env("dev").function.timeout == 21 != before.env("dev").function.timeout
    assert len(_entries(tmp_path)) == 2
    dev.write_text(dev.read_text() + "bogus_key: 1\n")
    for _ in range(2):  # an invalid configuration is never stored: reported on every run
        with pytest.raises(ConfigError, match="bogus_key"):
            load_config("environments")
    assert len(_entries(tmp_path)) == 2


def test_a_new_file_in_the_directory_changes_the_key(envdir, tmp_path):
    load_config("environments")
    (envdir / "qa.yml").write_text('account: "999999999999"\n')
    with pytest.raises(ConfigError, match=r"qa.*not listed"):
        load_config("environments")


def test_another_working_directory_gets_its_own_entry(envdir, tmp_path, monkeypatch):
    here = load_config("environments")
    monkeypatch.chdir(envdir)
    there = load_config(".")
    assert here.env("dev").source == "environments/dev.yml" and there.env("dev").source == "dev.yml"


def test_a_corrupt_entry_is_no_cache(envdir, tmp_path):
    good = load_config("environments")
    (entry,) = _entries(tmp_path)
    entry.write_bytes(b"not a pickle")
    assert load_config("environments") == good
    assert entry.read_bytes() != b"not a pickle"  # rewritten by the validating load


def test_off_disables_it_and_an_unwritable_root_never_fails(envdir, tmp_path, monkeypatch):
    monkeypatch.setenv("PIPELINE_CACHE_DIR", "off")
    assert cache.key(envdir, sorted(envdir.iterdir())) is None
    load_config("environments")
    assert not (tmp_path / "cache").exists()
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a directory")
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(blocker / "sub"))
    assert load_config("environments").name


def test_old_entries_are_pruned(envdir, tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "KEEP", 2)
    dev = envdir / "dev.yml"
    text = dev.read_text()
    for timeout in (11, 12, 13):
        dev.write_text(text.replace("function:\n", f"function:\n  timeout: {timeout}\n", 1))
        load_config("environments")
    assert len(_entries(tmp_path)) == 2
