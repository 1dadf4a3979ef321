"""Every command the product suggests in a message (a backticked `pipeline ...`) is one the parser accepts.

Messages are read from the source (string literals and f-strings, docstrings aside, placeholders filled
with a word), so a new hint that names a wrong verb, a missing flag or a flag that does not exist fails
here. Doctor's hints are also run for real (tests/infra_engine/test_doctor.py).
"""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path

import pytest

from pipeline.cli import COMMANDS, build_parser
from pipeline.commands.usage import UsageError

ROOT = Path(__file__).resolve().parents[1] / "pipeline"
COMMAND = re.compile(r"`(pipeline [^`]+)`")
# a synopsis, not a command: metavariables, alternatives, optional parts
SYNOPSIS = re.compile(r"<|\||\[|\.\.\.|(?<![\w-])(E|ENV|SHA|DIR|N|Q|R|FILE|ZIP|TEXT)(?![\w-])")
# the verb named in prose, not a command to paste (the stub's source is part of its digest: left as is)
REFERENCES = {("pipeline/infra/stub.py", "pipeline bootstrap"), ("pipeline/config/files.py", "pipeline bootstrap")}


def suggested() -> list[tuple[str, str]]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        tree = ast.parse(path.read_text())
        skip = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
        skip |= {id(n.body[0].value) for n in ast.walk(tree)
                 if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef)) and n.body
                 and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
                text = node.value
            elif isinstance(node, ast.JoinedStr):
                text = "".join(str(v.value) if isinstance(v, ast.Constant) else "word" for v in node.values)
            else:
                continue
            where = str(path.relative_to(ROOT.parent))
            found += [(f"{where}:{node.lineno}", c) for c in COMMAND.findall(text)
                      if not SYNOPSIS.search(c) and (where, c) not in REFERENCES]
    return found


SUGGESTED = suggested()


def test_the_scan_finds_the_hints():
    commands = {c for _, c in SUGGESTED}
    assert {"pipeline bootstrap --tooling", "pipeline verify", "pipeline local up", "pipeline promote --to word",
            "pipeline unlock --env word --force", "pipeline sandbox up"} <= commands, sorted(commands)


@pytest.mark.parametrize(("where", "command"), SUGGESTED, ids=[f"{w} {c}" for w, c in SUGGESTED])
def test_a_suggested_command_parses(where, command, capsys):
    argv = shlex.split(command)[1:]
    try:
        build_parser(only=argv[0] if argv[0] in COMMANDS else "").parse_args(argv)
    except UsageError as exc:
        raise AssertionError(f"{where}: `{command}` does not parse: {exc.message}") from None
    except SystemExit as exc:  # `pipeline --help`: prints the help and exits 0
        assert exc.code == 0, f"{where}: `{command}` exits {exc.code}"
