"""`pipeline promote` against the emulator: the invariants, the call budget, the gates."""

from __future__ import annotations

import base64
import json

from helpers import client


def b64(sha_hex: str) -> str:
    return base64.b64encode(bytes.fromhex(sha_hex)).decode()


def test_first_promotion_switches_runtime_deploys_and_records(world, built):
    digest = world.stage(built)
    code, doc = world.json("promote", "--to", "dev")
    assert code == 0, doc
    live = world.live("dev", "111111111111")
    # invariant 1: the bytes built once are the bytes that run
    assert live["CodeSha256"] == b64(digest)
    assert live["Runtime"] == "provided.al2023" and live["Handler"] == "bootstrap"
    started, outcome = world.ledger("dev")
    assert started["type"] == "started" and started["artifact"] == digest and started["seq"] == 0
    assert outcome["type"] == "outcome" and outcome["outcome"] == "PASSED" and outcome["closes"] is True
    assert outcome["version"] == live["Version"] and outcome["previous_version"] is None
    assert outcome["actor"].startswith("arn:aws:sts::444444444444:assumed-role/pipeline-promoter/")
    assert [s["name"] for s in outcome["smoke"]] == ["health", "version"]
    assert all(s["passed"] for s in outcome["smoke"])
    # the function's answers are JSON in the ledger and the document, not strings of JSON
    assert outcome["smoke"][1]["response"]["body"]["environment"] == "dev"
    assert doc["targets"][0]["smoke"][1]["response"]["body"]["version"] == "1.0.0-test"
    assert {g["name"] for g in outcome["gates"]} == {"predecessor", "approval", "clean", "freeze", "alarms",
                                                     "integrity", "lock"}
    # the real Go binary answered: /version reports the environment it runs in
    resp = client("lambda", "111111111111").invoke(
        FunctionName="greeter-dev", Qualifier="live",
        Payload=b'{"rawPath": "/version", "requestContext": {"http": {"method": "GET"}}}')
    body = json.loads(json.loads(resp["Payload"].read())["body"])
    assert body["environment"] == "dev" and body["version"] == "1.0.0-test"


def test_code_only_promotion_call_budget_and_noop(world, built, built2, calls):
    world.stage(built)
    world.ok("promote", "--to", "dev")
    digest2 = world.stage(built2)
    calls.clear()
    # the code-only path as CI runs it (`--artifact $ARTIFACT_SHA`); resolving a default artifact
    # is a separate read (a LIST, plus manifest GETs when two were staged in the same second)
    code, _, err = world.cli("promote", "--to", "dev", "--artifact", digest2)
    assert code == 0, err
    smoke_cases = 2
    # budget: <= 12 calls plus one per smoke case, STS, gates, lock and ledger included
    assert len(calls.calls) <= 12 + smoke_cases, calls.calls
    lam = [op for svc, op in calls.calls if svc == "lambda"]
    assert lam.count("UpdateFunctionCode") == 1 and lam.count("UpdateAlias") == 1 and lam.count("Invoke") == 2
    assert world.live("dev", "111111111111")["CodeSha256"] == b64(digest2)

    calls.clear()
    code, out, err = world.cli("promote", "--to", "dev", "--artifact", digest2)
    assert code == 0 and "already live and passed smoke: nothing to do" in out
    # invariant 6: 2 AssumeRole (tooling, deploy) + ledger LIST + GET + live alias; no write
    assert calls.writes == [] and len(calls.calls) <= 5, calls.calls
    calls.clear()
    code, out, err = world.cli("promote", "--to", "dev")  # default artifact: one LIST of staged artifacts more
    assert code == 0 and "nothing to do" in out and calls.writes == []


def test_predecessor_gate_and_promotion_chain(world, built, built2, calls):
    world.stage(built)
    digest2 = world.stage(built2)
    world.ok("promote", "--to", "dev", "--artifact", built[1].sha256)
    calls.clear()
    code, _, err = world.cli("promote", "--to", "test", "--artifact", digest2)
    assert code == 3  # invariant 2
    assert f"predecessor: {digest2[:12]} has no passed smoke record in dev" in err
    assert calls.writes == []
    # without --artifact, test gets what passed in dev
    code, doc = world.json("promote", "--to", "test")
    assert code == 0 and doc["artifact"] == built[1].sha256


def test_failed_smoke_rolls_back_and_blocks_the_next_stage(world, built, crash_artifact):
    good = world.stage(built)
    world.ok("promote", "--to", "dev")
    bad = world.stage(crash_artifact)
    code, out, err = world.cli("promote", "--to", "dev", "--artifact", bad)
    assert code == 1
    assert "ROLLED_BACK" in out and "failed" in err
    # invariant 3: the alias is back on the good version before the command exits
    live = world.live("dev", "111111111111")
    assert live["CodeSha256"] == b64(good) and live["Version"] == "1"
    outcome = world.ledger("dev")[-1]
    assert outcome["outcome"] == "ROLLED_BACK" and outcome["artifact"] == bad
    assert "smoke 'health'" in outcome["reason"] and not outcome["smoke"][0]["passed"]
    assert outcome["smoke"][0]["response"]  # the function's answer is kept
    code, _, err = world.cli("promote", "--to", "test", "--artifact", bad)
    assert code == 3 and "no passed smoke record in dev" in err


