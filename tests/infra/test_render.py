"""Rendering: names, version hashes, parameters instead of code, and one-line render errors."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from infra.conftest import REPO, write_envdir
from pipeline.config.load import load_config
from pipeline.errors import InputError
from pipeline.infra import naming
from pipeline.infra.cfnyaml import load_template
from pipeline.infra.render import (
    TEMPLATES_DIR,
    Rendered,
    function_parameters,
    render_all,
    render_function,
    render_replica,
    render_target,
    render_tooling,
)


def _resources(rendered: Rendered) -> dict:
    return load_template(rendered.body)["Resources"]


def test_templates_dir_is_the_repo_templates():
    assert TEMPLATES_DIR == REPO / "templates"


def test_render_all_repo_config(repo_config):
    rendered = render_all(repo_config)
    assert [(r.kind, r.stack_name, r.account, r.env) for r in rendered] == [
        ("tooling", "greeter-tooling", "444444444444", None),
        ("pipeline", "greeter-pipeline", "444444444444", None),
        ("target", "greeter-dev-target", "111111111111", "dev"),
        ("function", "greeter-dev-function", "111111111111", "dev"),
        ("target", "greeter-test-target", "222222222222", "test"),
        ("function", "greeter-test-function", "222222222222", "test"),
        ("target", "greeter-prod-target", "333333333333", "prod"),
        ("function", "greeter-prod-function", "333333333333", "prod"),
    ]
    for r in rendered:
        assert len(r.version) == 16 and int(r.version, 16) >= 0
        assert r.region == "us-east-1"


def test_version_is_stable_and_follows_config(repo_config):
    dev = repo_config.env("dev")
    first = render_function(repo_config, dev, dev.targets[0])
    again = render_function(repo_config, dev, dev.targets[0])
    assert first == again
    bigger = dataclasses.replace(dev, function=dataclasses.replace(dev.function, memory=512))
    changed = render_function(repo_config, bigger, dev.targets[0])
    assert changed.version != first.version
    assert "MemorySize: 512" in changed.body and "MemorySize: 128" in first.body


def test_function_body_does_not_depend_on_the_artifact(repo_config):
    """Code and runtime are parameters: the body never names an artifact, so promotions keep its version."""
    dev = repo_config.env("dev")
    body = render_function(repo_config, dev, dev.targets[0]).body
    template = load_template(body)
    code = template["Resources"]["Function"]["Properties"]["Code"]
    assert code["S3Bucket"] == {"Ref": "CodeS3Bucket"} and code["S3Key"] == {"Ref": "CodeS3Key"}
    assert "ZipFile" not in body
    props = template["Resources"]["Function"]["Properties"]
    assert props["Runtime"] == {"Ref": "Runtime"} and props["Handler"] == {"Ref": "Handler"}
    params = {p["ParameterKey"] for p in function_parameters(
        bucket="b", key="k", object_version=None, runtime="provided.al2023", handler="bootstrap",
        sha256="0" * 64, commit="abc")}
    assert params == set(template["Parameters"])
    assert "provided.al2023" in template["Parameters"]["Runtime"]["AllowedValues"]


def test_function_parameters_empty_object_version():
    values = {p["ParameterKey"]: p["ParameterValue"] for p in function_parameters(
        bucket="b", key="k", object_version=None, runtime="python3.12", handler="index.handler",
        sha256="a" * 64, commit="")}
    assert values["CodeS3ObjectVersion"] == ""


def test_function_settings_reach_the_template(variant_config):
    dev = variant_config.env("dev")
    props = _resources(render_function(variant_config, dev, dev.targets[0]))["Function"]["Properties"]
    assert props["FunctionName"] == "shop-dev"
    assert props["Architectures"] == ["arm64"] and props["MemorySize"] == 256
    assert props["Environment"]["Variables"] == {"ENVIRONMENT": "dev", "TABLE": "orders"}
    tags = {t["Key"]: t["Value"] for t in props["Tags"]}
    assert tags == {"pipeline:artifact-sha256": {"Ref": "ArtifactSha256"}, "pipeline:commit": {"Ref": "ArtifactCommit"},
                    "pipeline:env": "dev"}
    resources = _resources(render_function(variant_config, dev, dev.targets[0]))
    assert resources["LogGroup"]["Properties"] == {"LogGroupName": "/aws/lambda/shop-dev", "RetentionInDays": 30}
    extra = resources["ExecutionRole"]["Properties"]["Policies"][1]["PolicyDocument"]["Statement"][0]
    assert extra["Action"] == ["dynamodb:GetItem", "dynamodb:PutItem"]


def test_deploy_role_trust_and_external_id(variant_config):
    dev = variant_config.env("dev")
    role = _resources(render_target(variant_config, dev, dev.targets[0]))["DeployRole"]["Properties"]
    assert role["RoleName"] == "shop-deploy"
    statements = role["AssumeRolePolicyDocument"]["Statement"]
    # No tooling.role: the tooling account root, narrowed to roles; plus the listed promoter.
    root, promoters = statements
    assert root["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::999999999999:root"}}
    assert root["Condition"]["ArnLike"] == {"aws:PrincipalArn": {"Fn::Sub":
                                                                 "arn:${AWS::Partition}:iam::999999999999:role/*"}}
    assert root["Condition"]["StringEquals"] == {"sts:ExternalId": "ext-123"}
    assert promoters["Principal"] == {"AWS": ["arn:aws:iam::999999999999:role/release-managers"]}
    assert promoters["Condition"] == {"StringEquals": {"sts:ExternalId": "ext-123"}}


def test_promoter_role_is_the_trusted_principal(repo_config):
    dev = repo_config.env("dev")
    role = _resources(render_target(repo_config, dev, dev.targets[0]))["DeployRole"]["Properties"]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"AWS": [{"Fn::Sub": "arn:${AWS::Partition}:iam::444444444444:role/"
                                                          "pipeline-promoter"}]}
    assert "Condition" not in statement


def test_iam_lives_in_one_stack_per_account(variant_config):
    """IAM names are global: only the env's first target in an account creates roles, covering all its regions."""
    prod = variant_config.env("prod")
    home, second, other = (render_target(variant_config, prod, t) for t in prod.targets)
    assert {"DeployRole", "CloudFormationRole", "FunctionBoundary"} <= set(_resources(home))
    assert set(_resources(second)) == {"BootstrapParameter"}
    assert "DeployRole" in _resources(other)
    assert "eu-central-1:${AWS::AccountId}:function:shop-prod" in home.body
    assert "eu-central-1" not in other.body.split("Resources:")[1]
    names = {naming.execution_role_name(variant_config, prod, t.region) for t in prod.targets}
    assert len(names) == 3 and all(len(n) <= 64 for n in names)


