"""The product's own CodePipeline on the emulator when things go wrong, each through `pipeline pipeline ...`:
a buildspec command that fails (the smoke tests of a broken release in dev: the execution fails at that
action, later stages never run, the lock is released, the ledger tells it); a CodeBuild role missing a
permission (the Build fails with the AccessDenied line in its log). More executions at once:
test_pipeline_queue.py."""

from __future__ import annotations

import json

import pytest
from helpers import TOOLING, client
from pipeline_world import commit, pipeline_json, rows

pytestmark = pytest.mark.emulator
API_GO = "go-function/api.go"
HEALTHY = 'map[string]string{"status": "ok"}'


def _held_locks(world) -> list:
    code, doc = world.json("status")
    assert code == 0, doc
    return doc["locks"]


def test_a_failing_promote_command_fails_the_execution_there_and_releases_the_lock(operated):
    w = operated
    root = w.envdir.parent
    # builds fine (no tests in this pipeline's Build), answers /health with the wrong status: the smoke case fails
    commit(root, API_GO, (root / API_GO).read_text().replace(HEALTHY, HEALTHY.replace("ok", "degraded")),
           "a release whose health check fails")
    code, doc, err = pipeline_json(w, "run", "--timeout", "600")
    assert code == 1 and "Failed at Deploy-dev/Promote-dev" in err, err
    actions = rows(doc)
    assert actions["Build/Build"]["status"] == "Succeeded"
    assert actions["Deploy-dev/Promote-dev"]["status"] == "Failed"
    assert not [k for k in actions if k.startswith(("Deploy-test", "Deploy-prod"))]  # later stages never ran
    dev = w.ledger("dev")
    assert [r["type"] for r in dev] == ["started", "outcome"] and dev[-1]["outcome"] == "ROLLED_BACK"
    assert dev[-1]["build_id"] == actions["Deploy-dev/Promote-dev"]["detail"].split(";")[0]
    assert w.ledger("test") == [] and _held_locks(w) == []


def test_a_codebuild_role_missing_a_permission_fails_the_build_with_access_denied_in_its_log(operated):
    w = operated
    iam = client("iam", TOOLING)
    policy = iam.get_role_policy(RoleName="greeter-codebuild", PolicyName="codebuild")["PolicyDocument"]
    policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") != "PromoteAs"]
    iam.put_role_policy(RoleName="greeter-codebuild", PolicyName="codebuild", PolicyDocument=json.dumps(policy))
    code, doc, err = pipeline_json(w, "run", "--timeout", "600")
    assert code == 1 and "Failed at Build/Build" in err, err
    build_id = rows(doc)["Build/Build"]["detail"].split(";")[0]
    build = client("codebuild", TOOLING).batch_get_builds(ids=[build_id])["builds"][0]
    assert build["buildStatus"] == "FAILED"
    events = client("logs", TOOLING).get_log_events(logGroupName=build["logs"]["groupName"],
                                                    logStreamName=build["logs"]["streamName"])["events"]
    log = "\n".join(e["message"] for e in events)
    assert "greeter-codebuild" in log and "is not authorized to perform: sts:AssumeRole" in log, log[-3000:]
    assert w.ledger("dev") == []
