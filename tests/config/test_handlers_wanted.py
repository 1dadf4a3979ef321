"""Which handlers `pipeline build` asks the binary for: every function's, each at the file:line it is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from service_example import DEV, FUNCTIONS, multi

from pipeline.cli import main
from pipeline.config.handlers import ONE_FUNCTION_WHERE, wanted_handlers
from pipeline.config.load import load_config

GO_DIR = Path(__file__).resolve().parents[2] / "go-function"


def _line(path, text: str) -> int:
    return path.read_text().splitlines().index(text) + 1


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch):
    monkeypatch.setenv("PIPELINE_CACHE_DIR", "off")


def test_the_one_function_service_wants_the_handler_every_artifact_has(envdir):
    assert wanted_handlers(load_config(envdir), "bootstrap") == {"function": ("bootstrap", ONE_FUNCTION_WHERE)}


def test_each_function_is_wanted_where_pipeline_yml_or_the_env_file_writes_its_handler(envdir):
    multi(envdir, dev=DEV.replace("api: {memory: 512,", "api: {memory: 512, handler: api2,"))
    top = envdir / "pipeline.yml"
    api, worker = _line(top, "    handler: api"), _line(top, "    handler: worker")
    override = _line(envdir / "dev.yml", "  api: {memory: 512, handler: api2, environment: {LOG_LEVEL: debug}}")
    wanted = wanted_handlers(load_config(envdir), "bootstrap")
    assert wanted == {
        "dev/api": ("api2", f"environments/dev.yml:{override} functions.api.handler"),
        "dev/worker": ("worker", f"environments/pipeline.yml:{worker} functions.worker.handler"),
        "test/api": ("api", f"environments/pipeline.yml:{api} functions.api.handler"),
    }  # one entry per distinct (handler, place): test and prod inherit pipeline.yml's


def test_build_refuses_a_configured_handler_the_binary_does_not_serve(envdir, tmp_path, capsys):
    multi(envdir, functions=FUNCTIONS.replace("handler: worker", "handler: billing"))
    line = _line(envdir / "pipeline.yml", "    handler: billing")
    code = main(["build", "--skip-tests", "--dist", str(tmp_path / "dist"), "--go-dir", str(GO_DIR)])
    err = capsys.readouterr().err.splitlines()
    assert (code, err[-1]) == (2, f"pipeline: error: environments/pipeline.yml:{line} functions.worker.handler: "
                                  "handler 'billing' is not served by the binary (it serves: api, worker)")
    assert not (tmp_path / "dist").exists()


def test_validate_renders_a_services_templates(envdir, capsys):
    """Tooling, pipeline, and per env its target, function and front-door stack: 2 + 3 x 3."""
    multi(envdir)
    assert main(["validate"]) == 0
    assert "templates: 11 rendered" in capsys.readouterr().out
