"""Least privilege for a multi-function service, measured as test_least_privilege.py measures the one-function
stacks: the example service (tests/config/service_example.py) is bootstrapped into dev with the emulator's
decision log on, then a lost `live` alias is made again and a route added; every statement only a service
renders must be used by one of these scenarios or carry `# unused-ok:`. Then, by mutation (as
test_policy_mutation.py does), each such used statement is removed from the live policy and its scenario must
fail with an AccessDenied of one of its actions."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import World
from helpers import REPO, client
from mutation import Live, removed

from pipeline.config.load import load_config
from pipeline.infra.render import render_all
from pipeline.local.iamreport import count_uses, grants_of, read_logs, report

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "config"))
from service_example import multi

pytestmark = pytest.mark.emulator
DEV = "111111111111"


def _bootstrap(world: World) -> None:
    world.ok("bootstrap", "--env", "dev")


def _alias_lost(world: World) -> None:
    """Someone deleted the api's `live` alias: bootstrap publishes the stub's version and makes it again."""
    client("lambda", DEV).delete_alias(FunctionName="greeter-dev-api", Name="live")
    world.ok("bootstrap", "--env", "dev")
    assert client("lambda", DEV).get_alias(FunctionName="greeter-dev-api", Name="live")["FunctionVersion"] == "1"


def _route_added(world: World) -> None:
    """A route more: only the front door changes, through the deploy role (the target stack stays as it is)."""
    pipeline = world.envdir / "pipeline.yml"
    pipeline.write_text(pipeline.read_text().replace("      - GET /version\n", "      - GET /version\n"
                                                                             "      - POST /hello\n"))
    code, doc = world.json("bootstrap", "--env", "dev")
    assert code == 0, doc
    assert {s["stack"]: s["action"] for s in doc["stacks"]}["greeter-dev-frontdoor"] == "updated"


SCENARIOS: dict[str, Callable[[World], None]] = {"service-bootstrap": _bootstrap, "alias-lost": _alias_lost,
                                                 "route-added": _route_added}


def _service_only(config) -> list:
    """The grants a service renders that the one-function stacks do not (by template statement)."""
    one = {g.key for r in render_all(load_config(REPO / "environments")) for g in grants_of(r)}
    return [(g, r) for r in render_all(config) for g in grants_of(r) if g.key not in one]


def _refused(path: Path) -> set[tuple[str, str]]:
    return {(r.get("action", ""), r.get("resource", "")) for r in read_logs([path])
            if not r.get("allowed") and r.get("action")} if path.exists() else set()


def test_a_services_own_grants_are_used_by_its_bootstrap_or_say_why(aws, envdir, capsys, monkeypatch, tmp_path):
    multi(envdir)
    world = World(envdir, capsys)
    world.ok("bootstrap", "--tooling")
    logs: dict[str, Path] = {}
    for name, scenario in SCENARIOS.items():
        logs[name] = tmp_path / f"iam-{name}.jsonl"
        monkeypatch.setenv("PIPELINE_EMULATOR_IAM_LOG", str(logs[name]))
        scenario(world)
    monkeypatch.delenv("PIPELINE_EMULATOR_IAM_LOG")
    config = load_config(envdir)
    data = report(config, list(logs.values()))
    assert data["wildcard_actions"] == []
    own = _service_only(config)
    keys = {g.key for g, _ in own}
    assert any(k[3] == "PublishStubVersion" for k in keys) and any(k[3] == "Schedules" for k in keys), keys
    unused = [f"{u['template']} {u['resource']} {u['document']} {u['statement']}: {u['action']}"
              for u in data["template_unused"] if (u["template"], u["resource"], u["document"], u["statement"]) in keys]
    assert unused == [], "granted to a service, used by no scenario, no `# unused-ok:` reason:\n" + "\n".join(unused)

    # by mutation: each service-only statement a scenario used, removed, fails the scenario that used it
    used = {}
    for name, path in logs.items():
        rows = read_logs([path])
        for grant, rendered in own:
            grant.uses.clear()
            count_uses([grant], rows)
            if sum(grant.uses.values()) and name != "service-bootstrap":
                used.setdefault(grant.key, (name, []))[1].append(Live(grant, rendered))
    assert {k[3] for k in used} == {"PublishStubVersion"}, used
    for key, (name, lives) in used.items():
        monkeypatch.setenv("PIPELINE_EMULATOR_IAM_LOG", str(tmp_path / "mutated.jsonl"))
        with removed(lives):
            if name == "alias-lost":
                client("lambda", DEV).delete_alias(FunctionName="greeter-dev-api", Name="live")
            code, _, err = world.cli("bootstrap", "--env", "dev")
        monkeypatch.delenv("PIPELINE_EMULATOR_IAM_LOG")
        denied = {a for a, _ in _refused(tmp_path / "mutated.jsonl")}
        assert code == 1 and set(lives[0].grant.actions) & denied, (key, code, err, denied)
        world.ok("bootstrap", "--env", "dev")  # every statement back: the alias is made again