def test_smoke_timeout_rolls_back(world, built, hang_artifact):
    world.edit("dev.yml", """\
        account: "111111111111"
        function: {timeout: 1}
        """)
    world.bootstrap("dev")
    world.stage(built)
    world.ok("promote", "--to", "dev")
    bad = world.stage(hang_artifact)
    code, _, _ = world.cli("promote", "--to", "dev", "--artifact", bad)
    assert code == 1
    outcome = world.ledger("dev")[-1]
    assert outcome["outcome"] == "ROLLED_BACK" and "timed out" in outcome["reason"].lower()


def test_bad_input_exits_2_without_aws_calls(world, calls):
    calls.clear()
    code, _, err = world.cli("promote", "--to", "staging")
    assert code == 2 and "unknown environment 'staging'" in err
    code, _, err = world.cli("promote", "--to", "dev", "--artifact", "abc")
    assert code == 2 and "'abc' is too short" in err
    code, _, err = world.cli("promote", "--to", "dev", "--artifact", "abcdefg-1")
    assert code == 2 and "expected a sha256 or a prefix of one" in err
    code, _, err = world.cli("promote", "--to", "dev", "--reason", "because")
    assert code == 2 and "--reason goes with --approve" in err
    assert calls.calls == []  # all four are refused before any AWS call


def test_artifact_not_staged_is_refused_by_integrity(world, calls):
    calls.clear()
    code, _, err = world.cli("promote", "--to", "dev", "--artifact", "ab" * 32)
    assert code == 3 and "integrity: abababababab is not staged" in err
    assert calls.writes == []


def test_codesha_mismatch_fails_and_keeps_the_alias(world, built, built2, monkeypatch):
    """AWS answering a different CodeSha256 than the artifact's: exit 1, alias untouched."""
    from pipeline.aws import session as session_module

    good = world.stage(built)
    world.ok("promote", "--to", "dev")
    world.stage(built2)

    def lie(parsed, model, **_):
        if model.name == "UpdateFunctionCode":
            parsed["CodeSha256"] = b64("00" * 32)

    original = session_module.SessionFactory.__init__

    def patched(self, *a, **kw):
        kw["event_hooks"] = [*(kw.get("event_hooks") or []), ("after-call.lambda", lie)]
        original(self, *a, **kw)

    monkeypatch.setattr(session_module.SessionFactory, "__init__", patched)
    code, _, err = world.cli("promote", "--to", "dev", "--artifact", built2[1].sha256)
    assert code == 1 and "CodeSha256" in err
    assert world.live("dev", "111111111111")["CodeSha256"] == b64(good)
    assert world.ledger("dev")[-1]["outcome"] == "FAILED"


def test_throttling_on_every_third_call_still_completes(world, built, monkeypatch):
    from botocore.exceptions import ClientError

    from pipeline.aws import retry
    from pipeline.aws import session as session_module

    world.stage(built)
    counter = {"n": 0, "throttled": 0}

    def throttle(model, **_):
        counter["n"] += 1
        if counter["n"] % 3 == 0:
            counter["throttled"] += 1
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
                               "ResponseMetadata": {"HTTPStatusCode": 400}}, model.name)

    original = session_module.SessionFactory.__init__

    def patched(self, *a, **kw):
        kw["event_hooks"] = [*(kw.get("event_hooks") or []), ("before-call", throttle)]
        kw["retry"] = retry.RetryPolicy(attempts=5, base_delay=0.001, max_delay=0.01)
        original(self, *a, **kw)

    monkeypatch.setattr(session_module.SessionFactory, "__init__", patched)
    code, _, err = world.cli("promote", "--to", "dev")
    assert code == 0, err
    assert counter["throttled"] >= 4
    assert world.ledger("dev")[-1]["outcome"] == "PASSED"


def test_first_stage_default_is_the_newest_release_never_the_stub(world, built):
    from pipeline.infra.stub import stub_sha256

    digest = world.stage(built)
    world.bootstrap("dev")  # the stub is (re)checked after the release was staged
    code, doc = world.json("promote", "--to", "dev", "--dry-run")
    assert code == 0, doc
    assert doc["artifact"] == digest != stub_sha256()


def test_dry_run_prints_gates_and_plan_and_writes_nothing(world, built, calls):
    world.stage(built)
    calls.clear()
    code, doc = world.json("promote", "--to", "dev", "--dry-run")
    assert code == 0 and doc["dry_run"] is True
    assert [s["kind"] for s in doc["plan"]] == ["switch-runtime", "deploy-code", "verify-code", "alias", "smoke",
                                                "prune", "record"]
    assert all(g["passed"] for g in doc["gates"])
    assert calls.writes == []
    assert world.ledger("dev") == []


def test_newest_staged_wins_even_within_the_same_second(world, built, built2):
    """S3's LastModified has one-second resolution; staging order still decides the first stage's default."""
    for first, second in ((built, built2), (built2, built)):
        world.stage(first)
        digest = world.stage(second)
        code, doc = world.json("promote", "--to", "dev", "--dry-run")
        assert code == 0 and doc["artifact"] == digest, doc
        s3 = client("s3", "444444444444")  # the tooling admin clears staged artifacts (the promoter cannot)
        for artifact in (first, second):  # the next round stages them again in the other order
            for suffix in ("zip", "json"):
                s3.delete_object(Bucket="greeter-artifacts-444444444444-us-east-1",
                                 Key=f"artifacts/greeter/{artifact[1].sha256}.{suffix}")
