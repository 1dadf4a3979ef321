"""The template bytecode cache: used across processes, invalidated by an edit, never a reason to fail."""

from __future__ import annotations

import shutil
import subprocess
import sys

from infra.conftest import REPO
from pipeline.infra import templatecache
from pipeline.infra.render import _environment, render_tooling


def test_cache_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "c"))
    assert templatecache.cache_root() == tmp_path / "c"
    monkeypatch.setenv("PIPELINE_CACHE_DIR", "off")
    assert templatecache.cache_root() is None and templatecache.bytecode_cache() is None
    monkeypatch.delenv("PIPELINE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert templatecache.cache_root() == tmp_path / "xdg" / "pipeline"


def test_a_second_process_loads_compiled_templates_and_an_edit_recompiles(monkeypatch, tmp_path, repo_config):
    cache = tmp_path / "cache"
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    probe = ("import sys, pathlib\nfrom pipeline.config.load import load_config\n"
             "from pipeline.infra.render import render_tooling\n"
             f"print(render_tooling(load_config(pathlib.Path({str(REPO / 'environments')!r})), "
             "templates_dir=pathlib.Path(sys.argv[1])).version)")
    env = {"PIPELINE_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin"}
    first = subprocess.run([sys.executable, "-c", probe, str(templates)], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    entries = list(cache.rglob("*.cache"))
    assert entries, "the first run writes compiled templates"
    stamps = {p: p.stat().st_mtime_ns for p in entries}
    again = subprocess.run([sys.executable, "-c", probe, str(templates)], env=env, capture_output=True, text=True)
    assert again.stdout == first.stdout
    assert {p: p.stat().st_mtime_ns for p in entries} == stamps  # loaded, not compiled and written again
    tooling = templates / "tooling.yml.j2"
    tooling.write_text(tooling.read_text() + "\n# edited\n")
    edited = subprocess.run([sys.executable, "-c", probe, str(templates)], env=env, capture_output=True, text=True)
    assert edited.returncode == 0 and edited.stdout != first.stdout  # the edit is rendered, not the stale bytecode


def test_an_unusable_cache_directory_is_no_cache(monkeypatch, tmp_path, repo_config):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(blocker / "sub"))
    assert templatecache.bytecode_cache() is None
    _environment.cache_clear()
    try:
        assert render_tooling(repo_config).version
    finally:
        _environment.cache_clear()
