"""`pipeline demo` end to end, as `make demo` runs it (in its own process, with its own emulator)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from helpers import REPO


def test_demo_promotes_one_artifact_everywhere_and_rolls_back_a_broken_one(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run([sys.executable, "-m", "pipeline", "--output", "json", "demo", "--skip-tests",
                             "--dist", str(tmp_path / "dist")], cwd=REPO, capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    documents = _documents(result.stdout)
    status = next(d for d in documents if d["command"] == "status")
    rows = {row["env"]: row for row in status["environments"]}
    assert set(rows) == {"dev", "test", "prod"}
    # one artifact, one digest, in all three accounts, every smoke test passed against the real binary
    assert len({row["artifact"] for row in rows.values()}) == 1
    assert all(row["outcome"] == "PASSED" and not row["drift"] for row in rows.values())
    assert all(all(s["passed"] for s in row["smoke"]) for row in rows.values())
    # the broken release: rolled back in dev, never reached test
    assert rows["dev"]["last_attempt"]["outcome"] == "ROLLED_BACK"
    assert rows["test"]["last_attempt"] is None
    verify = next(d for d in documents if d["command"] == "verify")
    assert verify["ok"] is True
    # no credential material in any output (the emulator's keys stand in for real ones)
    for secret in ("testing", "FQoGZXIvYXdzE"):
        assert f'"{secret}"' not in result.stdout
    assert "SecretAccessKey" not in result.stdout + result.stderr
    assert "SessionToken" not in result.stdout + result.stderr


def _documents(text: str) -> list[dict]:
    decoder = json.JSONDecoder()
    docs, i = [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        doc, i = decoder.raw_decode(text, i)
        docs.append(doc)
    return docs
