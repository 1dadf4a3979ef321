"""`pipeline demo` end to end, as `make demo` runs it (in its own process, with its own emulator): the example
service (examples/service/environments) by default, the one-function flow with --one-function."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers import REPO


def _demo(tmp_path, *extra: str) -> tuple[subprocess.CompletedProcess, list[dict]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run([sys.executable, "-m", "pipeline", "--output", "json", "demo", "--skip-tests",
                             "--dist", str(tmp_path / "dist"), *extra], cwd=REPO, capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result, _documents(result.stdout)


def _no_credentials(result: subprocess.CompletedProcess) -> None:
    """No credential material in any output (the emulator's keys stand in for real ones)."""
    for secret in ("testing", "FQoGZXIvYXdzE"):
        assert f'"{secret}"' not in result.stdout
    assert "SecretAccessKey" not in result.stdout + result.stderr
    assert "SessionToken" not in result.stdout + result.stderr


def test_the_example_service_gives_each_function_only_its_own_grants_on_its_envs_heartbeat():
    from pipeline.config.load import load_config

    config = load_config(str(REPO / "examples" / "service" / "environments"))
    assert config.service_functions == ("api", "worker") and config.order == ("dev", "test", "prod")
    for env in config.environments.values():
        bucket = f"greeter-heartbeat-{env.account}"
        api, worker = env.service_function("api").settings, env.service_function("worker").settings
        key = f"arn:aws:s3:::{bucket}/heartbeat/{env.name}.json"
        assert api.environment["HEARTBEAT_BUCKET"] == worker.environment["HEARTBEAT_BUCKET"] == bucket
        assert [(s.effect, s.actions, s.resources) for s in worker.policy_statements] == [
            ("Allow", ["s3:PutObject"], [key])]
        assert [(s.effect, s.actions, s.resources) for s in api.policy_statements] == [
            ("Allow", ["s3:GetObject"], [key]), ("Allow", ["s3:ListBucket"], [f"arn:aws:s3:::{bucket}"])]
        assert worker.schedule == "rate(1 minute)" and not worker.routes
        assert {f"{r.method} {r.path}" for r in api.routes} == {"GET /health", "GET /version", "GET /hello/{name}",
                                                               "GET /heartbeat"}
        assert {c.name for c in env.smoke if c.http} == {"health", "hello"}
        assert [c.function for c in env.smoke if not c.http] == ["worker"]


def test_demo_promotes_the_service_as_one_release_and_rolls_every_function_back(tmp_path):
    result, documents = _demo(tmp_path)
    demo = next(d for d in documents if d["command"] == "demo")
    envs, functions = {"dev", "test", "prod"}, {"api", "worker"}
    # one artifact: after prod, every function in every env runs its exact bytes
    released = demo["released"]
    assert set(released) == envs and all(set(fns) == functions for fns in released.values())
    assert all(f["code_sha256"] == demo["code_sha256"] for fns in released.values() for f in fns.values())
    # the broken release (the api's /health answers 500) left every function on the version it had
    assert demo["after_broken"] == released
    assert demo["broken_artifact"] != demo["artifact"]
    # the front door answered a plain GET, the worker's schedule fired and its heartbeat was read back through it
    hello = demo["front_door"]["hello"]
    assert hello["status"] == 200 and json.loads(hello["body"])["name"] == "demo"
    assert [d["status"] for d in demo["schedule"]["deliveries"]] == ["Invoked"]
    assert demo["schedule"]["deliveries"][0]["function_error"] is None
    beat = demo["heartbeat"]
    assert beat["status"] == 200 and (beat["json"]["function"], beat["json"]["environment"]) == ("worker", "prod")
    # every call authorized, none denied; the functions called S3 as their own execution roles
    iam = demo["iam"]
    assert iam["denied"] == 0 and iam["authorized"] > 100
    assert any("greeter-prod-worker-fn-" in arn for arn in iam["principals"])
    assert any("greeter-prod-api-fn-" in arn for arn in iam["principals"])
    # bootstrap (and the heartbeat buckets) as the admin, everything after as the operator
    acting = {step["step"].split(" (")[0]: step["as"] for step in demo["acted"]}
    assert acting["bootstrap the tooling account and every environment"].endswith(":user/admin")
    assert acting["promote to prod"].endswith(":user/operator")
    status = next(d for d in documents if d["command"] == "status")
    rows = {(row["env"], row["function"]): row for row in status["environments"]}
    assert set(rows) == {(e, f) for e in envs for f in functions}
    assert {row["artifact"] for row in rows.values()} == {demo["artifact"]}
    assert all(row["outcome"] == "PASSED" and not row["drift"] for row in rows.values())
    assert all(rows[("dev", f)]["last_attempt"]["outcome"] == "ROLLED_BACK" for f in functions)
    assert all(rows[("test", f)]["last_attempt"] is None for f in functions)
    assert {e["env"] for e in status["endpoints"] if e["endpoint"]} == envs
    verify = next(d for d in documents if d["command"] == "verify")
    assert verify["ok"] is True
    # the board: every cell on the released artifact, dev's timeline ending on the rolled-back attempt
    board = next(d for d in documents if d["command"] == "board")
    cells = [c for e in board["environments"] for c in e["cells"]]
    assert len(cells) == 6 and {c["artifact"] for c in cells} == {demo["artifact"]}
    assert {c["state"] for c in cells} == {"ok"} and {e["verdict"]["state"] for e in board["environments"]} == {"ok"}
    dev = next(e for e in board["environments"] if e["name"] == "dev")
    assert [m["outcome"] for m in dev["marks"] if m["kind"] == "outcome"][-1] == "ROLLED_BACK"
    assert (tmp_path / "dist" / "board.html").read_text().count('<g class="mark') == sum(
        len(e["marks"]) for e in board["environments"])
    _no_credentials(result)


def test_demo_one_function_promotes_one_artifact_everywhere_and_rolls_back_a_broken_one(tmp_path):
    result, documents = _demo(tmp_path, "--one-function")
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
    assert next(d for d in documents if d["command"] == "demo")["iam"]["denied"] == 0
    _no_credentials(result)


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


@pytest.mark.proof  # ~50 s; make test runs the same steps through the CLI (tests/engine/test_pipeline_runs.py)
def test_demo_pipeline_runs_one_whole_execution_and_the_ledger_names_builds_and_approver(tmp_path):
    result, documents = _demo(tmp_path, "--pipeline")
    by_command = {d["command"]: d for d in documents}
    shown = by_command["pipeline show"]
    assert shown["status"] == "Succeeded"
    actions = {f"{a['stage']}/{a['action']}": a for a in shown["actions"]}
    assert list(actions) == ["Source/Source", "Build/Build", "Deploy-dev/Promote-dev", "Deploy-test/Promote-test",
                             "Deploy-prod/Approve-prod", "Deploy-prod/Promote-prod"]
    operator = "arn:aws:iam::444444444444:user/operator"
    assert actions["Deploy-prod/Approve-prod"]["detail"].startswith(f"approved by {operator}; demo release")
    records = by_command["history"]["records"]
    prod = next(r for r in records if r["env"] == "prod" and r["type"] == "outcome")
    assert prod["outcome"] == "PASSED" and prod["approval"]["approver"] == operator
    assert prod["build_id"] == actions["Deploy-prod/Promote-prod"]["detail"].split(";")[0]
    assert not prod["dirty"] and prod["commit"] == by_command["demo"]["commit"]
    demo = by_command["demo"]
    assert demo["iam"]["denied"] == 0
    roles = demo["calls_by_role"]  # each service acted as its own role, and each role was used
    for role in ("greeter-codepipeline", "greeter-codebuild", "greeter-pipeline-events", "pipeline-promoter"):
        assert roles[f"arn:aws:sts::444444444444:assumed-role/{role}"] > 0, roles
    _no_credentials(result)
