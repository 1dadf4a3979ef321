"""Plain dicts the templates render from, built from the typed config.

Templates see only these dicts (never the pydantic/dataclass objects), so what a template
may use is listed here in one place, and a misspelt key is an undefined-variable error.
ARNs that live in the rendered stack's own partition carry `${AWS::Partition}` and are
emitted through `!Sub` by the templates' `cfn` filter.
"""

from __future__ import annotations

import json
from typing import Any

from pipeline.config.merged import Environment, PipelineConfig, Target
from pipeline.errors import InputError
from pipeline.infra import naming
from pipeline.infra.service_context import target_names

P = "${AWS::Partition}"


def _role(account: str, name: str) -> str:
    return f"arn:{P}:iam::{account}:role/{name}"


def _root(account: str) -> str:
    return f"arn:{P}:iam::{account}:root"


def _pipeline_roles(config: PipelineConfig) -> list[str]:
    roles = [config.tooling.role] if config.tooling.role else []
    return [_role(config.tooling.account, name) for name in roles]


def _common(config: PipelineConfig) -> dict[str, Any]:
    return {
        "name": config.name,
        "bucket": config.artifact_bucket,
        "artifact_prefix": naming.artifact_prefix(config),
        "ledger_prefix": naming.LEDGER_PREFIX,
        "lock_prefix": naming.LOCK_PREFIX,
        "tooling_account": config.tooling.account,
        "tooling_region": config.tooling.region,
        "kms_key_arns": f"arn:{P}:kms:{config.tooling.region}:{config.tooling.account}:key/*",
        "kms_via_s3": f"s3.{config.tooling.region}.amazonaws.com",
    }


def tooling_context(config: PipelineConfig, region: str | None = None) -> dict[str, Any]:
    """The artifact bucket and key of `region` (default: the home bucket in the tooling region).

    Each region's bucket admits only the deploy and CloudFormation roles of targets in that region.
    """
    region = region or config.tooling.region
    readers: dict[str, list[str]] = {}
    for env in config.environments.values():
        for target in env.targets:
            if target.region != region:
                continue
            roles = readers.setdefault(target.account, [])
            for arn in (_role(target.account, env.deploy_role),
                        _role(target.account, naming.cfn_exec_role_name(config, env))):
                if arn not in roles:
                    roles.append(arn)
    pipeline = _pipeline_roles(config)
    service_roles = [_role(config.tooling.account, name) for name in
                     (naming.codebuild_role_name(config), naming.codepipeline_role_name(config))]
    home = region == config.tooling.region
    return {
        **_common(config),
        "bucket": naming.artifact_bucket(config, region),
        "kms_via_s3": f"s3.{region}.amazonaws.com",
        "kms_alias": naming.kms_alias_name(config),
        "pipeline_roles": pipeline,
        # with exact pipeline roles, the key names its users: those plus CodeBuild and CodePipeline
        "key_user_roles": pipeline + service_roles if pipeline else [],
        "source_events": home and _source(config).get("bucket") == config.artifact_bucket,
        "reader_accounts": [_root(account) for account in readers],
        "reader_roles": [arn for roles in readers.values() for arn in roles],
        # IAM is global: the promoter role is made once, by the home stack, for every region's bucket
        **(_promoter(config) if home else {"promoter_role": None}),
    }


def _promoter(config: PipelineConfig) -> dict[str, Any]:
    """The promoter role (`tooling.role`), made by the tooling stack: who may assume it, what it may do."""
    tooling = config.tooling
    deploy_roles: list[str] = []
    for name in config.order:
        env = config.env(name)
        for target in env.targets:
            arn = _role(target.account, env.deploy_role)
            if arn not in deploy_roles:
                deploy_roles.append(arn)
    project = naming.codebuild_project_name(config)
    source = _source(config)
    regions = naming.artifact_regions(config)
    return {
        "promoter_role": tooling.role,
        "promoter_external_id": tooling.external_id,
        "operators": [arn.replace("arn:aws:", f"arn:{P}:", 1) for arn in tooling.operators]
        or [f"arn:{P}:iam::{tooling.account}:role/*"],
        "operator_accounts": sorted({_root(arn.split(":")[4]) for arn in tooling.operators})
        or [_root(tooling.account)],
        "tooling_root": _root(tooling.account),
        "codebuild_role_arn": _role(tooling.account, naming.codebuild_role_name(config)),
        "codebuild_project_arn": f"arn:{P}:codebuild:{tooling.region}:{tooling.account}:project/{project}",
        "deploy_role_arns": deploy_roles,
        "artifact_objects": [f"arn:{P}:s3:::{naming.artifact_bucket(config, r)}/{naming.artifact_prefix(config)}*"
                             for r in regions],
        "artifact_buckets": [f"arn:{P}:s3:::{naming.artifact_bucket(config, r)}" for r in regions],
        "artifact_key_arns": [f"arn:{P}:kms:{r}:{tooling.account}:key/*" for r in regions],
        "kms_via_s3_by_region": [f"s3.{r}.amazonaws.com" for r in regions],
        "tooling_stack_arn": f"arn:{P}:cloudformation:{tooling.region}:{tooling.account}:stack/"
                             f"{naming.tooling_stack_name(config)}/*",
        "source_object": f"{source['bucket']}/{source['key']}" if source["type"] == "s3" else None,
    }


