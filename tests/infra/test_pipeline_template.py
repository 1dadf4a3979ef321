"""The CodePipeline stack: stage order from config, approvals where gates ask, least-privilege roles, cfn-lint."""

from __future__ import annotations

import json
import shutil

import pytest
from cfnlint.api import lint

from infra.conftest import write_envdir
from pipeline.config.load import load_config
from pipeline.errors import ConfigError, InputError
from pipeline.infra import render
from pipeline.infra.cfnyaml import load_template
from pipeline.infra.render import render_pipeline, render_tooling

CONNECTION = "arn:aws:codeconnections:us-east-1:444444444444:connection/0a1b2c3d-1111-2222-3333-444455556666"
# No promoter role, a CodeConnections source, and a `staging` env (with approval) between test and prod.
STAGING = {
    "pipeline.yml": f"""
        name: greeter
        region: us-east-1
        tooling: {{account: "444444444444"}}
        order: [dev, test, staging, prod]
        source: {{type: codeconnections, connection_arn: "{CONNECTION}", repository: example/greeter, branch: release}}
        defaults:
          smoke: [{{name: health, path: /health}}]
        """,
    "dev.yml": 'account: "111111111111"\n',
    "test.yml": 'account: "222222222222"\ngates: {requires: dev}\n',
    "staging.yml": 'account: "555555555555"\ngates: {requires: test, approval: true}\n',
    "prod.yml": 'account: "333333333333"\ngates: {requires: staging, approval: true}\n',
}


def _pipeline(rendered) -> tuple[dict, dict]:
    resources = load_template(rendered.body)["Resources"]
    return resources, resources["Pipeline"]["Properties"]


def _stages(props: dict) -> dict[str, list[dict]]:
    return {s["Name"]: s["Actions"] for s in props["Stages"]}


def _statements(resources: dict, role: str) -> dict[str, dict]:
    doc = resources[role]["Properties"]["Policies"][0]["PolicyDocument"]
    return {s.get("Sid", s["Action"] if isinstance(s["Action"], str) else s["Action"][0]): s for s in doc["Statement"]}


def _sub(value) -> str:
    return value["Fn::Sub"] if isinstance(value, dict) else value


@pytest.fixture
def staging_config(tmp_path):
    return load_config(write_envdir(tmp_path / "environments", STAGING))


def _errors(body: str) -> list[str]:
    return [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in lint(body, regions=["us-east-1"])
            if m.rule.id.startswith("E")]


def test_repo_pipeline_is_v2_queued_with_a_stage_per_env_in_order(repo_config):
    _, props = _pipeline(render_pipeline(repo_config))
    assert props["PipelineType"] == "V2" and props["ExecutionMode"] == "QUEUED"
    assert [s["Name"] for s in props["Stages"]] == ["Source", "Build", "Deploy-dev", "Deploy-test", "Deploy-prod"]
    store = props["ArtifactStore"]
    assert store["Location"] == repo_config.artifact_bucket and store["EncryptionKey"]["Type"] == "KMS"
    build = _stages(props)["Build"][0]
    assert build["Namespace"] == "BuildVariables"
    assert json.loads(build["Configuration"]["EnvironmentVariables"]) == [
        {"name": "PIPELINE_ACTION", "value": "build", "type": "PLAINTEXT"}]


def test_every_deploy_is_a_codebuild_promote_of_the_built_sha(repo_config):
    _, props = _pipeline(render_pipeline(repo_config))
    for env in repo_config.order:
        promote = next(a for a in _stages(props)[f"Deploy-{env}"] if a["Name"] == f"Promote-{env}")
        assert promote["ActionTypeId"]["Provider"] == "CodeBuild"
        assert promote["Configuration"]["ProjectName"] == {"Ref": "CodeBuildProject"}
        variables = {v["name"]: v["value"] for v in json.loads(promote["Configuration"]["EnvironmentVariables"])}
        assert variables == {"PIPELINE_ACTION": "promote", "PIPELINE_ENV": env,
                             "ARTIFACT_SHA": "#{BuildVariables.ARTIFACT_SHA}",
                             "CODEPIPELINE_EXECUTION_ID": "#{codepipeline.PipelineExecutionId}"}


