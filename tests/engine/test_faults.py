"""Fault injection: throttling, 500s, connection resets and read timeouts on 20% of all calls.

Full dev -> test -> prod promotions under faults must end exactly where fault-free runs end
(same live CodeSha256 per env, same ledger records and outcomes) and `verify` must pass.
Faults also strike after a call took effect (the answer was lost), so retried non-idempotent
writes (ledger puts, alias creation, publish, invoke) are exercised too.
"""

from __future__ import annotations

import base64
import time

import pytest
from faults import FaultInjector

ENVS = ("dev", "test", "prod")
ACCOUNTS = {"dev": "111111111111", "test": "222222222222", "prod": "333333333333"}


def fresh(world, emulator) -> None:
    """Back to the state the `world` fixture starts from, with prod bootstrapped too."""
    emulator.reset()
    code, _, err = world.cli("bootstrap", "--tooling")
    assert code == 0, err
    world.bootstrap("dev", "test", "prod")


def signature(world) -> dict:
    """What a run leaves behind: each env's live code and its ledger (what each record says)."""
    state = {}
    for env in ENVS:
        try:
            live = base64.b64decode(world.live(env, ACCOUNTS[env])["CodeSha256"]).hex()
        except Exception as exc:  # no alias yet
            live = type(exc).__name__
        state[env] = [f"live {live[:12]}"] + [
            " ".join(str(x) for x in (r["seq"], r["type"], r.get("action"), r.get("outcome"),
                                      str(r.get("artifact"))[:12], "closes" if r.get("closes") else ""))
            for r in world.ledger(env)]
    return state


def published_versions(world) -> int:
    """Versions published in every env (a retried update_function_code may publish one more)."""
    from helpers import client

    return sum(len(client("lambda", ACCOUNTS[env]).list_versions_by_function(FunctionName=f"greeter-{env}")
                   ["Versions"]) - 1 for env in ENVS)


def full_promotions(world, artifacts: list, rounds: int, timings: list[float] | None = None,
                    broken: object | None = None) -> list[tuple]:
    """Stage every artifact, then `rounds` times dev -> test -> prod with the next one; exit codes.

    With `broken`, every 5th round (from the 2nd) also tries the broken release in dev (smoke
    fails, the alias goes back: exit 1) and then runs `rollback --env dev` (exit 0).
    """
    digests = [world.stage(a) for a in artifacts]
    bad = world.stage(broken) if broken is not None else None
    codes = []
    for i in range(rounds):
        digest = digests[i % len(digests)]
        start = time.perf_counter()
        row = []
        for env in ENVS:
            extra = ("--approve", "--reason", f"round {i}") if env == "prod" else ()
            code, _, err = world.cli("promote", "--to", env, "--artifact", digest, *extra)
            row.append(code)
            assert code == 0, f"round {i}: promote --to {env} exited {code}: {err.strip().splitlines()[-1:]}"
        if timings is not None:
            timings.append(time.perf_counter() - start)
        if bad is not None and i % 5 == 1:
            code, _, err = world.cli("promote", "--to", "dev", "--artifact", bad)
            assert code == 1 and "ROLLED_BACK" in err, f"round {i}: broken release: exit {code}: {err}"
            row.append(code)
            code, _, err = world.cli("rollback", "--env", "dev")
            assert code == 0, f"round {i}: rollback exited {code}: {err}"
            row.append(code)
        codes.append(tuple(row))
    return codes


def run_and_compare(world, aws, built, built2, broken, monkeypatch, rounds: int, seed: int) -> FaultInjector:
    # prod as the world has it (approval, canary, no freeze), without the 1 s bake: the canary steps stay
    world.edit("prod.yml", """\
        account: "333333333333"
        protect: true
        gates: {requires: test, approval: true}
        strategy: {canary: {percent: 10, bake_seconds: 0}}
        """)
    world.bootstrap("prod")
    clean: list[float] = []
    reference_codes = full_promotions(world, [built, built2], rounds, clean, broken)
    reference = signature(world)
    reference_versions = published_versions(world)
    fresh(world, aws)
    injector = FaultInjector(rate=0.2, seed=seed).install(monkeypatch)
    timings: list[float] = []
    codes = full_promotions(world, [built, built2], rounds, timings, broken)
    code, _, err = world.cli("verify")
    injector.enabled = False
    assert code == 0, err
    assert codes == reference_codes
    after = signature(world)
    for env in ENVS:
        assert after[env] == reference[env], env
    extra = published_versions(world) - reference_versions
    print(f"\n{rounds} full promotions under faults: {injector.summary()}; "
          f"{sum(timings) / len(timings):.2f}s per dev->test->prod round "
          f"(fault-free {sum(clean) / len(clean):.2f}s); {extra} extra version(s) published by retried "
          "update_function_code (left unused)")
    return injector