def _check_iam_names(config: PipelineConfig, env: Environment, target: Target) -> None:
    """IAM names are global per account: two envs in one account must not share a deploy role."""
    for other in config.environments.values():
        if other.name != env.name and other.deploy_role == env.deploy_role and any(
                t.account == target.account for t in other.targets):
            raise InputError(f"{env.source or env.name}: environments {other.name!r} and {env.name!r} both use "
                             f"deploy_role {env.deploy_role!r} in account {target.account}; give one its own "
                             "deploy_role")


def target_context(config: PipelineConfig, env: Environment, target: Target) -> dict[str, Any]:
    _check_iam_names(config, env, target)
    account = target.account
    regions = naming.regions_in_account(env, account)
    fn = naming.function_name(config, env)
    pipeline = _pipeline_roles(config)
    names = target_names(config, env, regions)  # every function of a service; the one function otherwise
    described = {"deploy_role": env.deploy_role, "cfn_exec_role": naming.cfn_exec_role_name(config, env),
                 "function": fn, "bucket": naming.artifact_bucket(config, target.region),
                 "home_region": naming.home_target(env, target).region}
    if names["service"]:
        described["functions"] = names["function_names"]
    return {
        **_common(config),
        "env": env.name,
        "account": account,
        "region": target.region,
        "owns_iam": naming.home_target(env, target) == target,
        "home_region": naming.home_target(env, target).region,
        "regions": regions,
        "function_name": fn,
        "function_stack": naming.function_stack_name(config, env),
        "errors_alarm": naming.errors_alarm_name(config, env),
        "target_stack": naming.target_stack_name(config, env),
        "deploy_role": env.deploy_role,
        "cfn_exec_role": naming.cfn_exec_role_name(config, env),
        "boundary_policy": naming.boundary_policy_name(config, env),
        "execution_roles": [naming.execution_role_name(config, env, r) for r in regions],
        "parameter_name": naming.target_parameter_name(config, env),
        "parameter_value": json.dumps(described, sort_keys=True),
        "trusted_roles": pipeline + [arn for arn in env.promoters if arn not in pipeline],
        "trust_tooling_root": not pipeline,
        "tooling_root": _root(config.tooling.account),
        "tooling_roles_pattern": f"arn:{P}:iam::{config.tooling.account}:role/*",
        "external_id": env.external_id,
        "policy_statements": names["service_policy_statements"] if names["service"] else _statements(env),
        # the deploy and CloudFormation roles read only the artifact buckets of this account's regions
        "artifact_buckets": [naming.artifact_bucket(config, r) for r in regions],
        "kms_key_arns_by_region": [f"arn:{P}:kms:{r}:{config.tooling.account}:key/*" for r in regions],
        "kms_via_s3_by_region": [f"s3.{r}.amazonaws.com" for r in regions],
        **names,
    }


def _statements(env: Environment) -> list[dict[str, Any]]:
    return [{"effect": s.effect, "actions": list(s.actions), "resources": list(s.resources)}
            for s in env.function.policy_statements]


def function_context(config: PipelineConfig, env: Environment, target: Target) -> dict[str, Any]:
    settings = env.function
    if "ENVIRONMENT" in settings.environment:
        raise InputError(f"{env.source or env.name}: function.environment.ENVIRONMENT is set by the pipeline "
                         f"(to {env.name!r}); remove it")
    return {
        **_common(config),
        "env": env.name,
        "account": target.account,
        "region": target.region,
        "function_name": naming.function_name(config, env),
        "execution_role": naming.execution_role_name(config, env, target.region),
        "boundary_policy": naming.boundary_policy_name(config, env),
        "log_group": naming.log_group_name(config, env),
        "errors_alarm": naming.errors_alarm_name(config, env),
        "log_retention_days": settings.log_retention_days,
        "memory": settings.memory,
        "timeout": settings.timeout,
        "architecture": settings.architecture,
        "variables": {"ENVIRONMENT": env.name, **dict(sorted(settings.environment.items()))},
        "policy_statements": _statements(env),
    }


