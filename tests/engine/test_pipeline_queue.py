"""The product's own CodePipeline on the emulator with more than one execution, through `pipeline pipeline ...`:
two uploads in quick succession (the second execution queues, then promotes its own sha); an action killed
mid-promotion (its CodeBuild build stopped: the next execution reconciles the lock it left). Four whole
executions, ~2 minutes: in `make proof`."""

from __future__ import annotations

import time

import pytest
from helpers import TOOLING, client
from pipeline_world import MAIN_GO, commit, pipeline_json, rows

from pipeline.artifact.source_zip import pack_source

pytestmark = [pytest.mark.emulator, pytest.mark.proof]


def _held_locks(world) -> list:
    code, doc = world.json("status")
    assert code == 0, doc
    return doc["locks"]


def test_two_uploads_queue_and_each_execution_promotes_its_own_sha(operated, tmp_path_factory):
    w = operated
    root, tmp_path = w.envdir.parent, tmp_path_factory.mktemp("zips")
    first = tmp_path / "first.zip"
    first.write_bytes(pack_source(root))
    commit(root, MAIN_GO, (root / MAIN_GO).read_text() + "\n// the second release\n", "second release")
    second = tmp_path / "second.zip"
    second.write_bytes(pack_source(root))
    code, one, err = pipeline_json(w, "run", "--source", str(first), "--no-follow")
    assert code == 0, err
    code, two, err = pipeline_json(w, "run", "--source", str(second), "--no-follow")
    assert code == 0, err
    assert one["execution"] != two["execution"]
    code, one, err = pipeline_json(w, "show", "--execution", one["execution"], "--until-approval", "--timeout", "600")
    assert code == 0 and one["waiting_for"]["action"] == "Approve-prod", err
    code, queued, _ = pipeline_json(w, "show", "--execution", two["execution"])
    assert queued["actions"] == []  # QUEUED: it waits while the first holds the pipeline
    w.ok("pipeline", "approve", "--stage", "prod", "--reject", "--execution", one["execution"])
    code, two, err = pipeline_json(w, "show", "--execution", two["execution"], "--until-approval", "--timeout", "600")
    assert code == 0 and two["waiting_for"]["action"] == "Approve-prod", err
    sha = {doc["execution"]: rows(doc)["Build/Build"]["detail"].split("ARTIFACT_SHA=")[1][:12] for doc in (one, two)}
    assert sha[one["execution"]] != sha[two["execution"]]
    dev = [r for r in w.ledger("dev") if r["type"] == "outcome"]
    assert [r["artifact"][:12] for r in dev] == [sha[one["execution"]], sha[two["execution"]]]


def test_an_action_killed_mid_promotion_leaves_a_lock_the_next_execution_reconciles(operated, built):
    w = operated
    w.stage(built)
    w.ok("promote", "--to", "dev")  # a version to canary against
    # a canary in dev with a bake: the promotion holds dev's lock for seconds, long enough to be killed in it
    commit(w.envdir.parent, "environments/dev.yml", (w.envdir / "dev.yml").read_text()
           + "strategy: {canary: {percent: 10, bake_seconds: 5}}\n", "dev bakes its canary")
    code, doc, err = pipeline_json(w, "run", "--no-follow")
    assert code == 0, err
    execution = doc["execution"]
    deadline, records = time.monotonic() + 300, len(w.ledger("dev"))
    while len(w.ledger("dev")) == records:  # until Promote-dev's started record: it holds dev's lock now
        assert time.monotonic() < deadline, "Promote-dev never started promoting"
        time.sleep(0.05)
    code, running, _ = pipeline_json(w, "show", "--execution", execution)
    build_id = rows(running)["Deploy-dev/Promote-dev"]["detail"].split(";")[0]
    client("codebuild", TOOLING).stop_build(id=build_id)  # the promote process is killed where it is
    code, _, err = pipeline_json(w, "show", "--execution", execution, "--follow", "--timeout", "120")
    assert code == 1 and "Failed at Deploy-dev/Promote-dev" in err, err
    if w.ledger("dev")[-1]["type"] == "outcome":
        pytest.fail("the promotion finished before it was killed: the test needs a slower promote")
    [held] = _held_locks(w)
    assert "has ended" in (held["dead"] or "")  # its CodeBuild build ended: dead at once, no lease to wait out
    code, _, err = pipeline_json(w, "run", "--start", "--until-approval", "--timeout", "600")
    assert code == 0, err
    dev = [r for r in w.ledger("dev") if r["type"] == "outcome"]
    assert [r["outcome"] for r in dev] == ["PASSED", "ABORTED", "PASSED"]
    assert _held_locks(w) == []
