"""The board's pure model and page: escaping, one mark per record, every flag in words and colour."""

from __future__ import annotations

import datetime as dt
import re

from pipeline.core import board as B
from pipeline.core.board_html import points, render
from pipeline.core.ledger import Record, new_record

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.timezone.utc)
ACTOR = "arn:aws:sts::444444444444:assumed-role/pipeline-promoter/alice"
HOSTILE = "<script>alert(1)</script>"


def chain(n: int, *, commit: str = "abc") -> list[Record]:
    """n records: started/outcome pairs of promotions, each outcome 2.5 s after its start."""
    records: list[Record] = []
    for i in range(n):
        prev = records[-1] if records else None
        if i % 2 == 0:
            fields = {"type": "started", "action": "promote", "artifact": "a" * 64, "actor": ACTOR, "commit": commit}
            records.append(new_record("dev", prev, fields, T0 + dt.timedelta(minutes=i)))
        else:
            fields = {"type": "outcome", "action": "promote", "artifact": "a" * 64, "actor": ACTOR, "commit": commit,
                      "outcome": "PASSED" if i % 4 == 1 else "ROLLED_BACK", "started_seq": i - 1,
                      "approval": {"approver": "arn:aws:iam::444444444444:user/bob", "reason": "ok"},
                      "smoke": [{"name": HOSTILE, "passed": True}]}
            records.append(new_record("dev", prev, fields, T0 + dt.timedelta(minutes=i - 1, seconds=2.5)))
    return records


def status(**over) -> dict:
    base = {"env": "dev", "account": "111111111111", "region": "us-east-1", "function": "api", "artifact": "b" * 64,
            "version": "7", "commit": HOSTILE, "when": "2026-12-01T09:00:00+00:00", "who": ACTOR,
            "smoke": [{"name": HOSTILE, "passed": True}, {"name": "health", "passed": False, "reason": "status 500"}],
            "ledger_artifact": "b" * 64, "dirty": False, "canary": None, "findings": []}
    return {**base, **over}


def board(cells: list[B.Cell], marks: list[B.Mark], verdict: B.Verdict | None = None) -> B.Board:
    env = B.EnvBoard("dev", tuple(cells), {"kind": "ready", "text": f"ready for dev: {HOSTILE}", "detail": None,
                                          "gates": [{"name": "freeze", "passed": False, "reason": HOSTILE}]},
                     "ok", None, tuple(marks), len(marks), verdict or B.verdict([], [], "all"))
    return B.Board("greeter", "2026-12-01T09:00:00+00:00", (env,), ("dev",))


def test_names_with_html_in_them_are_escaped_never_tags():
    page = render(board([B.cell(status(), "ok")], B.marks(chain(4, commit=HOSTILE))))
    assert HOSTILE not in page and "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;: passed" in page  # the smoke case, as text
    assert "&lt;script&gt;a" in page  # the commit (cut to 12 characters as every table cuts it)


def test_one_mark_per_record_with_its_duration_actor_and_approver():
    records = chain(6)
    marks = B.marks(records)
    assert [m.seq for m in marks] == [0, 1, 2, 3, 4, 5] and len(points(tuple(marks))) == 6
    page = render(board([], marks))
    svg = re.search(r"<svg class=\"timeline\".*?</svg>", page, re.S).group(0)
    assert svg.count('<g class="mark') == 6 and svg.count("<title>") == 6
    outcome = marks[1]
    assert outcome.seconds == 2.5 and outcome.actor == "pipeline-promoter/alice" and outcome.approver == "bob"
    assert "took 2.5s" in outcome.title and "approved by bob" in outcome.title
    table = re.search(r'<table class="records".*?</table>', page, re.S).group(0)
    assert table.count("<tr class=\"tone-") == 6  # the table under the chart: the same records
    assert B.marks([]) == [] and "no records yet" in render(board([], []))


def test_every_flag_is_words_and_a_tone():
    ok = B.cell(status(), "ok")
    drift = B.cell(status(findings=[{"kind": "drift", "message": "runs v9", "fix": "pipeline rollback"}]), "DRIFT")
    canary = B.cell(status(canary={"split": "live: 90% v6, 10% v7"}), "canary running")
    empty = B.cell(status(artifact=None, ledger_artifact=None, version=None, when=None), "ok")
    denied = B.failed_cell("dev", "111111111111/us-east-1", "api", "GetAlias: AccessDenied: no")
    assert (ok.state, ok.tone, ok.smoke) == ("ok", "ok", "1/2 passed")
    assert (drift.state, drift.tone) == ("DRIFT", "bad") and "fix: pipeline rollback" in drift.findings[0]
    assert (canary.tone, canary.canary) == ("warn", "live: 90% v6, 10% v7")
    assert (empty.state, empty.tone) == ("no release yet", "idle")
    assert (denied.state, denied.tone) == ("cannot read", "error")
    page = render(board([ok, drift, canary, empty, denied], []))
    for c in (ok, drift, canary, empty, denied):  # the colour class and the words, in the same cell
        assert re.search(rf'class="cell tone-{c.tone}".*?<span class="state">{re.escape(c.state)}</span>', page, re.S)
    assert "AccessDenied: no" in page and "health: FAILED (status 500)" in page
    # the timeline's marks: shape as well as colour
    shapes = {m.tone: p.shape for m, p in ((p.mark, p) for p in points(tuple(B.marks(chain(4)))))}
    assert shapes == {"idle": "dot", "ok": "circle", "bad": "square"}


def test_a_tampered_record_shows_as_stored_never_filled_in():
    records = chain(4)
    edited = Record(records[2].key, b"not json", {})
    marks = B.marks([*records[:2], edited, records[3]], suspect=[edited.key])
    assert marks[2].kind == "unreadable" and marks[2].tampered and marks[2].artifact is None and marks[2].tone == "bad"
    verdict = B.verdict([f"{edited.key}: not a JSON record"], ["dev: drift"], "all 4 records")
    assert verdict.state == "TAMPERED" and verdict.problems[0].startswith(edited.key)
    page = render(board([], marks, verdict))
    assert "TAMPERED" in page and "fails verification" in page and "FAILS VERIFICATION" in page


def test_the_progress_of_a_running_promotion():
    records = chain(1)
    lock = {"targets": [{"account": "1", "region": "us-east-1"}, {"account": "1", "region": "eu-west-1"}]}
    done = new_record("dev", records[0], {"type": "outcome", "target": {"account": "1", "region": "us-east-1"},
                                          "outcome": "PASSED", "started_seq": 0}, T0)
    now = T0 + dt.timedelta(seconds=30)
    step = B.progress(lock, [done], [], now)
    assert step["waiting_for"] == ["1/eu-west-1"] and step["done"] == ["1/us-east-1 PASSED"]
    assert step["step"] == "deploying and smoke testing 1/eu-west-1" and step["in_flight"] == [done.key]
    assert B.progress(lock, [], ["1/us-east-1 api live: 90% v1, 10% v2"], now)["step"].startswith("baking the canary")
