"""Invariant 9 through the CLI: every sandbox action refuses every pipeline account (exit 3, nothing written);
bad input is exit 2 before any AWS call; expired credentials are one clear line."""

from __future__ import annotations

import json

import pytest
from botocore.awsrequest import AWSResponse
from helpers import ACCOUNTS

pytestmark = pytest.mark.emulator

ACTIONS = [
    ["up"], ["up", "--renew", "--branch", "main"], ["deploy", "--skip-tests"], ["invoke", "--tail"], ["logs"],
    ["status"], ["down"], ["gc"], ["gc", "--dry-run"],
]


@pytest.mark.parametrize("env", ["dev", "test", "prod", "tooling"])
def test_every_action_refuses_every_pipeline_account(sh, calls, env):
    account = ACCOUNTS[env]
    sh.act_as(account)
    calls.clear()
    for action in ACTIONS:
        code, _, err = sh.run("sandbox", *action)
        assert code == 3, (action, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and f"account {account} is used by the pipeline as" in lines[0], (action, err)
        assert ("the tooling account" if env == "tooling" else f"env {env} (") in lines[0]
    assert calls.writes == []
    assert {op for _, op in calls.calls} == {"GetCallerIdentity"}  # refused before any other call


def test_json_refusal_is_one_document(sh, calls):
    sh.act_as(ACCOUNTS["prod"])
    code, out, _ = sh.run("--output", "json", "sandbox", "status")
    doc = json.loads(out)
    assert code == 3 and doc["ok"] is False and doc["exit_code"] == 3 and "333333333333" in doc["error"]


def test_gc_refuses_a_listed_pipeline_account_before_assuming_anything(sh, calls):
    code, _, err = sh.run("sandbox", "gc", "--accounts", "123456789012,444444444444", "--role", "any")
    assert code == 3 and "444444444444" in err and "tooling account" in err
    assert calls.writes == [] and ("sts", "AssumeRole") not in calls.calls


@pytest.mark.parametrize(("args", "message"), [
    (["up", "--user", "@@@"], "user '@@@' sanitizes to nothing"),
    (["deploy", "--user", "alice", "--branch", "///"], "branch '///' sanitizes to nothing"),
    (["status", "--user=---"], "sanitizes to nothing"),
    (["invoke", "--path", "health"], "--path must start with '/'"),
    (["invoke", "--event", "missing.json"], "file not found"),
    (["logs", "--since", "0"], "--since and --limit must be at least 1"),
    (["gc", "--accounts", "12345"], "12-digit account ids"),
    (["gc", "--accounts", "555555555555"], "--accounts needs --role"),
])
def test_bad_input_is_exit_2_with_no_aws_call(sh, calls, args, message):
    code, _, err = sh.run("sandbox", *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert calls.calls == []


def test_default_user_that_sanitizes_to_nothing_is_exit_2(sh, calls, monkeypatch):
    monkeypatch.setenv("USER", "ü")
    code, _, err = sh.run("sandbox", "up")
    assert code == 2 and "give --user" in err and calls.calls == []


def _expired(**_kwargs):
    response = AWSResponse("https://sts.amazonaws.com/", 403, {}, None)
    return response, {"Error": {"Code": "ExpiredToken", "Message": "The security token included in the request is "
                                                                  "expired"},
                      "ResponseMetadata": {"HTTPStatusCode": 403}}


def _hook(monkeypatch, event: str) -> None:
    from pipeline.aws import session as session_module

    original = session_module.SessionFactory.__init__

    def patched(self, *args, **kwargs):
        kwargs["event_hooks"] = [(event, _expired), *(kwargs.get("event_hooks") or [])]
        original(self, *args, **kwargs)

    monkeypatch.setattr(session_module.SessionFactory, "__init__", patched)


def test_expired_credentials_are_one_clear_line(sh, monkeypatch):
    _hook(monkeypatch, "before-call")
    for action in (["up"], ["deploy"], ["gc"]):
        code, _, err = sh.run("sandbox", *action)
        assert code == 1
        assert err.strip() == ("pipeline: error: base credentials: credentials have expired (ExpiredToken); "
                               "refresh them (e.g. aws sso login)"), err


def test_credentials_expiring_midway_are_one_clear_line(sh, calls, monkeypatch, prebuilt):
    sh.ok("sandbox", "up")
    _hook(monkeypatch, "before-call.s3.HeadObject")
    code, _, err = sh.deploy()
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "your AWS credentials have expired (ExpiredToken); refresh them" in err
