"""The plain merged values (config/values.py) carry exactly the file models' fields and defaults."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic_core import PydanticUndefined

from pipeline.config.load import load_config
from pipeline.config.plain import PLAIN, plain
from pipeline.config.values import FunctionSettings, SmokeCase

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("written", list(PLAIN), ids=lambda m: m.__name__)
def test_each_value_has_the_file_models_fields_and_defaults(written):
    value = PLAIN[written]
    mirrored = [f for f in dataclasses.fields(value) if not f.metadata.get("derived")]  # derived: by the loader
    assert {f.name for f in mirrored} == set(written.model_fields)
    for f in mirrored:
        info = written.model_fields[f.name]
        if f.name == "type":  # the source discriminator: required when written, implied by the value's type
            continue
        if info.default is PydanticUndefined and info.default_factory is None:
            assert f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING, f.name
        elif info.default_factory is not None:
            assert f.default_factory is not dataclasses.MISSING, f.name
            assert plain(info.default_factory()) == f.default_factory(), f.name
        else:
            assert plain(info.default) == f.default, f.name


def test_the_merged_config_holds_only_plain_values():
    config = load_config(REPO / "environments")
    dev = config.env("dev")
    assert isinstance(dev.function, FunctionSettings)
    assert all(type(case) is SmokeCase for case in dev.smoke)
    assert dev.smoke[0].expect.statusCode == 200


def test_reading_the_merged_config_module_imports_no_pydantic():
    code = ("import sys, pipeline.config.merged, pipeline.core.plan, pipeline.engine.executor; "
            "print('pydantic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
