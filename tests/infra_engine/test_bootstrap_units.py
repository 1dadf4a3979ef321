"""Pure bootstrap decisions (which code the function stack names) and the fresh-role retry."""

from __future__ import annotations

import base64
import hashlib
from types import SimpleNamespace

import pytest

from pipeline.aws.session import AssumeDenied
from pipeline.config.load import load_config
from pipeline.core.bootstrap import LiveFunction, function_code, stack_spec
from pipeline.engine.bootstrap import FRESH_ROLE_WAIT, Bootstrapper
from pipeline.errors import PipelineError
from pipeline.infra.render import render_function
from pipeline.infra.stub import STUB_HANDLER, STUB_RUNTIME, stub_sha256

GO_ZIP = b"go artifact bytes"
GO_SHA = hashlib.sha256(GO_ZIP).hexdigest()


def live(runtime: str, tags: dict[str, str], code: bytes = GO_ZIP) -> LiveFunction:
    return LiveFunction("greeter-dev", "arn", runtime, "bootstrap" if runtime == "provided.al2023" else "index.handler",
                        base64.b64encode(hashlib.sha256(code).digest()).decode(), 128, "x86_64", tags)


@pytest.fixture
def config(envdir):
    return load_config(envdir)


def test_no_function_or_stub_function_means_stub_parameters(config):
    for current in (None, live("python3.12", {"pipeline:artifact-sha256": stub_sha256()}, b"stub")):
        code = function_code(config, current)
        assert code.is_stub
        params = code.parameters()
        assert params["Runtime"] == STUB_RUNTIME and params["Handler"] == STUB_HANDLER
        assert params["CodeS3Key"] == f"artifacts/greeter/{stub_sha256()}.zip"
        assert params["ArtifactSha256"] == stub_sha256() and params["CodeS3ObjectVersion"] == ""


def test_promoted_function_keeps_its_artifact_and_runtime(config):
    code = function_code(config, live("provided.al2023", {"pipeline:artifact-sha256": GO_SHA,
                                                          "pipeline:commit": "abc123"}))
    params = code.parameters()
    assert (params["Runtime"], params["Handler"]) == ("provided.al2023", "bootstrap")
    assert params["CodeS3Key"] == f"artifacts/greeter/{GO_SHA}.zip"
    assert params["CodeS3Bucket"] == config.artifact_bucket
    assert (params["ArtifactSha256"], params["ArtifactCommit"]) == (GO_SHA, "abc123")
    assert code.notes == ()


def test_running_code_wins_over_a_stale_or_missing_tag(config):
    stale = function_code(config, live("provided.al2023", {"pipeline:artifact-sha256": "ab" * 32}))
    assert stale.sha256 == GO_SHA and "keeping the running code" in stale.notes[0]
    untagged = function_code(config, live("provided.al2023", {}))
    assert untagged.sha256 == GO_SHA and "no pipeline:artifact-sha256 tag" in untagged.notes[0]


def test_stack_spec_tags_and_protection(config):
    env = config.env("prod")
    rendered = render_function(config, env, env.targets[0])
    spec = stack_spec(rendered, protect=env.protect, parameters={"A": "1"}, role_arn="arn:role")
    assert spec.tags == {"pipeline:bootstrap-version": rendered.version, "pipeline:kind": "function",
                         "pipeline:env": "prod"}
    assert spec.protect and spec.role_arn == "arn:role" and spec.capabilities == ("CAPABILITY_NAMED_IAM",)


def _boot(config, failures: int):
    attempts = []

    def target(env, target=None):
        attempts.append(1)
        if len(attempts) <= failures:
            raise AssumeDenied("assume role arn:aws:iam::111111111111:role/pipeline-deploy: AccessDenied: no")
        return "session"

    sleeps: list[float] = []
    boot = Bootstrapper(config, None, SimpleNamespace(target=target), sleep=sleeps.append)  # type: ignore[arg-type]
    return boot, attempts, sleeps


def test_a_just_created_deploy_role_is_retried_briefly(config):
    env = config.env("dev")
    boot, attempts, sleeps = _boot(config, failures=2)
    assert boot.deploy_session(env, env.targets[0], fresh=True) == "session"
    assert len(attempts) == 3 and sleeps == pytest.approx([0.25, 0.375])  # growing, from a quarter second


def test_only_a_refused_assume_is_waited_for(config):
    env = config.env("dev")
    calls = []

    def target(env, target=None):
        calls.append(1)
        raise PipelineError("assume role arn:aws:iam::111111111111:role/pipeline-deploy: ExpiredToken: no")

    boot = Bootstrapper(config, None, SimpleNamespace(target=target), sleep=lambda _s: None)  # type: ignore[arg-type]
    with pytest.raises(PipelineError, match="ExpiredToken"):
        boot.deploy_session(env, env.targets[0], fresh=True)
    assert len(calls) == 1


def test_an_existing_deploy_role_is_not_retried(config):
    env = config.env("dev")
    boot, attempts, sleeps = _boot(config, failures=1)
    with pytest.raises(PipelineError, match="AccessDenied"):
        boot.deploy_session(env, env.targets[0])
    assert (len(attempts), sleeps) == (1, [])


def test_a_role_that_never_becomes_assumable_gives_up(config):
    env = config.env("dev")
    boot, attempts, sleeps = _boot(config, failures=100)
    with pytest.raises(PipelineError, match="AccessDenied"):
        boot.deploy_session(env, env.targets[0], fresh=True)
    assert sum(sleeps) >= FRESH_ROLE_WAIT and len(attempts) < 25 and max(sleeps) <= 4.0