def _readers(rendered) -> tuple[list[str], dict]:
    statements = load_template(rendered.body)["Resources"]["ArtifactBucketPolicy"][
        "Properties"]["PolicyDocument"]["Statement"]
    read = next(s for s in statements if s.get("Sid") == "DeployRolesReadArtifacts")
    return [v["Fn::Sub"] for v in read["Condition"]["ArnEquals"]["aws:PrincipalArn"]], read


def test_each_region_bucket_admits_only_the_target_roles_of_its_region(variant_config):
    roles, read = _readers(render_tooling(variant_config))  # home: eu-west-1 (dev 555, prod 666)
    assert "arn:${AWS::Partition}:iam::555555555555:role/shop-deploy" in roles
    assert "arn:${AWS::Partition}:iam::666666666666:role/shop-prod-cfn-exec" in roles
    assert not any("777777777777" in r for r in roles)  # its only target is in us-east-1
    assert len(roles) == 4  # 2 accounts x (deploy role, cfn exec role)
    assert read["Resource"] == {"Fn::Sub": "${ArtifactBucket.Arn}/artifacts/shop/*"}
    assert naming.replica_regions(variant_config) == ["eu-central-1", "us-east-1"]
    replica = render_replica(variant_config, "us-east-1")
    assert replica.stack_name == "shop-artifacts-us-east-1" and replica.region == "us-east-1"
    assert "shop-artifacts-999999999999-us-east-1" in replica.body
    roles, _ = _readers(replica)
    assert all(":iam::777777777777:role/" in r for r in roles) and len(roles) == 2
    assert "s3.us-east-1.amazonaws.com" in replica.body


def test_deploy_roles_read_only_the_buckets_of_their_regions(variant_config):
    prod = variant_config.env("prod")
    home = render_target(variant_config, prod, prod.targets[0])  # 666: eu-west-1 and eu-central-1
    assert "shop-artifacts-999999999999-eu-west-1/artifacts/shop/*" in home.body
    assert "shop-artifacts-999999999999-eu-central-1/artifacts/shop/*" in home.body
    assert "shop-artifacts-999999999999-us-east-1" not in home.body
    other = render_target(variant_config, prod, prod.targets[2])  # 777: us-east-1 only
    assert "shop-artifacts-999999999999-us-east-1/artifacts/shop/*" in other.body
    assert "shop-artifacts-999999999999-eu-west-1" not in other.body


def test_tooling_bucket_properties(repo_config):
    bucket = _resources(render_tooling(repo_config))["ArtifactBucket"]["Properties"]
    assert bucket["BucketName"] == repo_config.artifact_bucket
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["BucketKeyEnabled"] is True and rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert _resources(render_tooling(repo_config))["ArtifactKey"]["Properties"]["EnableKeyRotation"] is True


