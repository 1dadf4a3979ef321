"""`pipeline board` through the real CLI on the emulator: the matrix, the path's gates, the timeline, the
verdict, the JSON document, a denied read per cell, an env never bootstrapped, escaping, `--serve`."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest
from helpers import BUCKET, promoter

from pipeline.cli import main

HOSTILE = "<script>alert('smoke')</script>"


def _board(world, *args: str) -> tuple[dict, str]:
    code, doc = world.json("board", "--out", "dist/board.html", *args)
    assert code == 0, doc
    html = (world.envdir.parent / "dist" / "board.html").read_text()
    return doc, html


def _append_hostile_outcome() -> None:
    """The newest dev outcome once more (a valid, chained record) with a hostile smoke name and commit."""
    from pipeline.core.ledger import Record, new_record

    s3 = promoter("s3")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="ledger/dev/")["Contents"])
    tip = Record.parse(keys[-1], s3.get_object(Bucket=BUCKET, Key=keys[-1])["Body"].read())
    fields = {k: v for k, v in tip.data.items() if k not in ("seq", "prev", "time", "env")}
    fields["smoke"] = [*fields["smoke"], {**fields["smoke"][0], "name": HOSTILE}]
    fields["commit"] = "<script>commit</script>"
    record = new_record("dev", tip, fields, tip.time)
    s3.put_object(Bucket=BUCKET, Key=record.key, Body=record.raw, IfNoneMatch="*")


def _env(doc: dict, name: str) -> dict:
    return next(e for e in doc["environments"] if e["name"] == name)


@pytest.mark.bootstrapped("dev", "test")
def test_board_after_a_promotion(world, built):
    digest = world.stage(built)
    world.ok("promote", "--to", "dev")
    _append_hostile_outcome()  # config refuses such names: a record written by another tool can still hold them
    doc, html = _board(world)
    assert doc["command"] == "board" and doc["ok"] and doc["path"] == ["dev", "test", "prod"]
    dev, test, prod = (_env(doc, n) for n in ("dev", "test", "prod"))
    [cell] = dev["cells"]
    assert cell["sha12"] == digest[:12] and cell["version"] == world.live("dev", "111111111111")["Version"]
    assert cell["state"] == "ok" and cell["tone"] == "ok" and cell["smoke"] == "3/3 passed"
    assert test["next"]["kind"] == "ready" and test["cells"][0]["state"] == "no release yet"
    assert prod["next"]["kind"] == "not bootstrapped" and prod["cells"][0]["state"] == "not bootstrapped"
    # one mark per record, in the SVG and in the table under it; each mark has its hover text
    assert [m["kind"] for m in dev["marks"]] == ["started", "outcome", "outcome"] and dev["records"] == 3
    svg = re.search(r'<svg class="timeline" data-env="dev".*?</svg>', html, re.S).group(0)
    assert svg.count('<g class="mark') == 3 and svg.count("<title>") == 3
    assert "took " in dev["marks"][1]["title"] and dev["marks"][1]["actor"].startswith("pipeline-promoter")
    assert dev["verdict"]["state"] == "ok" and test["verdict"]["state"] == "ok"
    # hostile names are text: escaped in the page, never a tag
    assert HOSTILE not in html and "&lt;script&gt;alert(&#39;smoke&#39;)&lt;/script&gt;: passed" in html
    assert "&lt;script&gt;c" in html  # the commit, cut to 12 characters as every table cuts it
    assert "<script" not in html.lower()
    # self-contained: nothing loaded from anywhere
    assert not re.search(r'(src|href)="(https?:)?//', html) and "@import" not in html


@pytest.mark.bootstrapped("dev", "test")
def test_board_shows_a_blocked_gate_and_a_tampered_chain(world, built):
    world.stage(built)
    world.ok("promote", "--to", "dev")
    world.edit("test.yml", """\
        account: "222222222222"
        gates: {requires: dev, freeze: ["Mon 00:00-Thu 00:00", "Thu 00:00-Mon 00:00"]}
        """)
    doc, html = _board(world)
    test = _env(doc, "test")
    assert test["next"]["kind"] == "blocked" and "freeze" in test["next"]["text"]
    [gate] = [g for g in test["next"]["gates"] if not g["passed"]]
    assert gate["name"] == "freeze" and gate["reason"] in html
    # tamper: edit the newest dev record in place; the board says so and shows the record as stored
    s3 = promoter("s3")
    key = "ledger/dev/00000001.json"
    body = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    body["outcome"] = "PASSED "
    s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(body).encode())
    doc, html = _board(world)
    dev = _env(doc, "dev")
    assert dev["verdict"]["state"] == "TAMPERED" and any(key in p for p in dev["verdict"]["problems"])
    assert dev["marks"][1]["tampered"] and dev["marks"][1]["outcome"] == "PASSED "
    assert "TAMPERED" in html and "fails verification" in html


@pytest.mark.bootstrapped("dev", "test")
def test_a_denied_read_is_shown_in_its_cell(world, built):
    """dev's account denies its deploy role the Lambda reads (an explicit Deny, enforced by the emulator's IAM):
    dev's cell says AccessDenied and why; the ledger, the timeline and test are still drawn."""
    from helpers import client

    world.stage(built)
    world.ok("promote", "--to", "dev")
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": ["lambda:GetAlias",
                                                                              "lambda:GetFunctionConfiguration",
                                                                              "lambda:GetFunction"],
                                                     "Resource": "*"}]}
    client("iam", "111111111111").put_role_policy(RoleName="pipeline-deploy", PolicyName="no-reads",
                                                  PolicyDocument=json.dumps(deny))
    doc, html = _board(world)
    dev, test = _env(doc, "dev"), _env(doc, "test")
    [cell] = dev["cells"]
    assert cell["tone"] == "error" and cell["state"] == "cannot read" and "AccessDenied" in cell["error"], cell
    assert "AccessDenied" in html and len(dev["marks"]) == 2 and dev["verdict"]["state"] == "ok"
    assert test["cells"][0]["state"] == "no release yet" and test["next"]["kind"] == "ready"


