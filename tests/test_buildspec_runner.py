"""`pipeline buildspec run` without AWS: phase order, carried state, failures named, CodeBuild's transitions."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from helpers import REPO

from pipeline.cli import main
from pipeline.core.buildspec import block_script, parse_buildspec, short
from pipeline.errors import InputError


def _spec(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "buildspec.yml"
    path.write_text(textwrap.dedent(text))
    return path


def _run(capsys, path: Path, *args: str) -> tuple[int, dict, str]:
    capsys.readouterr()
    code = main(["--output", "json", "buildspec", "run", "--file", str(path), *args])
    out = capsys.readouterr()
    return code, json.loads(out.out), out.err


FOUR_PHASES = """\
    version: 0.2
    env:
      variables: {GREETING: hello, PIPELINE_ACTION: build}
      exported-variables: [RESULT, WHERE]
    phases:
      install:
        commands: [echo install-ran >> trail]
      pre_build:
        commands:
          - export RESULT=$GREETING-$CODEBUILD_BUILD_NUMBER
          - PLAIN=carried
          - mkdir -p sub && cd sub
      build:
        commands:
          - echo "build $RESULT $PLAIN $(basename $PWD) $CODEBUILD_SRC_DIR" >> ../trail
          - WHERE=$(basename $PWD)
      post_build:
        commands:
          - echo "post $CODEBUILD_BUILD_SUCCEEDING" >> ../trail
    """


def test_phases_run_in_order_sharing_exports_plain_variables_and_directory(tmp_path, capsys):
    path = _spec(tmp_path, FOUR_PHASES)
    code, doc, err = _run(capsys, path, "--skip-phase", "install", "--build-number", "7", "--export-file",
                          str(tmp_path / "out.json"))
    assert code == 0, err
    assert [(p["phase"], p["status"]) for p in doc["phases"]] == [
        ("install", "SKIPPED"), ("pre_build", "SUCCEEDED"), ("build", "SUCCEEDED"), ("post_build", "SUCCEEDED")]
    assert (tmp_path / "trail").read_text().splitlines() == [f"build hello-7 carried sub {tmp_path}", "post 1"]
    assert doc["exported"] == {"RESULT": "hello-7", "WHERE": "sub"}
    assert json.loads((tmp_path / "out.json").read_text()) == {"RESULT": "hello-7", "WHERE": "sub"}
    assert doc["build_id"].startswith("local:") and "[Container] Running command mkdir -p sub && cd sub" in err


def test_env_file_and_env_override_buildspec_variables(tmp_path, capsys):
    path = _spec(tmp_path, """\
        version: 0.2
        env:
          variables: {A: spec, B: spec, C: spec}
          exported-variables: [SEEN]
        phases:
          build:
            commands: ['export SEEN="$A $B $C $CODEBUILD_BUILD_ID"']
        """)
    (tmp_path / "in.json").write_text(json.dumps({"B": "file", "C": "file"}))
    code, doc, err = _run(capsys, path, "--env-file", str(tmp_path / "in.json"), "--env", "C=flag",
                          "--env", "CODEBUILD_BUILD_ID=mine", "--project", "greeter-pipeline")
    assert code == 0, err
    # CODEBUILD_* are CodeBuild's: not overridable, as in CodeBuild
    assert doc["exported"] == {"SEEN": f"spec file flag {doc['build_id']}"}
    assert doc["build_id"].startswith("greeter-pipeline:")


def test_a_failing_build_command_is_named_post_build_still_runs_and_nothing_is_exported(tmp_path, capsys):
    path = _spec(tmp_path, """\
        version: 0.2
        env: {exported-variables: [X]}
        phases:
          pre_build:
            commands: [export X=1]
          build:
            commands:
              - echo one >> trail
              - ls /no/such/dir
              - echo never >> trail
            finally:
              - echo "finally $?" >> trail
          post_build:
            commands: ['echo "post $CODEBUILD_BUILD_SUCCEEDING" >> trail']
        """)
    code, doc, err = _run(capsys, path, "--export-file", str(tmp_path / "out.json"))
    assert code == 1
    assert doc["error"] == f"{path}: phase build failed: command 2 `ls /no/such/dir` exited 2"
    assert err.strip().splitlines()[-1] == f"pipeline: error: {doc['error']}"
    assert doc["failure"] == {"phase": "build", "block": "commands", "index": 1, "command": "ls /no/such/dir",
                              "exit_code": 2}
    assert (tmp_path / "trail").read_text().splitlines() == ["one", "finally 0", "post 0"]
    assert [p["status"] for p in doc["phases"]] == ["SUCCEEDED", "FAILED", "SUCCEEDED"]
    assert doc["exported"] == {} and not (tmp_path / "out.json").exists()
    assert any("No such file or directory" in line for line in doc["tail"])


def test_install_failure_stops_everything_unless_on_failure_continue(tmp_path, capsys):
    text = """\
        version: 0.2
        phases:
          install:
            {on_failure}commands: ['echo "multi-line"; exit 4']
          build:
            commands: [touch built]
          post_build:
            commands: [touch posted]
        """
    path = _spec(tmp_path, text.replace("{on_failure}", ""))
    code, doc, _ = _run(capsys, path)
    assert code == 1 and [p["status"] for p in doc["phases"]] == ["FAILED", "NOT_RUN", "NOT_RUN"]
    assert not (tmp_path / "built").exists() and not (tmp_path / "posted").exists()
    path = _spec(tmp_path, text.replace("{on_failure}", "on-failure: CONTINUE\n            "))
    code, doc, _ = _run(capsys, path)
    # the build goes on, but it is still a failed build
    assert code == 1 and [p["status"] for p in doc["phases"]] == ["FAILED", "SUCCEEDED", "SUCCEEDED"]
    assert (tmp_path / "built").exists() and (tmp_path / "posted").exists()


def test_the_real_buildspec_refuses_an_unknown_action_in_pre_build(tmp_path, capsys):
    code, doc, err = _run(capsys, REPO / "buildspec.yml", "--skip-phase", "install", "--src-dir", str(tmp_path),
                          "--env", "PIPELINE_ACTION=deploy")
    assert code == 1
    assert doc["failure"]["phase"] == "pre_build" and doc["failure"]["index"] == 0 and doc["failure"]["exit_code"] == 2
    assert "PIPELINE_ACTION must be build or promote, not 'deploy'" in err
    code, doc, err = _run(capsys, REPO / "buildspec.yml", "--skip-phase", "install", "--src-dir", str(tmp_path),
                          "--env", "PIPELINE_ACTION=promote", "--env", "PIPELINE_ENV=dev")
    assert code == 1 and doc["failure"]["index"] == 1 and "promote needs PIPELINE_ENV and ARTIFACT_SHA" in err


@pytest.mark.parametrize("text, message", [
    ("version: 0.1\nphases: {build: {commands: [x]}}\n", "version: only buildspec version 0.2 is supported"),
    ("version: 0.2\nphases: {deploy: {commands: [x]}}\n", "phases.deploy: unknown phase"),
    ("version: 0.2\nphases:\n  build:\n    commands:\n      - echo a: b\n", "phases.build.commands[0]: expected a "
     "command string, got dict (a ': ' in a command makes YAML read a mapping: quote the command)"),
    ("version: 0.2\nphases: {build: {on-failure: RETRY, commands: [x]}}\n", "on-failure: 'RETRY' is not supported"),
    ("version: 0.2\nenv: {shell: powershell}\nphases: {build: {commands: [x]}}\n", "env.shell: 'powershell'"),
    ("version: 0.2\nphases: [\n", "not valid YAML"),
])
def test_bad_buildspecs_are_exit_2_before_running_anything(tmp_path, capsys, text, message):
    path = tmp_path / "buildspec.yml"
    path.write_text(text)
    with pytest.raises(InputError) as raised:
        parse_buildspec(text, str(path))
    assert message in raised.value.message
    capsys.readouterr()
    assert main(["buildspec", "run", "--file", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_secrets_must_be_given_locally_and_bad_flags_are_exit_2(tmp_path, capsys):
    path = _spec(tmp_path, """\
        version: 0.2
        env: {parameter-store: {TOKEN: /ci/token}}
        phases: {build: {commands: ['test "$TOKEN" = s3cret']}}
        """)
    assert main(["buildspec", "run", "--file", str(path)]) == 2
    assert "TOKEN comes from Parameter Store / Secrets Manager" in capsys.readouterr().err
    assert main(["buildspec", "run", "--file", str(path), "--env", "TOKEN=s3cret"]) == 0
    assert main(["buildspec", "run", "--file", str(path), "--env", "no-equals"]) == 2
    (tmp_path / "bad.json").write_text("[1]")
    assert main(["buildspec", "run", "--file", str(path), "--env-file", str(tmp_path / "bad.json")]) == 2
    assert "expected a JSON object" in capsys.readouterr().err


def test_block_script_records_each_command_and_stops_at_the_first_failure():
    script = block_script(["a", "b\nc"], start=1)
    assert "printf '%s' 0" not in script and "printf '%s' 1 > \"$__PL_STEP\"" in script
    assert script.rstrip().endswith('printf done > "$__PL_STEP"')
    assert short("if x; then\n  y\nfi") == "if x; then ..." and short("z" * 200).endswith(" ...")