def test_naming_contract(repo_config):
    dev = repo_config.env("dev")
    assert naming.function_name(repo_config, dev) == "greeter-dev"
    assert naming.log_group_name(repo_config, "dev") == "/aws/lambda/greeter-dev"
    assert naming.artifact_key(repo_config, "ab" * 32) == f"artifacts/greeter/{'ab' * 32}.zip"
    assert naming.manifest_key(repo_config, "ab" * 32) == f"artifacts/greeter/{'ab' * 32}.json"
    assert naming.deploy_role_arn(dev, dev.targets[0]) == "arn:aws:iam::111111111111:role/pipeline-deploy"
    assert naming.cfn_exec_role_arn(repo_config, dev, dev.targets[0]) == \
        "arn:aws:iam::111111111111:role/greeter-dev-cfn-exec"
    assert naming.promoter_role_arn(repo_config) == "arn:aws:iam::444444444444:role/pipeline-promoter"
    assert (naming.LEDGER_PREFIX, naming.LOCK_PREFIX) == ("ledger/", "locks/")


# --- render errors -----------------------------------------------------------------------------------------------

def _copy_templates(tmp_path: Path) -> Path:
    target = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_undefined_variable_names_file_line_and_variable(repo_config, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    templates = _copy_templates(tmp_path)
    _edit(templates / "function.yml.j2", "MemorySize: {{ memory }}", "MemorySize: {{ memroy }}")
    line = next(i for i, text in enumerate((templates / "function.yml.j2").read_text().splitlines(), 1)
                if "memroy" in text)
    dev = repo_config.env("dev")
    with pytest.raises(InputError) as err:
        render_function(repo_config, dev, dev.targets[0], templates_dir=templates)
    assert str(err.value) == f"templates/function.yml.j2:{line}: undefined variable 'memroy'"
    assert err.value.exit_code == 2


def test_undefined_attribute_names_the_attribute(repo_config, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    templates = _copy_templates(tmp_path)
    loop = "{% for statement in policy_statements %}\n          - Effect: "
    _edit(templates / "target.yml.j2", loop + "{{ statement.effect }}", loop + "{{ statement.efect }}")
    variant = load_config(write_envdir(tmp_path / "env", {
        "pipeline.yml": "name: a\nregion: us-east-1\ntooling: {account: '999999999999'}\norder: [dev]\n",
        "dev.yml": "account: '555555555555'\nfunction: {policy_statements: [{actions: [s3:GetObject], "
                   "resources: ['arn:aws:s3:::x/*']}]}\n"}))
    dev = variant.env("dev")
    with pytest.raises(InputError, match=r"^templates/target\.yml\.j2:\d+: undefined variable 'efect'$"):
        render_target(variant, dev, dev.targets[0], templates_dir=templates)


def test_syntax_error_names_file_and_line(repo_config, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    templates = _copy_templates(tmp_path)
    (templates / "tooling.yml.j2").write_text("Resources:\n  X:\n    {% if %}\n")
    with pytest.raises(InputError, match=r"^templates/tooling\.yml\.j2:3: template syntax error"):
        render_tooling(repo_config, templates_dir=templates)


def test_invalid_yaml_names_the_template(repo_config, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    templates = _copy_templates(tmp_path)
    (templates / "tooling.yml.j2").write_text("Resources:\n  Bucket: [unclosed\n")
    with pytest.raises(InputError, match=r"^templates/tooling\.yml\.j2: renders to invalid YAML"):
        render_tooling(repo_config, templates_dir=templates)


def test_missing_template(repo_config, tmp_path):
    with pytest.raises(InputError, match="template not found"):
        render_tooling(repo_config, templates_dir=tmp_path)


def test_pipeline_owned_environment_variable_is_refused(tmp_path, variant_files):
    variant_files["dev.yml"] = variant_files["dev.yml"].replace(
        "environment: {TABLE: orders}", "environment: {TABLE: orders, ENVIRONMENT: staging}")
    config = load_config(write_envdir(tmp_path / "environments", variant_files))
    dev = config.env("dev")
    with pytest.raises(InputError, match=r"function\.environment\.ENVIRONMENT is set by the pipeline"):
        render_function(config, dev, dev.targets[0])


def test_two_envs_sharing_a_deploy_role_in_one_account_are_refused(tmp_path, variant_files):
    variant_files["prod.yml"] = variant_files["prod.yml"].replace('account: "777777777777"',
                                                                  'account: "555555555555"', 1)
    variant_files["prod.yml"] += "deploy_role: shop-deploy\n"
    config = load_config(write_envdir(tmp_path / "environments", variant_files))
    with pytest.raises(InputError, match="both use deploy_role 'shop-deploy' in account 555555555555"):
        render_all(config)


def test_codebuild_staging_directly_may_write_every_replica(variant_config):
    from pipeline.infra.render import render_pipeline

    body = render_pipeline(variant_config).body
    assert "Sid: StageReplicas" in body
    for region in ("eu-central-1", "us-east-1"):
        assert f"shop-artifacts-999999999999-{region}/artifacts/shop/*" in body
        assert f"kms:{region}:999999999999:key/*" in body
