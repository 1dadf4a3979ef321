"""The engine tests' bootstrapped `world` (tests/engine/conftest.py), reused by the browser test."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location("engine_world", Path(__file__).resolve().parents[1] / "engine"
                                               / "conftest.py")
assert _spec is not None and _spec.loader is not None
_engine = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _engine  # dataclasses look their module up
_spec.loader.exec_module(_engine)

world = _engine.world
built2 = _engine.built2
