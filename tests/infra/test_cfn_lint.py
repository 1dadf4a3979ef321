"""Every rendered template passes cfn-lint (errors; warnings are printed) for the repo config and a variant."""

from __future__ import annotations

import pytest
from cfnlint.api import lint

from pipeline.infra import naming
from pipeline.infra.render import Rendered, render_all


def _errors(rendered: Rendered) -> list[str]:
    matches = lint(rendered.body, regions=[rendered.region])
    for m in matches:
        if not m.rule.id.startswith("E"):
            print(f"{rendered.stack_name}: {m.rule.id} line {m.linenumber}: {m.message}")
    return [f"{rendered.stack_name}: {m.rule.id} line {m.linenumber}: {m.message}"
            for m in matches if m.rule.id.startswith("E")]


@pytest.mark.parametrize("which", ["repo_config", "variant_config"])
def test_every_rendered_template_passes_cfn_lint(which, request):
    config = request.getfixturevalue(which)
    rendered = render_all(config)
    # a replica stack (artifact bucket and key) for every target region but the tooling region
    replicas = {"replica"} if naming.replica_regions(config) else set()
    assert {r.kind for r in rendered} == {"tooling", "pipeline", "target", "function"} | replicas
    assert sorted(r.region for r in rendered if r.kind == "replica") == sorted(naming.replica_regions(config))
    problems = [p for r in rendered for p in _errors(r)]
    assert problems == []


def test_cfn_lint_harness_reports_errors(repo_config):
    """The check above would fail on a broken template (guards against a lint call that sees nothing)."""
    dev = repo_config.env("dev")
    good = next(r for r in render_all(repo_config) if r.kind == "function" and r.env == dev.name)
    broken = Rendered(**{**good.__dict__, "body": good.body.replace("MemorySize: 128", "MemorySize: 64")})
    assert any("64" in p for p in _errors(broken))
