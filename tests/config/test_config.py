"""Config layering, typed results and the published JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.config.load import load_config
from pipeline.config.merge import deep_merge
from pipeline.config.schema import render_schema

REPO = Path(__file__).resolve().parents[2]


def test_merge_rule_maps_merge_lists_and_scalars_replace():
    base = {"function": {"memory": 128, "timeout": 10}, "smoke": [{"name": "a"}, {"name": "b"}], "protect": False}
    override = {"function": {"memory": 256}, "smoke": [{"name": "c"}], "protect": True}
    assert deep_merge(base, override) == {
        "function": {"memory": 256, "timeout": 10}, "smoke": [{"name": "c"}], "protect": True}
    assert base["function"] == {"memory": 128, "timeout": 10}, "inputs are not mutated"


def test_repo_environments_load_with_defaults_applied():
    config = load_config(REPO / "environments")
    assert config.order == ("dev", "test", "prod")
    dev, prod = config.env("dev"), config.env("prod")
    assert dev.account == "111111111111" and dev.region == "us-east-1"
    assert dev.function.memory == 128 and prod.function.memory == 256  # env map key overrides pipeline default
    assert prod.function.timeout == 10  # ...and the other keys of the map survive
    assert dev.function.environment == {"LOG_LEVEL": "debug"}
    assert [c.name for c in dev.smoke] == ["health", "version"]  # list inherited from defaults
    assert prod.gates.requires == "test" and prod.gates.approval and prod.protect
    assert prod.strategy.canary is not None and prod.strategy.canary.percent == 10
    assert dev.timezone == "Europe/Berlin"  # pipeline-level timezone inherited
    assert config.tooling.account == "444444444444" and config.tooling.role == "pipeline-promoter"
    assert config.artifact_bucket == "greeter-artifacts-444444444444-us-east-1"


def test_env_list_replaces_default_list(envdir):
    (envdir / "dev.yml").write_text('account: "111111111111"\nsmoke:\n  - {name: only, path: /health}\n')
    config = load_config(envdir)
    assert [c.name for c in config.env("dev").smoke] == ["only"]
    assert [c.name for c in config.env("test").smoke] == ["health", "version"]


def test_targets_give_a_wave(envdir):
    (envdir / "dev.yml").write_text(
        'targets:\n  - {account: "111111111111"}\n  - {account: "111111111111", region: eu-west-1}\nwave_size: 2\n')
    env = load_config(envdir).env("dev")
    assert [(t.account, t.region) for t in env.targets] == [("111111111111", "us-east-1"),
                                                            ("111111111111", "eu-west-1")]


def test_published_schema_is_current():
    on_disk = (REPO / "environments" / "schema.json").read_text()
    assert on_disk == render_schema(), "environments/schema.json is stale: regenerate it (see README)"


def test_schema_describes_the_files():
    schema = json.loads((REPO / "environments" / "schema.json").read_text())
    env = schema["$defs"]["EnvironmentFile"]
    assert env["additionalProperties"] is False
    assert {"account", "gates", "smoke", "function", "strategy"} <= set(env["properties"])
    assert schema["$defs"]["PipelineFile"]["required"] == ["name", "region", "tooling", "order"]


def test_every_yaml_file_references_the_schema():
    for path in (REPO / "environments").glob("*.yml"):
        assert path.read_text().startswith("# yaml-language-server: $schema=schema.json"), path
