"""check_handlers against a served list, the listing's parsing, and asking a binary that may not answer."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from pipeline.artifact.handlers import accepted, ask_binary, check_handlers, parse_listing
from pipeline.errors import EXIT_USAGE, InputError

WHERE = "environments/pipeline.yml:12 functions.worker.handler"


@pytest.mark.parametrize(
    ("served", "wanted"),
    [
        (("api", "worker"), {"api": ("api", "a"), "worker": ("worker", "b")}),
        (("api", "worker"), {"function": ("bootstrap", "a")}),  # today's Handler: the alias of api
        (("api",), {}),
        (None, {"function": ("anything", "a")}),  # the binary did not answer: nothing to check
        ((), {}),
    ],
)
def test_served_handlers_pass(served, wanted):
    check_handlers(served, wanted)


def test_unserved_handler_is_one_line_naming_where_and_what_is_served():
    with pytest.raises(InputError) as exc:
        check_handlers(["worker", "api"], {"api": ("api", "a"), "billing": ("billing", WHERE)})
    assert str(exc.value) == f"{WHERE}: handler 'billing' is not served by the binary (it serves: api, worker)"
    assert exc.value.exit_code == EXIT_USAGE


@pytest.mark.parametrize(
    ("served", "handler", "shown"),
    [
        (["worker"], "bootstrap", "worker"),  # the alias needs api served
        (["api", "worker"], "Api", "api, worker"),  # case-sensitive, as Lambda's _HANDLER is
        (["api", "worker"], "", "api, worker"),
        ([], "api", "nothing"),
    ],
)
def test_refused(served, handler, shown):
    with pytest.raises(InputError) as exc:
        check_handlers(served, {"f": (handler, "w")})
    assert str(exc.value) == f"w: handler {handler!r} is not served by the binary (it serves: {shown})"


def test_several_problems_first_in_message_all_in_details():
    wanted = {"a": ("x", "p.yml:1 functions.a.handler"), "b": ("api", "p.yml:2"), "c": ("y", "p.yml:3")}
    with pytest.raises(InputError) as exc:
        check_handlers(["api"], wanted)
    assert str(exc.value) == ("p.yml:1 functions.a.handler: handler 'x' is not served by the binary "
                              "(it serves: api) (and 1 more)")
    assert exc.value.details == [
        "p.yml:1 functions.a.handler: handler 'x' is not served by the binary (it serves: api)",
        "p.yml:3: handler 'y' is not served by the binary (it serves: api)",
    ]


def test_accepted_adds_aliases_of_served_names_only():
    assert accepted(["api", "worker"]) == {"api", "worker", "bootstrap"}
    assert accepted(["worker"]) == {"worker"}


@pytest.mark.parametrize(
    ("stdout", "expected"),
    [
        ('{"handlers":["api","worker"]}\n', ("api", "worker")),
        ('{"handlers":["worker","api","api"]}', ("api", "worker")),
        ('{"handlers":[]}', ()),
        ("", None),
        ("not json", None),
        ('["api"]', None),
        ('{"names":["api"]}', None),
        ('{"handlers":"api"}', None),
        ('{"handlers":["api", 3]}', None),
        ('{"handlers":["two words"]}', None),
        ('{"handlers":[""]}', None),
    ],
)
def test_parse_listing(stdout, expected):
    assert parse_listing(stdout) == expected


def script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "bootstrap"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # answers only when asked, and sees no Runtime API or credentials of the build's environment
        ('[ "$PIPELINE_HANDLERS" = list ] && [ -z "$AWS_LAMBDA_RUNTIME_API$AWS_SECRET_ACCESS_KEY" ] '
         '&& echo \'{"handlers":["worker","api"]}\'', ("api", "worker")),
        ('echo \'{"handlers":["api"]}\'; exit 1', None),  # an answer with a failing exit is no answer
        ("echo 'expected AWS Lambda environment variables' >&2; exit 1", None),  # a module without the mode
        ("echo hello", None),
        ("exec sleep 30", None),  # never answers: killed at the timeout
    ],
)
def test_ask_binary(tmp_path, monkeypatch, body, expected):
    monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    assert ask_binary(script(tmp_path, body), timeout=1.0) == expected


def test_ask_binary_that_cannot_run(tmp_path):
    path = tmp_path / "bootstrap"
    path.write_bytes(b"\x7fELF not really")
    path.chmod(0o755)
    assert ask_binary(path) is None
    assert ask_binary(tmp_path / "missing") is None