def _source(config: PipelineConfig) -> dict[str, Any]:
    source = config.source
    if source is None or source.type == "s3":
        return {"type": "s3", "bucket": (source.bucket if source else None) or config.artifact_bucket,
                "key": (source.key if source else None) or naming.default_source_key(config)}
    return {"type": "codeconnections", "connection_arn": source.connection_arn, "repository": source.repository,
            "branch": source.branch}


def _variables(**values: str) -> str:
    """A CodeBuild action's EnvironmentVariables: a JSON string (CodePipeline resolves #{...} in values)."""
    return json.dumps([{"name": k, "value": v, "type": "PLAINTEXT"} for k, v in values.items()],
                      separators=(",", ":"))


def _stages(config: PipelineConfig) -> list[dict[str, Any]]:
    """One Deploy-<env> stage per env in `order`; an approval action first where gates.approval is set."""
    stages = []
    for i, name in enumerate(config.order):
        env = config.env(name)
        approval = None
        if env.gates.approval:
            previous = env.gates.requires or (config.order[i - 1] if i else None)
            smoke = (f" Smoke in {previous}: #{{{naming.promote_action_name(previous)}.SMOKE_SUMMARY}}"
                     f" (pipeline history --env {previous})." if previous else "")
            approval = {"action": naming.approval_action_name(env),
                        "message": f"Promote artifact #{{BuildVariables.ARTIFACT_SHA}} to {name}?{smoke} "
                                   "Your approval (identity and comment) goes into the ledger."}
        stages.append({
            "env": name, "stage": naming.deploy_stage_name(env), "approval": approval,
            "action": naming.promote_action_name(env),
            "variables": _variables(PIPELINE_ACTION="promote", PIPELINE_ENV=name,
                                    ARTIFACT_SHA="#{BuildVariables.ARTIFACT_SHA}",
                                    CODEPIPELINE_EXECUTION_ID="#{codepipeline.PipelineExecutionId}"),
        })
    return stages


def pipeline_context(config: PipelineConfig) -> dict[str, Any]:
    """The CodePipeline stack: Source -> Build -> Deploy-<env> per env in order, all CodeBuild actions."""
    tooling = config.tooling
    project = naming.codebuild_project_name(config)
    pipeline = naming.codepipeline_name(config)
    direct = tooling.role is None  # no promoter hop: CodeBuild itself writes the ledger and assumes deploy roles
    deploy_roles = []
    for name in config.order:
        env = config.env(name)
        for target in env.targets:
            arn = _role(target.account, env.deploy_role)
            if arn not in deploy_roles:
                deploy_roles.append(arn)
    promoter = _pipeline_roles(config)
    return {
        **_common(config),
        "pipeline_name": pipeline,
        "pipeline_arn": f"arn:{P}:codepipeline:{tooling.region}:{tooling.account}:{pipeline}",
        "project": project,
        "project_arn": f"arn:{P}:codebuild:{tooling.region}:{tooling.account}:project/{project}",
        "log_group": f"/aws/codebuild/{project}",
        "log_retention_days": config.function_defaults.log_retention_days,
        "codebuild_role": naming.codebuild_role_name(config),
        "codepipeline_role": naming.codepipeline_role_name(config),
        "events_role": f"{config.name}-pipeline-events",
        "kms_alias": naming.kms_alias_name(config),
        "replica_buckets": [naming.artifact_bucket(config, r) for r in naming.replica_regions(config)],
        "replica_key_arns": [f"arn:{P}:kms:{r}:{tooling.account}:key/*" for r in naming.replica_regions(config)],
        "kms_alias_arn": f"arn:{P}:kms:{tooling.region}:{tooling.account}:{naming.kms_alias_name(config)}",
        "store_prefix": naming.pipeline_store_prefix(config),
        "source": _source(config),
        "assume_roles": deploy_roles if direct else promoter,
        "direct": direct,
        "build_variables": _variables(PIPELINE_ACTION="build", **({} if config.build_tests else
                                                                   {"PIPELINE_SKIP_TESTS": "1"})),
        "stages": _stages(config),
    }