@pytest.mark.proof  # 30 s: the long fault-injection run belongs to `make proof` (make test stays < 10 min)
def test_full_promotions_under_20_percent_faults_end_like_fault_free_runs(world, aws, built, built2, crash_artifact,
                                                                         monkeypatch):
    injector = run_and_compare(world, aws, built, built2, crash_artifact, monkeypatch, rounds=3, seed=7)
    assert injector.total >= 20 and injector.injected.keys() >= {("after", "timeout"), ("before", "throttling")}


@pytest.mark.proof
def test_fifty_full_promotions_under_faults(world, aws, built, built2, crash_artifact, monkeypatch):
    injector = run_and_compare(world, aws, built, built2, crash_artifact, monkeypatch, rounds=50, seed=2024)
    assert injector.total >= 500


def lost_answer(monkeypatch, operation: str, skip: int = 0, kind: str = "timeout") -> FaultInjector:
    """The `skip`+1-th call of `operation` takes effect, then its answer is lost (once)."""
    return FaultInjector(rate=1.0, kinds=(kind,), after_share=1.0, only=frozenset({operation}), skip=skip,
                         limit=1).install(monkeypatch)


def records(world, env: str = "dev") -> list[str]:
    return [f"{r['type']} {r.get('outcome') or ''}".strip() for r in world.ledger(env)]


def test_lost_answer_to_the_lock_write_is_our_lock_not_someone_elses(world, built, monkeypatch):
    world.stage(built)
    injector = lost_answer(monkeypatch, "PutObject")  # the first put of a promote: the started record
    code, _, err = world.cli("promote", "--to", "dev")
    assert injector.total == 1
    assert code == 0, err
    assert records(world) == ["started", "outcome PASSED"]
    assert world.cli("verify")[0] == 0


def test_lost_answer_to_an_outcome_write_does_not_append_it_twice(world, built, monkeypatch):
    world.stage(built)
    injector = lost_answer(monkeypatch, "PutObject", skip=1)
    code, _, err = world.cli("promote", "--to", "dev")
    assert injector.total == 1 and code == 0, err
    assert records(world) == ["started", "outcome PASSED"]


def test_lost_answer_to_create_alias(world, built, monkeypatch):
    digest = world.stage(built)
    injector = lost_answer(monkeypatch, "CreateAlias", kind="reset")
    code, _, err = world.cli("promote", "--to", "dev")
    assert injector.total == 1 and code == 0, err
    assert base64.b64decode(world.live("dev", ACCOUNTS["dev"])["CodeSha256"]).hex() == digest
    assert records(world) == ["started", "outcome PASSED"]


def test_lost_answer_to_update_function_code_still_verifies_what_goes_live(world, built, monkeypatch):
    digest = world.stage(built)
    injector = lost_answer(monkeypatch, "UpdateFunctionCode")
    code, _, err = world.cli("promote", "--to", "dev")
    assert injector.total == 1 and code == 0, err
    outcome = world.ledger("dev")[-1]
    live = world.live("dev", ACCOUNTS["dev"])
    assert outcome["outcome"] == "PASSED" and live["Version"] == outcome["version"]
    assert base64.b64decode(live["CodeSha256"]).hex() == digest


def test_lost_answer_to_a_smoke_invoke_runs_it_again(world, built, monkeypatch):
    world.stage(built)
    injector = lost_answer(monkeypatch, "Invoke", kind="internal")
    code, _, err = world.cli("promote", "--to", "dev")
    assert injector.total == 1 and code == 0, err
    assert all(s["passed"] for s in world.ledger("dev")[-1]["smoke"])


def test_a_5xx_html_page_from_a_proxy_is_retried(world, built, monkeypatch):
    """botocore cannot parse it (ResponseParserError, "Further retries may succeed"): retry it."""
    digest = world.stage(built)
    injector = lost_answer(monkeypatch, "UpdateFunctionCode", kind="html")
    code, _, err = world.cli("promote", "--to", "dev")
    assert injector.total == 1 and code == 0, err
    assert base64.b64decode(world.live("dev", ACCOUNTS["dev"])["CodeSha256"]).hex() == digest


def test_connection_broken_while_reading_a_ledger_record_is_retried(world, built, monkeypatch):
    world.stage(built)
    world.ok("promote", "--to", "dev")
    injector = lost_answer(monkeypatch, "GetObject", kind="body")
    code, out, err = world.cli("promote", "--to", "dev")
    assert injector.total == 1
    assert code == 0 and "nothing to do" in out, err


