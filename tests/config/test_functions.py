"""`functions:`: a multi-function service merged per function (five layers), its plain values, and the
one-function service left as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from service_example import FUNCTIONS, multi

from pipeline.config.load import load_config
from pipeline.config.merged import ServiceFunction
from pipeline.config.values import FunctionSettings, HttpRequest, Route
from pipeline.infra import naming

REPO = Path(__file__).resolve().parents[2]

@pytest.fixture(autouse=True)
def _no_cache(monkeypatch):
    monkeypatch.setenv("PIPELINE_CACHE_DIR", "off")


def test_the_one_function_service_is_one_function_keyed_empty():
    config = load_config(REPO / "environments")
    for env in config.environments.values():
        assert env.functions == (ServiceFunction("", env.function),)
        assert env.http_functions == ()
        assert env.function.handler == "bootstrap" and env.function.routes == () and env.function.schedule is None
        assert env.function.reserved_concurrency is None
        assert all(case.function is None and case.http is None for case in env.smoke)
        name = naming.function_name(config, env)
        assert naming.service_function_name(config, env, "") == name == f"greeter-{env.name}"


def test_the_multi_function_example_loads(envdir):
    multi(envdir)
    config = load_config(envdir)
    dev, prod = config.env("dev"), config.env("prod")
    assert [f.key for f in dev.functions] == ["api", "worker"]  # pipeline.yml's order
    api, worker = (f.settings for f in dev.functions)
    assert api.handler == "api" and api.memory == 512 and api.timeout == 10 and api.reserved_concurrency == 5
    assert api.environment == {"LOG_LEVEL": "debug"}
    assert api.routes == (Route("GET", "/health"), Route("GET", "/version"), Route("GET", "/hello/{name}"))
    assert [s.actions for s in api.policy_statements] == [["dynamodb:GetItem"]]
    assert worker.handler == "worker" and worker.schedule == "rate(1 minute)" and worker.routes == ()
    assert worker.memory == 128 and worker.environment == {"LOG_LEVEL": "debug"}  # dev's function: defaults
    assert dev.function == api  # the first function's settings, for code that reads one function
    assert [f.key for f in dev.http_functions] == ["api"]
    assert prod.service_function("worker").settings.memory == 256  # prod.yml's function: memory
    assert prod.service_function("api").settings.memory == 256
    assert [(c.name, c.function) for c in dev.smoke] == [("health", "api"), ("hello", "api"), ("tick", "worker")]
    assert dev.smoke[1].http == HttpRequest("GET", "/hello/bob?x=1", {"accept": "application/json"}, None)
    assert [(c.name, c.function) for c in prod.smoke] == [("health", "api"), ("version", "api")]  # the http one
    assert naming.service_function_name(config, dev, "worker") == "greeter-dev-worker"


def test_the_multi_function_example_validates_cleanly(envdir, capsys):
    from pipeline.cli import main

    multi(envdir)
    assert main(["validate"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "valid (greeter" in captured.out


LEVELS = {  # where memory is set -> (pipeline.yml, dev.yml) text of `function:`/`functions.api` lines
    "built-in": ("", "", "", ""),
    "pipeline function": ("  memory: 1024\n", "", "", ""),
    "pipeline functions.api": ("  memory: 1024\n", "    memory: 2048\n", "", ""),
    "env function": ("  memory: 1024\n", "    memory: 2048\n", "  memory: 3072\n", ""),
    "env functions.api": ("  memory: 1024\n", "    memory: 2048\n", "  memory: 3072\n", "    memory: 4096\n"),
}
WINNER = {"built-in": 128, "pipeline function": 1024, "pipeline functions.api": 2048, "env function": 3072,
          "env functions.api": 4096}


@pytest.mark.parametrize("level", list(LEVELS))
def test_each_level_wins_over_the_one_before(envdir, level):
    top_function, top_api, env_function, env_api = LEVELS[level]
    (envdir / "pipeline.yml").write_text(
        'name: greeter\nregion: us-east-1\ntooling: {account: "444444444444"}\norder: [dev]\n'
        f"function:\n  timeout: 10\n{top_function}"
        f"functions:\n  api:\n    handler: api\n{top_api}    http: [GET /health]\n  worker:\n    handler: worker\n")
    (envdir / "dev.yml").write_text(f'account: "111111111111"\nfunction:\n  timeout: 10\n{env_function}'
                                    f"functions:\n  api:\n    timeout: 10\n{env_api}")
    for name in ("test.yml", "prod.yml", "sandbox.yml"):
        (envdir / name).unlink()
    dev = load_config(envdir).env("dev")
    assert dev.service_function("api").settings.memory == WINNER[level]
    # worker never has functions.worker.memory: it follows function: (pipeline.yml, then the env's)
    expected_worker = WINNER["env function" if env_function else "pipeline function" if top_function else "built-in"]
    assert dev.service_function("worker").settings.memory == expected_worker


def test_maps_merge_per_key_and_lists_replace_across_the_levels(envdir):
    multi(envdir, dev='account: "111111111111"\nfunction:\n  environment: {A: env}\n'
                      'functions:\n  api:\n    environment: {B: env-api}\n    http: [GET /only]\n'
                      "smoke:\n  - {name: health, http: {method: GET, path: /only}}\n")
    pipeline = envdir / "pipeline.yml"
    pipeline.write_text(pipeline.read_text().replace("  log_retention_days: 14\n",
                                                     "  log_retention_days: 14\n  environment: {A: top, C: top}\n"))
    api = load_config(envdir).env("dev").service_function("api").settings
    assert api.environment == {"A": "env", "B": "env-api", "C": "top", "LOG_LEVEL": "info"}
    assert api.routes == (Route("GET", "/only"),)


def test_reserved_concurrency_zero_is_kept(envdir):
    multi(envdir, functions=FUNCTIONS.replace("reserved_concurrency: 5", "reserved_concurrency: 0"))
    assert load_config(envdir).env("dev").service_function("api").settings.reserved_concurrency == 0


def test_environment_built_without_functions_still_has_its_one_function():
    from pipeline.config.merged import Environment
    from pipeline.config.values import Gates, Strategy

    env = Environment(name="dev", targets=(), deploy_role="d", external_id=None, protect=False, timezone="UTC",
                      gates=Gates(), strategy=Strategy(), smoke=(), function=FunctionSettings(memory=512),
                      wave_size=5, promoters=())
    assert env.functions == (ServiceFunction("", FunctionSettings(memory=512)),)
    assert env.service_function("").settings.memory == 512
    with pytest.raises(KeyError):
        env.service_function("api")


def test_a_multi_function_config_is_cached_and_read_back_without_pydantic(envdir, tmp_path, monkeypatch):
    import os
    import subprocess
    import sys

    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    multi(envdir)
    first = load_config("environments")
    assert len(list((tmp_path / "cache").glob("config-*.pickle"))) == 1
    code = ("import sys\nfrom pipeline.config.load import load_config\nd = load_config('environments').env('dev')\n"
            "print([f.key for f in d.functions], d.smoke[0].http.path, d.functions[0].settings.routes[2].key, "
            "'pydantic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True,
                         env={**os.environ, "PIPELINE_CACHE_DIR": str(tmp_path / "cache")})
    assert out.stdout.strip() == "['api', 'worker'] /health GET /hello/{name} False"
    assert load_config("environments") == first


def test_the_cache_key_covers_every_config_module_validation_reads():
    from pipeline.config import cache

    here = Path(cache.__file__).parent
    assert all((here / name).is_file() for name in cache._RULES)
    for module in ("functions.py", "function_fields.py", "routes.py", "schedule.py", "service_checks.py",
                   "smoke_fields.py", "../infra/naming.py"):
        assert module in cache._RULES


def test_replacing_the_one_functions_settings_replaces_its_service_function():
    import dataclasses

    dev = load_config(REPO / "environments").env("dev")
    bigger = dataclasses.replace(dev, function=dataclasses.replace(dev.function, memory=512))
    assert bigger.functions == (ServiceFunction("", bigger.function),) and bigger.function.memory == 512
