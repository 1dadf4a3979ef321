"""Config errors in a person's words: no raw regex, and the first problem said once."""

from __future__ import annotations

from pipeline.cli import main
from pipeline.config.schema import build_schema
from pipeline.config.wording import pattern_words


def _patterns(node) -> set[str]:
    if isinstance(node, dict):
        found = {node["pattern"]} if isinstance(node.get("pattern"), str) else set()
        return found.union(*(_patterns(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_patterns(v) for v in node))
    return set()


def test_every_pattern_of_the_file_models_has_words():
    patterns = _patterns(build_schema())
    assert len(patterns) > 10
    assert [p for p in sorted(patterns) if not pattern_words(p)] == []


def test_a_bad_freeze_window_and_region_read_as_written_each_said_once(envdir, capsys, monkeypatch):
    monkeypatch.setenv("PIPELINE_CACHE_DIR", "off")
    (envdir / "dev.yml").write_text('account: "111111111111"\nregion: "us-east-1; x"\n'
                                    'gates: {freeze: ["Fri 3pm-Mon 08:00"]}\n')
    assert main(["validate"]) == 2
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert lines[0] == ("pipeline: error: environments/dev.yml:2: region: 'us-east-1; x' is not an AWS region name "
                        "(like us-east-1) (and 1 more)")
    assert lines[1:] == ["  environments/dev.yml:3: gates.freeze[0]: 'Fri 3pm-Mon 08:00' is not a freeze window "
                         'like "Fri 15:00-Mon 08:00" (DAY HH:MM-DAY HH:MM, 24-hour clock, days Mon Tue Wed Thu Fri '
                         "Sat Sun, in the env's timezone)"]
    assert "[01]" not in err and "^" not in err  # no regex