def test_connection_broken_while_reading_a_smoke_answer_is_retried(world, built, monkeypatch):
    world.stage(built)
    injector = lost_answer(monkeypatch, "Invoke", kind="body")
    code, _, err = world.cli("promote", "--to", "dev")
    assert injector.total == 1 and code == 0, err
    assert records(world) == ["started", "outcome PASSED"]


def test_an_unexpected_error_after_the_alias_moved_still_puts_it_back(world, built, built2, monkeypatch):
    """Not every failure is a PipelineError (a botocore error nobody classified, a bug): the alias
    must still go back before the command exits, and the ledger must not say PASSED."""
    from faults import install_hooks

    good = world.stage(built)
    world.ok("promote", "--to", "dev")
    world.stage(built2)

    armed = [True]

    def bug(model, **_):
        if model.name == "Invoke" and armed[0]:
            raise RuntimeError("injected: something nobody expected")

    install_hooks(monkeypatch, [("before-call", bug)])
    code, _, err = world.cli("promote", "--to", "dev", "--artifact", built2[1].sha256)
    assert code == 1
    assert "RuntimeError: injected: something nobody expected" in err
    live = world.live("dev", ACCOUNTS["dev"])
    assert base64.b64decode(live["CodeSha256"]).hex() == good and live["Version"] == "1"
    outcome = world.ledger("dev")[-1]
    assert outcome["outcome"] == "FAILED" and outcome["closes"] is True
    assert outcome["reason"] == "unexpected error: RuntimeError: injected: something nobody expected"
    armed[0] = False
    assert world.cli("verify")[0] == 0


def test_ctrl_c_during_smoke_puts_the_alias_back_before_recording(world, built, built2, monkeypatch):
    """Ctrl-C (KeyboardInterrupt) mid-smoke: the outcome record closes the lock, so nobody will
    reconcile afterwards: the alias must be back on verified code before that record is written."""
    from faults import install_hooks

    good = world.stage(built)
    world.ok("promote", "--to", "dev")
    world.stage(built2)
    armed = [True]

    def interrupt(model, **_):
        if model.name == "Invoke" and armed[0]:
            armed[0] = False
            raise KeyboardInterrupt

    install_hooks(monkeypatch, [("before-call", interrupt)])
    code, _, err = world.cli("promote", "--to", "dev", "--artifact", built2[1].sha256)
    assert code == 130 and "interrupted" in err
    live = world.live("dev", ACCOUNTS["dev"])
    assert base64.b64decode(live["CodeSha256"]).hex() == good and live["Version"] == "1"
    outcome = world.ledger("dev")[-1]
    assert outcome["outcome"] == "FAILED" and outcome["closes"] is True and "interrupted" in outcome["reason"]
    assert world.cli("verify")[0] == 0


NOT_RETRIED = [
    # (service, operation, error code, HTTP status, what the error line must name)
    ("lambda", "UpdateFunctionCode", "AccessDeniedException", 403, "update_function_code"),
    ("lambda", "GetFunctionConfiguration", "AccessDeniedException", 403, "get_function_configuration"),
    ("lambda", "UpdateFunctionConfiguration", "ValidationException", 400, "update_function_configuration"),
    ("s3", "PutObject", "AccessDenied", 403, "PutObject"),
    ("s3", "ListObjectsV2", "AccessDenied", 403, "ListObjectsV2"),
    ("s3", "HeadObject", "AccessDenied", 403, "HeadObject"),
    ("sts", "AssumeRole", "AccessDenied", 403, "assume role"),
]


FAST_NOT_RETRIED = {"UpdateFunctionCode", "UpdateFunctionConfiguration", "PutObject", "AssumeRole"}


@pytest.mark.parametrize(("service", "operation", "code", "status", "named"), [
    pytest.param(*case, id=f"{case[1]}-{case[2]}", marks=() if case[1] in FAST_NOT_RETRIED else (pytest.mark.proof,))
    for case in NOT_RETRIED])
def test_errors_that_must_not_be_retried_fail_fast_with_one_line(world, built, monkeypatch, service, operation, code,
                                                                 status, named):
    from faults import client_error, install_hooks

    world.stage(built)
    tries = []

    def deny(model, **_):
        if model.service_model.service_name == service and model.name == operation:
            tries.append(model.name)
            raise client_error(code, status, operation, "injected:\nnot allowed")  # a message of two lines

    install_hooks(monkeypatch, [("before-call", deny)])
    exit_code, _, err = world.cli("promote", "--to", "dev")
    assert exit_code == 1, err
    assert len(tries) == 1  # one call: not retried
    errors = [line for line in err.splitlines() if line.startswith("pipeline: error:")]
    assert len(errors) == 1 and named in errors[0] and code in errors[0], err
    assert "injected: not allowed" in errors[0], err  # one line, even when AWS's message has two
    assert "Traceback" not in err
