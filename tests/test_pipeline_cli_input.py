"""`pipeline pipeline ...` refuses bad input with one line and exit 2 before any AWS call (nowhere to send one),
and packs only a clean git work tree."""

from __future__ import annotations

import pytest

from pipeline.cli import main


@pytest.mark.parametrize("argv, line", [
    (["approve", "--stage", "staging"], "--stage staging: no such env (pipeline.yml order: dev, test, prod)"),
    (["approve", "--stage", "prod", "--artifact", "abc"], "--artifact: 'abc' is too short: give at least 7 hex"),
    (["approve", "--stage", "prod", "--artifact", "xyz1234"], "--artifact: expected a sha256 or a prefix of one"),
    (["run", "--source", "nowhere.zip"], "--source nowhere.zip: no such file"),
])
def test_bad_input_is_exit_2_with_one_line_and_no_call(argv, line, envdir, no_real_aws, capsys):
    assert main(["pipeline", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and line in err, err


def test_the_source_is_a_clean_git_work_tree(tmp_path):
    """Outside a work tree, or with anything uncommitted, `run` would upload what no approval env accepts."""
    import subprocess

    from pipeline.artifact.source_zip import pack_source, work_tree
    from pipeline.errors import InputError

    with pytest.raises(InputError, match="not in a git work tree"):
        work_tree(tmp_path)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "untracked.txt").write_text("x")
    with pytest.raises(InputError, match=r"uncommitted changes \(\?\? untracked.txt\)"):
        pack_source(tmp_path)