def _hold_the_lock(env: str) -> str:
    """A promotion at work in `env`: a started record (after the newest) whose holder is this live process."""
    import datetime as dt
    import os
    import socket

    from pipeline.core.ledger import Record, new_record

    s3 = promoter("s3")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"ledger/{env}/")["Contents"])
    records = [Record.parse(k, s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()) for k in keys]
    started = next(r for r in reversed(records) if r.type == "started")
    now = dt.datetime.now(dt.timezone.utc)
    fields = {k: v for k, v in started.data.items() if k not in ("seq", "prev", "time", "env")}
    fields["holder"] = {**fields["holder"], "host": socket.gethostname(), "pid": os.getpid(), "run": "board-test"}
    fields["lease_expires"] = (now + dt.timedelta(minutes=10)).isoformat()
    record = new_record(env, records[-1], fields, now)
    s3.put_object(Bucket=BUCKET, Key=record.key, Body=record.raw, IfNoneMatch="*")
    return record.key


@pytest.mark.bootstrapped("dev")
def test_the_cli_serves_the_board_and_follows_a_running_promotion(world, built):
    """`pipeline board --serve --port 0` as a process: the page on 127.0.0.1, reloading every 2 s while the lock
    is held by a live holder, naming the step it is at; Ctrl-C (SIGINT) stops it, exit 0."""
    import os
    import signal
    import subprocess
    import sys

    world.stage(built)
    world.ok("promote", "--to", "dev")
    key = _hold_the_lock("dev")
    server = subprocess.Popen([sys.executable, "-m", "pipeline", "--config-dir", str(world.envdir), "board",
                               "--serve", "--port", "0", "--refresh", "5"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        line = server.stdout.readline()
        url = re.search(r"serving (http://127\.0\.0\.1:\d+/)", line)
        assert url, line + server.stderr.read() if server.poll() is not None else line
        with urllib.request.urlopen(url.group(1), timeout=30) as answer:
            page = answer.read().decode()
        assert '<meta http-equiv="refresh" content="2">' in page and "a promotion is running" in page
        assert "now: deploying and smoke testing 111111111111/us-east-1" in page and "lock held by" in page
        with urllib.request.urlopen(url.group(1) + "board.json", timeout=30) as answer:
            doc = json.loads(answer.read())
        dev = next(e for e in doc["environments"] if e["name"] == "dev")
        assert doc["running"] and dev["lock"]["key"] == key and dev["lock"]["progress"]["in_flight"] == []
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0


@pytest.mark.bootstrapped("dev")
def test_serve_answers_the_page(world, built):
    from pipeline.commands.context import Context
    from pipeline.core.board_html import render
    from pipeline.engine.board import observe
    from pipeline.engine.board_serve import BoardServer

    world.stage(built)
    world.ok("promote", "--to", "dev")
    import argparse
    ctx = Context(argparse.Namespace(output="text", command="board", config_dir=str(world.envdir), profile=None,
                                     region=None))
    server = BoardServer(lambda: render(observe(ctx.engine, ctx.config().select(None)), refresh_seconds=3),
                         0).start()
    try:
        with urllib.request.urlopen(server.url, timeout=10) as answer:
            page = answer.read().decode()
            assert answer.status == 200 and answer.headers["Content-Type"].startswith("text/html")
        assert '<meta http-equiv="refresh" content="3">' in page and 'data-env="dev"' in page
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(server.url + "nothing", timeout=10)
    finally:
        server.stop()
    assert server.errors == []
    assert main is not None


def test_no_tooling_stack_the_page_says_why_and_exit_1(aws, envdir, capsys):
    code = main(["board", "--out", "dist/board.html"])
    err = capsys.readouterr().err
    assert code == 1 and "nothing could be read" in err and "bootstrap --tooling" in err
    page = (envdir.parent / "dist" / "board.html").read_text()
    assert page.count("cannot read") >= 3 and "bootstrap --tooling" in page
