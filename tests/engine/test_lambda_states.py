"""`pipeline promote` under Lambda's asynchronous states: it waits, retries a 409, and reports Failed."""

from __future__ import annotations

import json
import urllib.request

import pytest
from helpers import client

from pipeline.local import timing

DEV = "111111111111"


def _fail(world_aws, **request) -> None:
    req = urllib.request.Request(f"{world_aws.endpoint_url}/_emulator/lambda/fail", method="POST",
                                 data=json.dumps({"account": DEV, "function": "greeter-dev", **request}).encode())
    with urllib.request.urlopen(req, timeout=10, context=world_aws.ssl_context()) as resp:
        resp.read()


def test_promotion_polls_until_the_published_version_is_ready(world, built, built2, calls):
    world.stage(built)
    world.ok("promote", "--to", "dev")
    digest2 = world.stage(built2)
    calls.clear()
    with timing.using(lambda_update_code=0.4):
        code, _, err = world.cli("promote", "--to", "dev", "--artifact", digest2)
    assert code == 0, err
    lam = [op for svc, op in calls.calls if svc == "lambda"]
    # the update answered InProgress: the product polled the new version until Successful, then moved the alias
    polls = lam[lam.index("UpdateFunctionCode") + 1:lam.index("UpdateAlias")]
    assert polls and set(polls) == {"GetFunctionConfiguration"}, lam
    assert len(polls) <= 8, polls  # 50 ms growing by 1.5x over a 0.4 s window: a handful, not dozens
    assert world.live("dev", DEV)["LastUpdateStatus"] == "Successful"


def test_an_update_in_progress_is_waited_out_not_failed(world, built, built2, calls):
    world.stage(built)
    world.ok("promote", "--to", "dev")
    digest2 = world.stage(built2)
    observer = client("lambda", DEV)
    from pipeline.aws import session as session_module

    def someone_else_updates(model, **_):  # just before the product's update: someone else's starts
        if model.name == "UpdateFunctionCode" and not raced:
            raced.append(observer.update_function_configuration(FunctionName="greeter-dev", MemorySize=256))

    raced: list = []
    original = session_module.SessionFactory.__init__

    def patched(self, *a, **kw):
        kw["event_hooks"] = [*(kw.get("event_hooks") or []), ("before-call.lambda", someone_else_updates)]
        original(self, *a, **kw)

    with timing.using(lambda_update_config=0.3), pytest.MonkeyPatch.context() as mp:
        mp.setattr(session_module.SessionFactory, "__init__", patched)
        calls.clear()
        code, _, err = world.cli("promote", "--to", "dev", "--artifact", digest2)
    assert code == 0, err
    lam = [op for svc, op in calls.calls if svc == "lambda"]
    assert lam.count("UpdateFunctionCode") >= 2, lam  # the 409s were retried, then the update went through
    assert world.ledger("dev")[-1]["outcome"] == "PASSED"


def test_a_failed_update_is_one_line_exit_1_and_recorded(world, built, built2, aws):
    good = world.stage(built)
    world.ok("promote", "--to", "dev")
    before = world.live("dev", DEV)["Version"]
    digest2 = world.stage(built2)
    _fail(aws, what="update", reason="Lambda was unable to decrypt the environment variables")
    code, _, err = world.cli("promote", "--to", "dev", "--artifact", digest2)
    assert code == 1
    lines = err.strip().splitlines()
    assert any("greeter-dev" in line and "the update failed: Lambda was unable to decrypt the environment variables"
               in line for line in lines), err
    assert "Traceback" not in err
    outcome = world.ledger("dev")[-1]
    assert outcome["outcome"] == "FAILED" and "unable to decrypt" in outcome["reason"]
    live = world.live("dev", DEV)
    assert live["Version"] == before and live["CodeSha256"] != digest2  # the alias never moved
    assert good


def test_a_failed_function_is_refused_with_lambdas_reason(world, built, aws):
    world.stage(built)
    _fail(aws, what="create", reason="Insufficient ENIs in subnet", code="SubnetOutOfIPAddresses")
    code, _, err = world.cli("promote", "--to", "dev")
    assert code == 1
    assert "greeter-dev" in err and "Lambda reports the function Failed: Insufficient ENIs in subnet" in err, err
    assert world.ledger("dev")[-1]["outcome"] == "FAILED"


def test_the_aws_profile_scaled_down_keeps_every_transition(world, built, built2, calls):
    """`PIPELINE_EMULATOR_TIMING=aws` with a small scale: AWS's windows and latencies, 20x faster."""
    digest = world.stage(built)
    digest2 = world.stage(built2)
    fast_aws = timing.profile("aws", 0.05)
    with timing.using(fast_aws):
        code, _, err = world.cli("promote", "--to", "dev", "--artifact", digest)
        assert code == 0, err
        calls.clear()
        code, out, err = world.cli("promote", "--to", "dev", "--artifact", digest2)
    assert code == 0, err
    assert "waited InProgress -> Successful" in err + out  # the progress line says what it waited through
    lam = [op for svc, op in calls.calls if svc == "lambda"]
    assert lam.count("GetFunctionConfiguration") >= 2, lam  # the 0.1 s code update was polled, not skipped


def _update_polls(calls) -> list[str]:
    lam = [op for svc, op in calls.calls if svc == "lambda"]
    return lam[lam.index("UpdateFunctionCode") + 1:lam.index("UpdateAlias")]


def test_polls_are_timed_from_the_last_recorded_code_update(world, built, built2, calls):
    """The ledger's timing of the last code update times the next one's polls: fewer looks, and none late."""
    world.stage(built)
    world.ok("promote", "--to", "dev")
    digest2 = world.stage(built2)
    with timing.using(lambda_update_code=1.2):
        calls.clear()
        world.ok("promote", "--to", "dev", "--artifact", digest2)  # the last update took ~0.05 s (instant)
        misled = _update_polls(calls)
        assert world.ledger("dev")[-1]["timings"]["deploy_code"] >= 1.2
        calls.clear()
        out = world.ok("promote", "--to", "dev", "--artifact", built[1].sha256)  # now the ledger says ~1.2 s
        timed = _update_polls(calls)
    assert set(timed) == {"GetFunctionConfiguration"}, timed
    assert len(timed) <= 5 < len(misled), (timed, misled)
    waited = float(out.split("waited InProgress -> Successful ")[1].split("s,")[0])
    assert waited <= 1.2 + 0.25, out  # seen within a close look of its end, not a capped interval later
    assert world.ledger("dev")[-1]["outcome"] == "PASSED"
