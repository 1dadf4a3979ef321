"""Fixtures for artifact tests; the helpers live in artifact_zipkit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from artifact_zipkit import EM_X86_64, REG_755, Entry, fake_elf, write_zip


@pytest.fixture
def make_zip(tmp_path: Path) -> Callable[..., Path]:
    """make_zip(entries, name="a.zip", create_system=3) -> path of a zip in tmp_path."""

    def _make(entries: list[Entry], name: str = "a.zip", create_system: int = 3) -> Path:
        return write_zip(tmp_path / name, entries, create_system)

    return _make


@pytest.fixture
def good_zip(make_zip: Callable[..., Path]) -> Path:
    """A minimal valid x86_64 artifact."""
    return make_zip([("bootstrap", fake_elf(EM_X86_64), REG_755)])
