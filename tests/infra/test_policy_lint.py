"""Least privilege across every IAM policy in every rendered template, with doctored negatives."""

from __future__ import annotations

import json
import shutil

import pytest

from pipeline.errors import InputError
from pipeline.infra.cfnyaml import load_template
from pipeline.infra.policylint import READ_ONLY_STAR, document_problems, policy_problems, template_problems
from pipeline.infra.render import TEMPLATES_DIR, render_all, render_target


def _all_statements(body: str) -> list[tuple[str, dict]]:
    """Every statement of every policy-shaped document, found by walking the whole template."""
    found = []

    def walk(node, path):
        if isinstance(node, dict):
            if "Statement" in node:
                statements = node["Statement"]
                found.extend((path, s) for s in (statements if isinstance(statements, list) else [statements]))
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")

    walk(load_template(body)["Resources"], "Resources")
    return found


@pytest.mark.parametrize("which", ["repo_config", "variant_config"])
def test_rendered_policies_are_least_privilege(which, request):
    rendered = render_all(request.getfixturevalue(which))
    for r in rendered:
        assert template_problems(r.body, r.stack_name) == []
    # Independent of the checker: walk every statement directly.
    for r in rendered:
        for path, statement in _all_statements(r.body):
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            assert "*" not in actions, (r.stack_name, path)
            if statement["Effect"] == "Allow":
                assert not any(isinstance(a, str) and a.endswith(":*") for a in actions), (r.stack_name, path)
                assert statement.get("Principal") not in ("*", {"AWS": "*"}), (r.stack_name, path)
                assert "NotAction" not in statement and "NotResource" not in statement
                resources = statement.get("Resource", [])
                resources = [resources] if isinstance(resources, str) else resources
                if "*" in resources and "KeyPolicy" not in path:
                    assert set(actions) <= READ_ONLY_STAR, (r.stack_name, path, actions)


def test_every_policy_kind_is_inspected(repo_config):
    """The checker reaches trust, role, managed, bucket and key policies (a path it skips would hide '*')."""
    bodies = {r.kind + (r.env or ""): r.body for r in render_all(repo_config)}
    target = bodies["targetdev"].replace("- lambda:InvokeFunction", '- "*"', 1)
    assert any("DeployRole.Policies[0]" in p and 'action "*"' in p for p in template_problems(target, "t"))
    boundary = bodies["targetdev"].replace("- logs:CreateLogStream", "- logs:*", 1)
    assert any("FunctionBoundary.PolicyDocument" in p for p in template_problems(boundary, "t"))
    trust = bodies["targetdev"].replace("Principal:\n              Service: cloudformation.amazonaws.com",
                                        'Principal:\n              AWS: "*"', 1)
    assert trust != bodies["targetdev"]
    assert any("CloudFormationRole.AssumeRolePolicyDocument" in p and "wildcard" in p
               for p in template_problems(trust, "t"))
    bucket = bodies["tooling"].replace("- s3:GetObjectVersion", "- s3:*", 1)
    assert any("ArtifactBucketPolicy.PolicyDocument" in p and "whole service" in p
               for p in template_problems(bucket, "t"))
    key = bodies["tooling"].replace("- kms:TagResource", '- "*"', 1)
    assert any("ArtifactKey.KeyPolicy" in p for p in template_problems(key, "t"))
    fn = bodies["functiondev"].replace("- logs:PutLogEvents", '- "*"', 1)
    assert any("ExecutionRole.Policies[0]" in p for p in template_problems(fn, "t"))


