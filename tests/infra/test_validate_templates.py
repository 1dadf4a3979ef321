"""`pipeline validate` renders every template offline and reports template errors with exit 2."""

from __future__ import annotations

import json
import shutil

from pipeline.cli import main
from pipeline.infra import render


def test_validate_reports_rendered_templates(envdir, capsys):
    assert main(["validate"]) == 0
    out = capsys.readouterr().out
    assert "templates: 8 rendered" in out


def test_validate_json_lists_templates_and_versions(envdir, capsys):
    assert main(["validate", "--output", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [t["stack"] for t in doc["templates"]][:4] == ["greeter-tooling", "greeter-pipeline",
                                                          "greeter-dev-target", "greeter-dev-function"]
    assert all(len(t["version"]) == 16 for t in doc["templates"])


def test_validate_template_error_exits_2_with_one_line(envdir, tmp_path, monkeypatch, capsys):
    templates = tmp_path / "templates"
    shutil.copytree(render.TEMPLATES_DIR, templates)
    path = templates / "function.yml.j2"
    path.write_text(path.read_text().replace("{{ timeout }}", "{{ timeuot }}"))
    monkeypatch.setattr(render, "TEMPLATES_DIR", templates)
    assert main(["validate"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("pipeline: error: templates/function.yml.j2:")
    assert err[0].endswith("undefined variable 'timeuot'")
