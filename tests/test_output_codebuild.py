"""In CodeBuild (CODEBUILD_BUILD_ID set) lines for people become one JSON log record per line;
elsewhere text output is unchanged, and `--output json` stays one parseable document on stdout."""

from __future__ import annotations

import io
import json

from pipeline.cli import main
from pipeline.output import Output

BUILD = {"CODEBUILD_BUILD_ID": "greeter-pipeline:0b7e"}


def _streams(fmt: str, environ: dict[str, str]) -> tuple[Output, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Output(fmt, out, err, command="promote", environ=environ), out, err


def test_codebuild_lines_are_json_records_with_time_level_command_message_build_id():
    o, out, err = _streams("text", BUILD)
    o.progress("deploying 13c168cc19c2")
    o.progress("warning: no tag")
    o.text("two\nlines")
    o.table(["gate", "result"], [["approval", "pass"]], title="gates for prod")
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(records) == 4 and err.getvalue() == ""
    assert [r["level"] for r in records] == ["info", "warning", "info", "info"]
    assert all(r["command"] == "promote" and r["build_id"] == "greeter-pipeline:0b7e" for r in records)
    assert records[0]["message"] == "deploying 13c168cc19c2" and records[0]["time"].endswith("Z")
    assert records[2]["message"] == "two\nlines"
    assert records[3]["message"] == "gates for prod"
    assert records[3]["table"] == {"headers": ["gate", "result"], "rows": [["approval", "pass"]]}


def test_outside_codebuild_text_is_unchanged():
    o, out, err = _streams("text", {})
    o.progress("deploying")
    o.text("done")
    o.error("it broke")
    assert out.getvalue() == "deploying\ndone\n" and err.getvalue() == "pipeline: error: it broke\n"


def test_json_output_in_codebuild_keeps_one_document_on_stdout():
    o, out, err = _streams("json", BUILD)
    o.progress("deploying")
    o.text("for people only")
    o.table(["a"], [["b"]])
    o.document("promote", env="prod")
    assert json.loads(out.getvalue()) == {"command": "promote", "ok": True, "env": "prod"}
    (record,) = [json.loads(line) for line in err.getvalue().splitlines()]
    assert record["message"] == "deploying" and record["level"] == "info"


def test_cli_errors_in_codebuild_are_error_records(envdir, capsys, monkeypatch):
    monkeypatch.setenv("CODEBUILD_BUILD_ID", "greeter-pipeline:0b7e")
    assert main(["--output", "json", "promote", "--to", "staging"]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["exit_code"] == 2
    (record,) = [json.loads(line) for line in captured.err.splitlines()]
    assert record["level"] == "error" and record["command"] == "promote"
    assert record["message"].startswith("unknown environment 'staging'")
    assert record["build_id"] == "greeter-pipeline:0b7e"
