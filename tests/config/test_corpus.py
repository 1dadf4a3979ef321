"""The broken-config corpus: every file under corpus/ must fail `pipeline validate` with exit 2 and
the exact `file:line: key` it names on its first line (`# expect: ...`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.cli import main

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(CORPUS.glob("*.yml"))


def test_corpus_is_large_enough():
    assert len(CASES) >= 20


def _expectation(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: "), path
    return first.removeprefix("# expect: ")


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_broken_config_is_rejected(case: Path, envdir: Path, capsys, no_real_aws):
    target = case.name.split("--", 1)[0]
    (envdir / target).write_bytes(case.read_bytes())
    code = main(["validate"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert _expectation(case) in err, err
    assert "Traceback" not in err


def _validate_err(capsys) -> tuple[int, str]:
    code = main(["validate"])
    return code, capsys.readouterr().err


def test_non_utf8_bytes(envdir, capsys):
    (envdir / "dev.yml").write_bytes(b'account: "111111111111"\nname: caf\xe9\n')
    code, err = _validate_err(capsys)
    assert code == 2
    assert "environments/dev.yml:2: not valid UTF-8 (byte 0xe9" in err


def test_ten_megabyte_file(envdir, capsys):
    (envdir / "dev.yml").write_bytes(b"# padding\n" * 1_048_576)
    code, err = _validate_err(capsys)
    assert code == 2
    assert "environments/dev.yml:1: file is too large (10.5 MB" in err


def test_deep_nesting(envdir, capsys):
    (envdir / "dev.yml").write_text('account: "111111111111"\nx: ' + "[" * 60 + "]" * 60 + "\n")
    code, err = _validate_err(capsys)
    assert code == 2
    assert "environments/dev.yml:2: x" in err and "nested deeper than 40 levels" in err


def test_missing_env_file_for_order(envdir, capsys):
    (envdir / "test.yml").unlink()
    code, err = _validate_err(capsys)
    assert code == 2
    assert "environments/pipeline.yml:" in err and "order[1]: no environment file environments/test.yml" in err


def test_missing_pipeline_file(envdir, capsys):
    (envdir / "pipeline.yml").unlink()
    code, err = _validate_err(capsys)
    assert code == 2
    assert "environments/pipeline.yml:1: file not found" in err


def test_missing_directory(tmp_path, monkeypatch, capsys):
    (tmp_path / ".git").mkdir()  # the search upwards stops at the repository's root
    monkeypatch.chdir(tmp_path)
    code, err = _validate_err(capsys)
    assert code == 2
    assert err.strip().splitlines() == [
        "pipeline: error: environments: environments directory not found here or above (expected pipeline.yml and "
        "one <env>.yml per stage): run from the repository or pass --config-dir DIR"]


def test_unreadable_file(envdir, capsys):
    import os

    if os.geteuid() == 0:
        # root reads anything; simulate an unreadable file by making it a directory instead
        (envdir / "dev.yml").unlink()
        (envdir / "dev.yml").mkdir()
        code, err = _validate_err(capsys)
        assert code == 2 and "environments/dev.yml:1: is a directory" in err
    else:
        (envdir / "dev.yml").chmod(0)
        code, err = _validate_err(capsys)
        assert code == 2 and "environments/dev.yml:1: cannot read file" in err


def test_every_problem_is_reported_once_each(envdir, capsys):
    (envdir / "dev.yml").write_text('account: 111111111111\nfunction: {memory: 1}\n')
    (envdir / "prod.yml").write_text('account: "333333333333"\nprotekt: true\n')
    code, err = _validate_err(capsys)
    assert code == 2
    first, *rest = err.splitlines()
    assert first.startswith("pipeline: error: ") and first.endswith(" (and 2 more)")
    lines = [first.removeprefix("pipeline: error: ")] + [ln.strip() for ln in rest]
    assert len(rest) == 2  # the first problem is said once, on the error line
    assert any(ln.startswith("environments/dev.yml:1: account: must be a 12-digit string") for ln in lines)
    assert any(ln.startswith("environments/dev.yml:2: function.memory:") for ln in lines)
    assert any(ln.startswith("environments/prod.yml:2: protekt: unknown key (did you mean 'protect'?)") for ln in lines)


def test_the_environments_are_found_from_a_subdirectory_of_the_repository(envdir, monkeypatch, capsys):
    root = envdir.parent
    (root / ".git").mkdir()
    deeper = root / "go-function" / "internal"
    deeper.mkdir(parents=True)
    monkeypatch.chdir(deeper)
    capsys.readouterr()
    assert main(["--output", "json", "validate"]) == 0
    assert Path(json.loads(capsys.readouterr().out)["directory"]).resolve() == envdir.resolve()
    # not past the repository's root: a checkout inside another one does not borrow its files
    inner = deeper / "other-checkout"
    (inner / ".git").mkdir(parents=True)
    monkeypatch.chdir(inner)
    code, err = _validate_err(capsys)
    assert code == 2 and "pass --config-dir DIR" in err


def test_go_dir_in_pipeline_yml_names_the_module_build_compiles(envdir, capsys, monkeypatch):
    from pipeline.config.load import load_config

    monkeypatch.setenv("PIPELINE_CACHE_DIR", "off")
    assert load_config(envdir).go_module() == envdir.resolve().parent / "go-function"  # the default
    pipeline_yml = envdir / "pipeline.yml"
    pipeline_yml.write_text(pipeline_yml.read_text() + "go_dir: services/greeter\n")
    assert load_config(envdir).go_module() == envdir.resolve().parent / "services" / "greeter"
    capsys.readouterr()
    assert main(["build", "--skip-tests"]) == 2  # not there: the configured path is named, nothing is built
    assert f"{envdir.resolve().parent / 'services' / 'greeter'}: no go.mod (not a Go module)" in capsys.readouterr().err
