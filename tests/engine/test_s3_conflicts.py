"""`promote` when S3 answers a ledger write 409 ConditionalRequestConflict (a conflicting write in flight)."""

from __future__ import annotations

import json
import urllib.request

from pipeline.local import consistency

BUCKET = "greeter-artifacts-444444444444-us-east-1"


def _control(aws, method: str, body: dict | None = None) -> dict:
    req = urllib.request.Request(f"{aws.endpoint_url}{consistency.CONTROL}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(req, timeout=10, context=aws.ssl_context()) as resp:
        return json.loads(resp.read())


def test_promote_retries_the_conditional_write_and_records_each_step_once(world, built, calls, aws):
    digest = world.stage(built)
    before = world.ledger("dev")
    _control(aws, "POST", {"bucket": BUCKET, "prefix": "ledger/dev/", "count": 2})
    calls.clear()
    code, doc = world.json("promote", "--to", "dev")
    assert code == 0, doc
    assert _control(aws, "GET")["armed"] == []  # both conflicts were met...
    # ...and each answered by writing the same record again, not by taking it as written or as lost
    assert calls.calls.count(("s3", "PutObject")) == 4
    records = world.ledger("dev")[len(before):]
    assert [r["type"] for r in records] == ["started", "outcome"]
    assert records[-1]["outcome"] == "PASSED" and records[-1]["artifact"] == digest
    assert world.live("dev", "111111111111")["CodeSha256"] == built[1].code_sha256
