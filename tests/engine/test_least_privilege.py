"""Least privilege, measured: a representative set of scenarios runs with the emulator's decision log on
(PIPELINE_EMULATOR_IAM_LOG, one log per scenario), then `pipeline local iam-report`'s analysis matches
every Allow statement the templates render with the calls it allowed. A granted action no scenario used
fails the test unless its statement carries `# unused-ok: <reason>` in the template; no template grants
a wildcard action. The logs also say which scenario proves each statement (`provers`): the input of the
mutation test (test_policy_mutation.py, `make proof`: remove each statement, rerun its prover, expect AccessDenied).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import BUCKET, service_role_credentials

from pipeline.config.load import load_config
from pipeline.infra.render import render_all
from pipeline.local.iamreport import grants_of, read_logs, report

pytestmark = pytest.mark.emulator


def _read_only(world, *_artifacts) -> None:
    for args in (["status"], ["verify"], ["history"], ["artifacts"], ["accounts"],
                 ["doctor", "--env", "dev"], ["doctor", "--env", "prod"]):
        code, _, err = world.cli(*args)
        assert code in (0, 1), f"pipeline {' '.join(args)}: {err}"  # doctor/verify may report findings (exit 1)


def _stage(world, built, built2, crash) -> None:
    for artifact in (built, built2, crash):
        world.stage(artifact)


def _first_promotion_rolls_back(world, built, built2, crash) -> None:
    """A broken first release into an env that has no alias yet: the alias is deleted again."""
    code, _, err = world.cli("promote", "--to", "dev", "--artifact", crash[1].sha256)
    assert code == 1, err


def _promote_chain(world, built, built2, crash) -> None:
    for env in ("dev", "test"):
        world.ok("promote", "--to", env, "--artifact", built[1].sha256)
    # prod watches its errors alarm: the alarms gate and the canary bake read it through the deploy role
    world.edit("prod.yml", """\
        account: "333333333333"
        protect: true
        gates: {requires: test, approval: true, alarms: [greeter-prod-errors]}
        strategy: {canary: {percent: 10, bake_seconds: 1}}
        """)
    world.ok("promote", "--to", "prod", "--approve", "--reason", "least privilege")


def _failed_promotion(world, built, built2, crash) -> None:
    code, _, err = world.cli("promote", "--to", "dev", "--artifact", crash[1].sha256)
    assert code == 1 and "ROLLED_BACK" in err + world.ok("status", "--env", "dev"), err


def _rollback(world, built, built2, crash) -> None:
    world.ok("promote", "--to", "dev", "--artifact", built2[1].sha256)
    world.ok("rollback", "--env", "dev")


def _prune(world, *_artifacts) -> None:
    """`pipeline prune` lists the versions and aliases and deletes what neither the alias nor the ledger needs."""
    code, doc = world.json("prune", "--env", "dev", "--keep", "1")
    assert code == 0 and doc["targets"][0]["deleted"], doc


def _ci_promotion(world, built, built2, crash, monkeypatch=None) -> None:
    """A promotion as CodeBuild runs it: the build's role assumes the promoter."""
    creds = service_role_credentials("444444444444", "greeter-codebuild", "AWSCodeBuild-lp")
    assert monkeypatch is not None
    with monkeypatch.context() as m:
        m.setenv("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
        m.setenv("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
        m.setenv("AWS_SESSION_TOKEN", creds["SessionToken"])
        m.setenv("CODEBUILD_BUILD_ID", "greeter-pipeline:lp")
        world.ok("promote", "--to", "test", "--artifact", built2[1].sha256)
        world.ok("board", "--publish", "--out", "dist/board.html")  # buildspec's post_build: the build's role writes


def _upload_source(world, *_artifacts) -> None:
    """README's start of the pipeline: an operator uploads the source zip through the promoter role (the bucket
    encrypts it with the artifact key: s3:PutObject on that one key, kms:GenerateDataKey through S3)."""
    import boto3

    from pipeline.local.authz import org

    operator = org.credentials("operator")
    sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id=operator["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=operator["AWS_SECRET_ACCESS_KEY"])
    creds = sts.assume_role(RoleArn="arn:aws:iam::444444444444:role/pipeline-promoter",
                            RoleSessionName="operator-source")["Credentials"]
    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"],
                      aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
    put = s3.put_object(Bucket=BUCKET, Key="source/greeter.zip", Body=b"PK\x05\x06" + bytes(18))
    assert put["ServerSideEncryption"] == "aws:kms", put


def _pipeline_execution(world, *_artifacts, monkeypatch=None) -> None:
    """One whole execution of the pipeline the tooling stack made, driven by the operator: the pipeline, events,
    CodeBuild, promoter and deploy roles each act as themselves (`build_tests: false`: the Build only builds)."""
    from pipeline.commands.demo_pipeline import make_repository
    from pipeline.local.authz import org

    assert monkeypatch is not None
    (world.envdir / "pipeline.yml").write_text((world.envdir / "pipeline.yml").read_text() + "build_tests: false\n")
    world.ok("bootstrap", "--tooling")
    (world.envdir.parent / ".gitignore").write_text("iam-*.jsonl\n")  # the scenarios' logs live beside it
    make_repository(world.envdir.parent)
    with monkeypatch.context() as m:
        for key, value in org.credentials("operator").items():
            m.setenv(key, value)
        world.ok("pipeline", "run", "--until-approval", "--timeout", "600")
        world.ok("pipeline", "approve", "--stage", "prod", "--reason", "least privilege")
        world.ok("pipeline", "show", "--follow", "--timeout", "600")


def _bootstrap_again(world, *_artifacts) -> None:
    """Nothing changed: bootstrap says so from the version tags; forced, it compares the deployed templates."""
    world.ok("bootstrap", "--all")
    world.ok("bootstrap", "--env", "dev", "--force")


# name -> scenario, in the order they run (each on the state the previous ones left)
SCENARIOS: dict[str, Callable[..., None]] = {
    "stage": _stage,
    "first-promotion-rolls-back": _first_promotion_rolls_back,
    "promote-dev-test-prod": _promote_chain,
    "failed-promotion-rolls-back": _failed_promotion,
    "rollback": _rollback,
    "prune": _prune,
    "ci-promotion": _ci_promotion,
    "read-only": _read_only,
    "upload-source": _upload_source,
    "pipeline-execution": _pipeline_execution,
    "bootstrap-unchanged": _bootstrap_again,
}


@pytest.fixture
def logs(tmp_path, monkeypatch) -> dict[str, Path]:
    """The bootstrap's decision log (the world fixture bootstraps tooling and every env with it on)."""
    path = tmp_path / "iam-bootstrap.jsonl"
    monkeypatch.setenv("PIPELINE_EMULATOR_IAM_LOG", str(path))
    return {"bootstrap": path}


def run_scenarios(world, logs, monkeypatch, artifacts, tmp_path, until: str | None = None) -> None:
    for name, scenario in SCENARIOS.items():
        path = tmp_path / f"iam-{name}.jsonl"
        monkeypatch.setenv("PIPELINE_EMULATOR_IAM_LOG", str(path))
        logs[name] = path
        if scenario in (_ci_promotion, _pipeline_execution):
            scenario(world, *artifacts, monkeypatch=monkeypatch)
        else:
            scenario(world, *artifacts)
        if name == until:
            return


def provers(config, logs: dict[str, Path]) -> dict[tuple[str, str, str, str], list[str]]:
    """Template statement -> the scenarios whose calls it allowed (first one first)."""
    from pipeline.local.iamreport import count_uses

    out: dict[tuple[str, str, str, str], list[str]] = {}
    grants_all = [g for r in render_all(config) for g in grants_of(r)]
    for name, path in logs.items():
        if not path.exists():
            continue
        grants = [g for r in render_all(config) for g in grants_of(r)]
        count_uses(grants, read_logs([path]))
        for grant in grants:
            if sum(grant.uses.values()):
                out.setdefault(grant.key, []).append(name)
    return {g.key: out.get(g.key, []) for g in grants_all}


def test_every_rendered_grant_is_used_by_a_scenario_or_says_why(logs, world, monkeypatch, tmp_path, built, built2,
                                                                crash_artifact):
    run_scenarios(world, logs, monkeypatch, (built, built2, crash_artifact), tmp_path)
    monkeypatch.delenv("PIPELINE_EMULATOR_IAM_LOG")
    data = report(load_config(world.envdir), list(logs.values()))
    assert data["wildcard_actions"] == []
    assert not [d for d in data["denied"] if "unmapped" in d["reason"]], data["denied"]
    unused = [f"{u['template']} {u['resource']} {u['document']} {u['statement']}: {u['action']}"
              for u in data["template_unused"]]
    assert unused == [], "granted, used by no scenario, no `# unused-ok:` reason:\n" + "\n".join(unused)
    # a reason that says why a statement goes unused, on a statement the scenarios use in full, is stale
    stale = [f"{s['template']} {s['policy']} {s['statement']}: {s['reason']}" for s in data["statements"]
             if s["reason"] and all(s["uses"].values())]
    assert stale == [], "used in full, yet `# unused-ok:` says why it is not:\n" + "\n".join(sorted(set(stale)))
    # every used statement is proven by a named scenario (what the mutation test removes and reruns)
    proven = provers(load_config(world.envdir), logs)
    assert proven, "no statement matched the logs"
