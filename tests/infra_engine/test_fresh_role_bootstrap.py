"""`pipeline bootstrap --env` under the `aws` timing (scaled) with IAM propagation: the deploy role the
target stack has just created is refused by STS at first, and bootstrap waits for it, then deploys."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest
from helpers import client

from pipeline.aws import session as session_module
from pipeline.cli import main
from pipeline.local import timing

pytestmark = pytest.mark.emulator
DEPLOY_ROLE = "arn:aws:iam::111111111111:role/pipeline-deploy"


def test_bootstrap_waits_until_the_new_deploy_role_can_be_assumed(aws, envdir: Path, monkeypatch, capsys):
    assumed: list[tuple[str, float]] = []
    original = session_module.SessionFactory.__init__

    def record(params, **_kwargs) -> None:
        assumed.append((params["RoleArn"], time.monotonic()))

    def patched(self, *args, **kwargs):
        kwargs["event_hooks"] = [*(kwargs.get("event_hooks") or []), ("before-parameter-build.sts.AssumeRole",
                                                                        record)]
        original(self, *args, **kwargs)

    monkeypatch.setattr(session_module.SessionFactory, "__init__", patched)
    with timing.using(timing.profile("aws", 0.05), iam_propagation=1.5):
        assert main(["--config-dir", str(envdir), "bootstrap", "--tooling"]) == 0
        assert main(["--config-dir", str(envdir), "bootstrap", "--env", "dev"]) == 0, capsys.readouterr().err
    deploy = [at for arn, at in assumed if arn == DEPLOY_ROLE]
    assert len(deploy) >= 2, assumed  # refused while IAM propagated it, then assumed
    assert deploy[-1] - deploy[0] >= 0.2 and all(b - a < 4.0 for a, b in itertools.pairwise(deploy))
    stacks = client("cloudformation", "111111111111").describe_stacks()["Stacks"]
    assert {s["StackName"]: s["StackStatus"] for s in stacks} == {"greeter-dev-target": "CREATE_COMPLETE",
                                                                  "greeter-dev-function": "CREATE_COMPLETE"}
