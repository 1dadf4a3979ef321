"""Usage errors (commands/usage.py): did-you-mean for verbs and flags, the verb's own help, JSON documents."""

from __future__ import annotations

import json

import pytest

from pipeline.cli import main
from pipeline.commands.usage import FLAG_SYNONYMS, VERB_SYNONYMS, nearest, output_format


def _usage(capsys, *argv: str) -> str:
    capsys.readouterr()
    assert main(list(argv)) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1, captured
    return captured.err


def test_nearest_spelling_or_synonym():
    verbs = ["validate", "promote", "rollback", "status", "demo"]
    assert nearest("promte", verbs) == "promote"
    assert nearest("deploy", verbs, VERB_SYNONYMS) == "promote"  # difflib alone says demo
    assert nearest("frobnicate", verbs) is None
    assert nearest("--env", ["--to", "--region", "--reason"], FLAG_SYNONYMS) == "--to"
    assert nearest("--env", ["--region", "--reason", "--env-file"], FLAG_SYNONYMS) == "--env-file"


def test_output_format_is_read_without_a_parse():
    assert output_format(["--output", "json", "promte"]) == "json"
    assert output_format(["promote", "--output=json", "--too", "dev"]) == "json"
    assert output_format(["--output", "yaml"]) == "text" and output_format([]) == "text"


def test_a_mistyped_verb_gets_the_nearest_verb_not_all_of_them(capsys):
    err = _usage(capsys, "promte", "--to", "dev")
    assert err == "pipeline: error: unknown command 'promte' (did you mean 'promote'?) (see `pipeline --help`)\n"
    err = _usage(capsys, "frobnicate")
    assert "unknown command 'frobnicate' (commands: validate, build, stage," in err  # nothing near: the list


@pytest.mark.parametrize(("argv", "line"), [
    (["promote", "--to", "dev", "--aprove"],
     "unrecognized option: --aprove (did you mean --approve?) (see `pipeline promote --help`)"),
    # the typo is named, not only the --to it then lacked
    (["promote", "--too", "dev"], "unrecognized option: --too (did you mean --to?) (see `pipeline promote --help`)"),
    (["promote", "--env", "dev"], "unrecognized option: --env (did you mean --to?) (see `pipeline promote --help`)"),
    (["rollback", "--env", "dev", "--artfact", "abcdef0"],
     "unrecognized option: --artfact (did you mean --artifact?) (see `pipeline rollback --help`)"),
    (["sandbox", "up", "--usr", "me"],
     "unrecognized option: --usr (did you mean --user?) (see `pipeline sandbox up --help`)"),
    (["status", "dev"], "unexpected argument: dev (did you mean --env dev?) (see `pipeline status --help`)"),
    # a synonym means what that verb calls it
    (["status", "--environment", "dev"],
     "unrecognized option: --environment (did you mean --env?) (see `pipeline status --help`)"),
    (["--output", "jsn", "status"], "argument --output: invalid choice: 'jsn' (did you mean 'json'?) "
                                    "(see `pipeline --help`)"),
    (["promote"], "the following arguments are required: --to (see `pipeline promote --help`)"),
])
def test_a_mistyped_flag_names_itself_the_nearest_flag_of_that_verb_and_its_help(capsys, argv, line):
    assert _usage(capsys, *argv) == f"pipeline: error: {line}\n"


@pytest.mark.parametrize("argv", [["--output", "json", "promte"], ["promote", "--too", "dev", "--output", "json"],
                                  ["--output", "json", "promote", "--to", "dev", "--aprove"], ["--output", "json"]])
def test_usage_errors_under_output_json_are_one_document(capsys, argv):
    capsys.readouterr()
    assert main(argv) == 2
    captured = capsys.readouterr()
    doc = json.loads(captured.out)  # exactly one document: json.loads refuses trailing text
    assert doc["ok"] is False and doc["exit_code"] == 2 and "see `pipeline" in doc["error"]
    assert doc["command"] == ("promote" if "promote" in argv else None)
    assert captured.err.count("\n") == 1