@pytest.mark.parametrize(("statement", "kind", "expected"), [
    ({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b"}, "identity", 'action "*"'),
    ({"Effect": "Deny", "Action": "*", "Resource": "arn:aws:s3:::b"}, "identity", 'action "*"'),
    ({"Effect": "Allow", "Action": "iam:*", "Resource": "arn:aws:iam::1:role/x"}, "identity", "whole service"),
    ({"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "*"}, "identity", 'Resource "*"'),
    ({"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "*", "Principal": {"AWS": "arn:aws:iam::1:root"}},
     "resource", 'Resource "*"'),
    ({"Effect": "Allow", "NotAction": "iam:CreateUser", "Resource": "arn:aws:s3:::b"}, "identity", "NotAction"),
    ({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": "*"}, "trust", 'Principal "*"'),
    ({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "*"}}, "trust", "wildcard"),
    ({"Effect": "Allow", "Action": "sts:AssumeRole"}, "trust", "no Principal"),
    # gaps closed: partial wildcards, whole accounts without a condition, odd trust actions, wide ARNs, Effect typos
    ({"Effect": "Allow", "Action": "s3:Put*", "Resource": "arn:aws:s3:::b/*"}, "identity", "'s3:Put*' is a wildcard"),
    ({"Effect": "Allow", "Action": "iam:*Role*", "Resource": "arn:aws:iam::1:role/x"}, "identity", "is a wildcard"),
    ({"Effect": "Allow", "Action": "kms:Create*", "Resource": "*",
      "Principal": {"AWS": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}, "key", "'kms:Create*' is a wildcard"),
    ({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "sts:AssumeRole"},
     "trust", "whole account with no Condition"),
    ({"Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "sts:AssumeRole"}, "trust",
     "whole account with no Condition"),
    ({"Effect": "Allow", "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::444444444444:root"}},
      "Action": "sts:AssumeRole"}, "trust", "whole account with no Condition"),
    ({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"}, "Action": "s3:GetObject",
      "Resource": "arn:aws:s3:::b/*"}, "resource", "whole account with no Condition"),
    ({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"}, "Action": "kms:Decrypt",
      "Resource": "*"}, "key", "whole account with no Condition"),
    ({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": ["sts:AssumeRole",
      "iam:PassRole"]}, "trust", "not iam:PassRole"),
    ({"Effect": "Allow", "Principal": {"Service": "*.amazonaws.com"}, "Action": "sts:AssumeRole"}, "trust",
     "wildcard"),
    ({"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::*"}, "identity", "every account or"),
    ({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::*:role/x"}, "identity",
     "every account or"),
    ({"Effect": "allow", "Action": "*", "Resource": "*"}, "identity", "must be exactly Allow or Deny"),
    ({"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::1:role/x"}, "Action": "s3:GetObject",
      "Resource": "arn:aws:s3:::b/*"}, "resource", "NotPrincipal"),
])
def test_checker_refuses(statement, kind, expected):
    problems = document_problems({"Version": "2012-10-17", "Statement": [statement]}, kind)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(("statement", "kind"), [
    ({"Effect": "Allow", "Action": "cloudwatch:DescribeAlarms", "Resource": "*"}, "identity"),
    ({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}, "resource"),
    ({"Effect": "Allow", "Principal": {"AWS": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"},
      "Action": "kms:Decrypt", "Resource": "*"}, "key"),
    ({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "sts:AssumeRole",
      "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111111111111:role/pipeline-*"}}}, "trust"),
    ({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:role/deployer"},
      "Action": ["sts:AssumeRole", "sts:TagSession"]}, "trust"),
    ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/artifacts/*"}, "identity"),
])
def test_checker_allows(statement, kind):
    assert document_problems({"Version": "2012-10-17", "Statement": [statement]}, kind) == []


def test_a_doctored_template_is_refused_at_render(repo_config, tmp_path, monkeypatch):
    """Someone adds `Action: "*"` to a template: render (so validate and bootstrap) refuses with exit 2."""
    monkeypatch.chdir(tmp_path)
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, templates)
    path = templates / "target.yml.j2"
    path.write_text(path.read_text().replace("                  - lambda:InvokeFunction\n",
                                             '                  - lambda:InvokeFunction\n                  - "*"\n', 1))
    dev = repo_config.env("dev")
    with pytest.raises(InputError) as err:
        render_target(repo_config, dev, dev.targets[0], templates_dir=templates)
    assert str(err.value).startswith("templates/target.yml.j2: DeployRole.Policies[0]: Statement[4] (Function): "
                                     'action "*"')
    assert err.value.exit_code == 2


def test_config_write_on_every_resource_is_refused(tmp_path, variant_files):
    from infra.conftest import write_envdir
    from pipeline.config.load import load_config

    variant_files["dev.yml"] = variant_files["dev.yml"].replace(
        'resources: ["arn:aws:dynamodb:eu-west-1:555555555555:table/orders"]', 'resources: ["*"]')
    config = load_config(write_envdir(tmp_path / "environments", variant_files))
    with pytest.raises(InputError, match=r'Resource "\*" with actions .*dynamodb:PutItem'):
        render_all(config)


def _doctored(rtype: str, properties: dict) -> dict:
    return {"Resources": {"Doctored": {"Type": rtype, "Properties": properties}}}


ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@pytest.mark.parametrize(("rtype", "properties", "expected"), [
    # where policies hide: every one of these was skipped before (or could be)
    ("AWS::IAM::Role", {"AssumeRolePolicyDocument": json.dumps(ADMIN)}, 'action "*"'),
    ("AWS::IAM::ManagedPolicy", {"PolicyDocument": json.dumps(ADMIN)}, 'action "*"'),
    ("AWS::IAM::ManagedPolicy", {"PolicyDocument": "{not json"}, "string that is not JSON"),
    ("AWS::IAM::ManagedPolicy", {"PolicyDocument": {"Fn::Sub": json.dumps(ADMIN)}}, "intrinsic function"),
    ("AWS::IAM::Role", {"ManagedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"]}, "whole services"),
    ("AWS::IAM::Role", {"ManagedPolicyArns": [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonS3FullAccess"}]},
     "whole services"),
    ("AWS::IAM::Role", {"ManagedPolicyArns": ["arn:aws:iam::aws:policy/job-function/NetworkAdministrator",
                                              "arn:aws:iam::aws:policy/PowerUserAccess"]}, "ManagedPolicyArns[1]"),
    ("AWS::Lambda::Permission", {"Action": "lambda:InvokeFunction", "FunctionName": "f", "Principal": "*"},
     "lets anyone invoke"),
    ("AWS::Lambda::Permission", {"Action": "lambda:InvokeFunction", "FunctionName": "f",
                                 "Principal": "222222222222"}, "without SourceArn"),
    ("AWS::SNS::TopicPolicy", {"Topics": ["t"], "PolicyDocument": {"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": "t"}]}}, 'Principal "*"'),
    ("AWS::SQS::QueuePolicy", {"Queues": ["q"], "PolicyDocument": {"Statement": [
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "q"}]}}, "no Principal"),
    ("AWS::ECR::Repository", {"RepositoryPolicyText": {"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "ecr:BatchGetImage"}]}}, "wildcard"),
    ("AWS::Some::FutureThing", {"Deep": {"Nested": [{"Policy": ADMIN}]}}, "Doctored.Deep.Nested[0].Policy"),
])
def test_policies_anywhere_in_a_resource_are_checked(rtype, properties, expected):
    problems = policy_problems(_doctored(rtype, properties), "t")
    assert any(expected in p for p in problems), problems


def _render_functions() -> list:
    """Every public render_* function of every pipeline.infra module: a new one is linted without a list."""
    import importlib
    import inspect
    import pkgutil

    import pipeline.infra

    found = []
    for module_info in pkgutil.iter_modules(pipeline.infra.__path__):
        module = importlib.import_module(f"pipeline.infra.{module_info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("render_") and fn.__module__ == module.__name__ and name != "render_all":
                found.append(fn)
    return found


def _sandbox_functions(config) -> tuple:
    """A service's sandbox functions: one with routes and a policy statement, one on a schedule."""
    from pipeline.config.files import FunctionSettings
    from pipeline.config.plain import plain
    from pipeline.config.routes import parse_route
    from pipeline.config.values import FunctionSettings as Values
    from pipeline.core.sandbox_service import SandboxFunction

    statements = plain(FunctionSettings(policy_statements=[{"actions": ["s3:GetObject"],
                                                            "resources": ["arn:aws:s3:::b/*"]}])).policy_statements
    base = f"{config.name}-sbx-alice"
    api = Values(handler="api", routes=(parse_route("GET /health"),), policy_statements=statements,
                 reserved_concurrency=2)
    worker = Values(handler="worker", schedule="rate(1 minute)")
    return (SandboxFunction("api", f"{base}-api", f"/aws/lambda/{base}-api", api),
            SandboxFunction("worker", f"{base}-worker", f"/aws/lambda/{base}-worker", worker))


def _arguments(fn, config) -> list[dict]:
    """Calls of `fn` over every env and target of `config`, arguments made from parameter names."""
    import inspect

    from pipeline.config.files import FunctionSettings
    from pipeline.core.sandbox import names as sandbox_names
    from pipeline.infra import naming

    params = inspect.signature(fn).parameters
    envs = [config.env(name) for name in config.order]
    calls = [{}]
    if "env" in params:
        calls = [{"env": env, **({"target": t} if "target" in params else {})} for env in envs for t in env.targets]
    known = {"config": config, "config_name": config.name, "templates_dir": None, "tags": {"pipeline:owner": "dev"},
             "settings": FunctionSettings(policy_statements=[{"actions": ["s3:GetObject"], "resources": [
                 "arn:aws:s3:::b/*"]}]),
             "sbx": sandbox_names(config.name, "alice", "123456789012", config.region),
             "functions": _sandbox_functions(config),
             # render_replica: a replica region when the config has one, else the tooling region's bucket
             "region": next(iter(naming.replica_regions(config)), config.tooling.region)}
    missing = [p for p in params if p not in known and p not in ("env", "target")
               and params[p].default is inspect.Parameter.empty]
    assert not missing, f"{fn.__module__}.{fn.__name__}: teach this test to make {missing}"
    return [{**{p: known[p] for p in params if p in known}, **call} for call in calls]


@pytest.mark.parametrize("which", ["repo_config", "variant_config"])
def test_every_template_is_rendered_and_every_policy_in_it_linted(which, request, monkeypatch):
    """Discover render functions, render everything, and see every templates/*.yml.j2 pass the lint."""
    from pipeline.infra import render as render_module

    config = request.getfixturevalue(which)
    linted: dict[str, list] = {}
    original = render_module.policy_problems

    def recording(template, name):
        linted.setdefault(name.rsplit("/", 1)[-1], []).append(template)
        return original(template, name)

    monkeypatch.setattr(render_module, "policy_problems", recording)
    for fn in _render_functions():
        for kwargs in _arguments(fn, config):
            fn(**kwargs)
    templates = {p.name for p in TEMPLATES_DIR.glob("*.yml.j2")}
    assert templates - set(linted) == set(), "templates no render_* function renders (so nothing lints them)"
    for name, parsed_all in linted.items():
        for parsed in parsed_all:
            assert original(parsed, name) == []
            for path, statement in _walk_statements(parsed["Resources"], "Resources"):
                actions = [statement.get("Action")] if isinstance(statement.get("Action"), str) \
                    else statement.get("Action") or []
                if statement.get("Effect") == "Allow":
                    assert not any("*" in a for a in actions if isinstance(a, str)), (name, path, actions)
                    principal = statement.get("Principal")
                    assert principal != "*" and not (isinstance(principal, dict) and "*" in json.dumps(principal)), \
                        (name, path)


def _walk_statements(node, path):
    if isinstance(node, dict):
        if "Statement" in node:
            statements = node["Statement"]
            yield from ((path, s) for s in (statements if isinstance(statements, list) else [statements]))
        for key, value in node.items():
            yield from _walk_statements(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk_statements(value, f"{path}[{i}]")
