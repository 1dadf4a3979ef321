"""The function stack's errors alarm: its metric, its name (what gates.alarms names) and who may manage it."""

from __future__ import annotations

from typing import Any

from cfnlint.api import lint

from pipeline.config.merged import Environment, PipelineConfig, Target
from pipeline.infra import naming
from pipeline.infra.cfnyaml import load_template
from pipeline.infra.render import render_function, render_target


def _alarm(config: PipelineConfig, env_name: str) -> dict[str, Any]:
    env = config.env(env_name)
    return load_template(render_function(config, env, env.targets[0]).body)["Resources"]["ErrorsAlarm"]


def _statements(config: PipelineConfig, env: Environment, target: Target, role: str) -> list[dict[str, Any]]:
    resources = load_template(render_target(config, env, target).body)["Resources"]
    return [s for policy in resources[role]["Properties"]["Policies"]
            for s in policy["PolicyDocument"]["Statement"]]


def test_function_stack_has_the_errors_alarm_on_its_function(repo_config: PipelineConfig) -> None:
    alarm = _alarm(repo_config, "prod")
    assert alarm["Type"] == "AWS::CloudWatch::Alarm"
    props = alarm["Properties"]
    assert props["AlarmName"] == "greeter-prod-errors" == naming.errors_alarm_name(repo_config, "prod")
    assert (props["Namespace"], props["MetricName"], props["Statistic"]) == ("AWS/Lambda", "Errors", "Sum")
    assert props["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "Function"}}]
    assert (props["Period"], props["EvaluationPeriods"], props["Threshold"]) == (60, 1, 1)
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert props["TreatMissingData"] == "notBreaching"


def test_prod_gates_on_the_alarm_its_stack_creates(repo_config: PipelineConfig) -> None:
    prod = repo_config.env("prod")
    assert naming.errors_alarm_name(repo_config, prod) in prod.gates.alarms
    assert _alarm(repo_config, "prod")["Properties"]["AlarmName"] in prod.gates.alarms


def test_alarm_name_follows_the_function_name(variant_config: PipelineConfig) -> None:
    assert _alarm(variant_config, "dev")["Properties"]["AlarmName"] == "shop-dev-errors"


def test_cfn_lint_checks_the_alarm(repo_config: PipelineConfig) -> None:
    """cfn-lint sees the alarm's properties: the repo template passes, a bad operator is an error."""
    prod = repo_config.env("prod")
    body = render_function(repo_config, prod, prod.targets[0]).body
    assert [m for m in lint(body, regions=["us-east-1"]) if m.rule.id.startswith("E")] == []
    broken = body.replace("GreaterThanOrEqualToThreshold", "AtLeast")
    assert any("AtLeast" in m.message for m in lint(broken, regions=["us-east-1"]))


def test_cloudformation_role_manages_only_that_alarm_in_each_region(variant_config: PipelineConfig) -> None:
    prod = variant_config.env("prod")
    home = prod.targets[0]
    statements = _statements(variant_config, prod, home, "CloudFormationRole")
    cloudwatch = [s for s in statements if any(str(a).startswith("cloudwatch:") for a in _list(s["Action"]))]
    assert len(cloudwatch) == 1
    (grant,) = cloudwatch
    assert {"cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms"} <= set(grant["Action"])
    assert grant["Resource"] == [
        {"Fn::Sub": f"arn:${{AWS::Partition}}:cloudwatch:{region}:${{AWS::AccountId}}:alarm:shop-prod-errors"}
        for region in ("eu-west-1", "eu-central-1")]


def test_deploy_role_reads_alarm_states(repo_config: PipelineConfig) -> None:
    prod = repo_config.env("prod")
    statements = _statements(repo_config, prod, prod.targets[0], "DeployRole")
    readers = [s for s in statements if "cloudwatch:DescribeAlarms" in _list(s["Action"])]
    assert readers and all(_list(s["Action"]) == ["cloudwatch:DescribeAlarms"] for s in readers)


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else [value]