def test_approval_stands_before_every_env_with_approval_and_only_there(staging_config):
    _, props = _pipeline(render_pipeline(staging_config))
    stages = _stages(props)
    assert list(stages) == ["Source", "Build", "Deploy-dev", "Deploy-test", "Deploy-staging", "Deploy-prod"]
    for name in staging_config.order:
        actions = stages[f"Deploy-{name}"]
        approvals = [a for a in actions if a["ActionTypeId"]["Category"] == "Approval"]
        promote = next(a for a in actions if a["Name"] == f"Promote-{name}")
        if not staging_config.env(name).gates.approval:
            assert approvals == [] and promote["RunOrder"] == 1
            continue
        (approval,) = approvals
        assert approval["Name"] == f"Approve-{name}" and approval["ActionTypeId"]["Provider"] == "Manual"
        assert approval["RunOrder"] < promote["RunOrder"]
        previous = staging_config.env(name).gates.requires
        message = approval["Configuration"]["CustomData"]
        assert "#{BuildVariables.ARTIFACT_SHA}" in message
        assert f"#{{Promote-{previous}.SMOKE_SUMMARY}}" in message and len(message) <= 500
        # the variable it reads is the namespace of the previous env's promote action
        assert any(a.get("Namespace") == f"Promote-{previous}" for a in stages[f"Deploy-{previous}"])


def test_adding_staging_to_order_adds_its_stage(tmp_path, repo_config):
    directory = tmp_path / "environments"
    shutil.copytree(repo_config.directory, directory)
    text = (directory / "pipeline.yml").read_text().replace("order: [dev, test, prod]",
                                                           "order: [dev, test, staging, prod]")
    (directory / "pipeline.yml").write_text(text)
    (directory / "staging.yml").write_text('account: "555555555555"\ngates: {requires: test}\n')
    _, props = _pipeline(render_pipeline(load_config(directory)))
    assert [s["Name"] for s in props["Stages"]][2:] == ["Deploy-dev", "Deploy-test", "Deploy-staging",
                                                       "Deploy-prod"]


@pytest.mark.parametrize("which", ["repo_config", "variant_config", "staging_config"])
def test_pipeline_template_passes_cfn_lint(which, request):
    assert _errors(render_pipeline(request.getfixturevalue(which)).body) == []


def test_cfn_lint_sees_pipeline_mistakes(repo_config):
    body = render_pipeline(repo_config).body
    assert _errors(body.replace("ExecutionMode: QUEUED", "ExecutionMode: QUEUE"))


def test_no_role_has_a_wildcard_action_or_a_write_on_everything(repo_config, staging_config):
    for config in (repo_config, staging_config):
        resources, _ = _pipeline(render_pipeline(config))
        roles = [r for r in resources.values() if r["Type"] == "AWS::IAM::Role"]
        assert len(roles) >= 2
        for role in roles:
            for policy in role["Properties"]["Policies"]:
                for statement in policy["PolicyDocument"]["Statement"]:
                    actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
                    assert all("*" not in a for a in actions), statement
                    resources_ = statement["Resource"] if isinstance(statement["Resource"], list) \
                        else [statement["Resource"]]
                    assert "*" not in resources_, statement


