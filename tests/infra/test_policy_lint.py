"""Least privilege across every IAM policy in every rendered template, with doctored negatives."""

from __future__ import annotations

import shutil

import pytest

from pipeline.errors import InputError
from pipeline.infra.cfnyaml import load_template
from pipeline.infra.policylint import READ_ONLY_STAR, document_problems, template_problems
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
])
def test_checker_refuses(statement, kind, expected):
    problems = document_problems({"Version": "2012-10-17", "Statement": [statement]}, kind)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(("statement", "kind"), [
    ({"Effect": "Allow", "Action": "cloudwatch:DescribeAlarms", "Resource": "*"}, "identity"),
    ({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}, "resource"),
    ({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "kms:Decrypt", "Resource": "*"}, "key"),
])
def test_checker_allows(statement, kind):
    assert document_problems({"Version": "2012-10-17", "Statement": [statement]}, kind) == []


def test_a_doctored_template_is_refused_at_render(repo_config, tmp_path, monkeypatch):
    """Someone adds `Action: "*"` to a template: render (so validate and bootstrap) refuses with exit 2."""
    monkeypatch.chdir(tmp_path)
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, templates)
    path = templates / "target.yml.j2"
    path.write_text(path.read_text().replace("                  - lambda:ListTags\n",
                                             '                  - lambda:ListTags\n                  - "*"\n', 1))
    dev = repo_config.env("dev")
    with pytest.raises(InputError) as err:
        render_target(repo_config, dev, dev.targets[0], templates_dir=templates)
    assert str(err.value).startswith("templates/target.yml.j2: DeployRole.Policies[0]: Statement[2] (Function): "
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