def test_codebuild_acts_through_the_promoter_when_one_is_configured(repo_config):
    resources, _ = _pipeline(render_pipeline(repo_config))
    codebuild = _statements(resources, "CodeBuildRole")
    assert [_sub(r) for r in codebuild["PromoteAs"]["Resource"]] == [
        "arn:${AWS::Partition}:iam::444444444444:role/pipeline-promoter"]
    # the ledger and the staged artifacts are the promoter's business, not CodeBuild's own
    assert {"StageArtifacts", "AppendLedger", "ListArtifactsAndLedger"}.isdisjoint(codebuild)
    assert _sub(codebuild["PipelineArtifacts"]["Resource"]).endswith(
        "greeter-artifacts-444444444444-us-east-1/greeter-pipeline/*")
    assert _sub(codebuild["ReadApproval"]["Resource"]) == \
        "arn:${AWS::Partition}:codepipeline:us-east-1:444444444444:greeter-pipeline"
    assert codebuild["ReadApproval"]["Action"] == ["codepipeline:GetPipelineState",
                                                   "codepipeline:ListActionExecutions"]
    # the tooling key admits CodeBuild and CodePipeline by exact ARN; deploy roles still trust only the promoter
    key = load_template(render_tooling(repo_config).body)["Resources"]["ArtifactKey"]["Properties"]["KeyPolicy"]
    users = next(s for s in key["Statement"] if s["Sid"] == "PipelineEncryptsAndDecrypts")
    assert [_sub(a) for a in users["Condition"]["ArnEquals"]["aws:PrincipalArn"]] == [
        f"arn:${{AWS::Partition}}:iam::444444444444:role/{name}"
        for name in ("pipeline-promoter", "greeter-codebuild", "greeter-codepipeline")]


def test_without_a_promoter_codebuild_assumes_exactly_the_deploy_roles(staging_config):
    resources, props = _pipeline(render_pipeline(staging_config))
    codebuild = _statements(resources, "CodeBuildRole")
    assert [_sub(r) for r in codebuild["PromoteAs"]["Resource"]] == [
        f"arn:${{AWS::Partition}}:iam::{account}:role/pipeline-deploy"
        for account in ("111111111111", "222222222222", "555555555555", "333333333333")]
    assert _sub(codebuild["AppendLedger"]["Resource"]).endswith("/ledger/*")
    assert codebuild["CloneSource"]["Resource"] == CONNECTION
    source = _stages(props)["Source"][0]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"] == {"ConnectionArn": CONNECTION, "FullRepositoryId": "example/greeter",
                                       "BranchName": "release", "OutputArtifactFormat": "CODEBUILD_CLONE_REF",
                                       "DetectChanges": True}
    assert "SourceRule" not in resources


def test_default_source_is_a_zip_in_the_artifact_bucket_started_by_eventbridge(repo_config):
    resources, props = _pipeline(render_pipeline(repo_config))
    source = _stages(props)["Source"][0]
    assert source["Configuration"] == {"S3Bucket": repo_config.artifact_bucket,
                                       "S3ObjectKey": "source/greeter.zip", "PollForSourceChanges": False}
    rule = resources["SourceRule"]["Properties"]
    assert rule["EventPattern"]["detail"] == {"bucket": {"name": [repo_config.artifact_bucket]},
                                              "object": {"key": ["source/greeter.zip"]}}
    bucket = load_template(render_tooling(repo_config).body)["Resources"]["ArtifactBucket"]["Properties"]
    assert bucket["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}


def test_a_wildcard_slipped_into_the_pipeline_template_is_refused(repo_config, tmp_path, monkeypatch):
    templates = tmp_path / "templates"
    shutil.copytree(render.TEMPLATES_DIR, templates)
    path = templates / "pipeline.yml.j2"
    path.write_text(path.read_text().replace("- codebuild:StartBuild", "- codebuild:*"))
    with pytest.raises(InputError, match="codebuild:\\*' grants a whole service"):
        render_pipeline(repo_config, templates)


def test_bad_source_block_names_file_line_and_key(tmp_path):
    files = dict(STAGING)
    files["pipeline.yml"] = STAGING["pipeline.yml"].replace("type: codeconnections", "type: github")
    with pytest.raises(ConfigError) as raised:
        load_config(write_envdir(tmp_path / "environments", files))
    assert raised.value.problems == [f"{tmp_path}/environments/pipeline.yml:5: source: input tag 'github' found "
                                     "using 'type' does not match any of the expected tags: 's3', 'codeconnections'"]
    files["pipeline.yml"] = STAGING["pipeline.yml"].replace("repository: example/greeter, ", "")
    with pytest.raises(ConfigError, match=r"source\.repository: missing required key"):
        load_config(write_envdir(tmp_path / "environments2", files))
