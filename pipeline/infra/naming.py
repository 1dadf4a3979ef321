"""Every name and ARN the stacks, the engine and the fast path share, derived from config in one place.

Templates, bootstrap, promote and doctor must agree on these strings; a name computed twice
drifts. Pure functions of the config: no AWS call. IAM names are global per account, so
per-region resources (the function's execution role) carry the region in their name.
"""

from __future__ import annotations

from pipeline.config.merged import Environment, PipelineConfig, Target

ARTIFACT_PREFIX = "artifacts/"
LEDGER_PREFIX = "ledger/"
LOCK_PREFIX = "locks/"
SOURCE_PREFIX = "source/"
BOOTSTRAP_VERSION_TAG = "pipeline:bootstrap-version"


def tooling_stack_name(config: PipelineConfig) -> str:
    return f"{config.name}-tooling"


def target_stack_name(config: PipelineConfig, env: Environment | str) -> str:
    return f"{config.name}-{_env(env)}-target"


def function_stack_name(config: PipelineConfig, env: Environment | str) -> str:
    return f"{config.name}-{_env(env)}-function"


def function_name(config: PipelineConfig, env: Environment | str) -> str:
    return f"{config.name}-{_env(env)}"


def errors_alarm_name(config: PipelineConfig, env: Environment | str) -> str:
    """The CloudWatch alarm the function stack creates on the function's Errors metric.

    Name it in the env's `gates.alarms` to gate promotions on it (prod.yml does).
    """
    return f"{function_name(config, env)}-errors"


def execution_role_name(config: PipelineConfig, env: Environment | str, region: str) -> str:
    """The function's execution role (one per region: IAM is global, the function is regional)."""
    return f"{config.name}-{_env(env)}-fn-{region}"


def boundary_policy_name(config: PipelineConfig, env: Environment | str) -> str:
    """Permissions boundary every execution role must carry (caps what a function stack can grant)."""
    return f"{config.name}-{_env(env)}-fn-boundary"


def cfn_exec_role_name(config: PipelineConfig, env: Environment | str) -> str:
    """The role CloudFormation assumes to deploy the function stack (pass as RoleARN)."""
    return f"{config.name}-{_env(env)}-cfn-exec"


def deploy_role_name(env: Environment) -> str:
    return env.deploy_role


def log_group_name(config: PipelineConfig, env: Environment | str) -> str:
    return f"/aws/lambda/{function_name(config, env)}"


def kms_alias_name(config: PipelineConfig) -> str:
    return f"alias/{config.name}-artifacts"


def target_parameter_name(config: PipelineConfig, env: Environment | str) -> str:
    """SSM parameter each target stack writes describing its bootstrap (for doctor/status)."""
    return f"/pipeline/{config.name}/{_env(env)}/target"


def artifact_bucket(config: PipelineConfig, region: str) -> str:
    """The artifact bucket in `region`: the home bucket in the tooling region, a replica elsewhere.

    Lambda loads code only from a bucket in the function's own region, so every region a target
    uses holds a copy of each staged artifact. Globally unique: name, tooling account, region.
    """
    return f"{config.name}-artifacts-{config.tooling.account}-{region}"


def artifact_regions(config: PipelineConfig) -> list[str]:
    """The tooling region first, then every other region any env target uses (config order)."""
    regions = [config.tooling.region]
    for env in config.environments.values():
        for target in env.targets:
            if target.region not in regions:
                regions.append(target.region)
    return regions


def replica_regions(config: PipelineConfig) -> list[str]:
    """The regions holding a replica bucket: every target region but the tooling region."""
    return artifact_regions(config)[1:]


def replica_stack_name(config: PipelineConfig, region: str) -> str:
    """The stack holding the artifact bucket and key in a replica region (tooling account)."""
    return f"{config.name}-artifacts-{region}"


def kms_alias_arn(config: PipelineConfig, region: str) -> str:
    """The artifact key of `region`'s bucket, by alias (aliases are regional: one name in every region)."""
    return f"arn:{partition(region)}:kms:{region}:{config.tooling.account}:{kms_alias_name(config)}"


def artifact_key(config: PipelineConfig, sha256: str) -> str:
    return f"{ARTIFACT_PREFIX}{config.name}/{sha256}.zip"


def manifest_key(config: PipelineConfig, sha256: str) -> str:
    return f"{ARTIFACT_PREFIX}{config.name}/{sha256}.json"


def artifact_prefix(config: PipelineConfig) -> str:
    return f"{ARTIFACT_PREFIX}{config.name}/"


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def role_arn(account: str, name: str, region: str) -> str:
    return f"arn:{partition(region)}:iam::{account}:role/{name}"


def deploy_role_arn(env: Environment, target: Target) -> str:
    return role_arn(target.account, env.deploy_role, target.region)


def cfn_exec_role_arn(config: PipelineConfig, env: Environment, target: Target) -> str:
    return role_arn(target.account, cfn_exec_role_name(config, env), target.region)


def execution_role_arn(config: PipelineConfig, env: Environment, target: Target) -> str:
    return role_arn(target.account, execution_role_name(config, env, target.region), target.region)


def promoter_role_arn(config: PipelineConfig) -> str | None:
    """The tooling account's promoter role (assumed first), when configured."""
    if config.tooling.role is None:
        return None
    return role_arn(config.tooling.account, config.tooling.role, config.tooling.region)


def pipeline_role_arns(config: PipelineConfig) -> list[str]:
    """The pipeline's own roles in the tooling account: the only writers of ledger/ and locks/,
    and the principals every deploy role trusts.

    The CodeBuild role is not one of them: in CodeBuild the same code path runs, so with
    `tooling.role` set CodeBuild assumes the promoter and acts as it (ledger writes, deploy
    roles); without it, the tooling account as a whole is trusted, CodeBuild included. Its own
    key use is admitted separately (pipeline_service_role_arns).
    """
    promoter = promoter_role_arn(config)
    return [promoter] if promoter else []


# -- the CodePipeline (tooling account, its own stack) ------------------------------------------

def pipeline_stack_name(config: PipelineConfig) -> str:
    return f"{config.name}-pipeline"


def codepipeline_name(config: PipelineConfig) -> str:
    return f"{config.name}-pipeline"


def codebuild_project_name(config: PipelineConfig) -> str:
    return f"{config.name}-pipeline"


def codebuild_role_name(config: PipelineConfig) -> str:
    return f"{config.name}-codebuild"


def codepipeline_role_name(config: PipelineConfig) -> str:
    return f"{config.name}-codepipeline"


def codebuild_role_arn(config: PipelineConfig) -> str:
    return role_arn(config.tooling.account, codebuild_role_name(config), config.tooling.region)


def codepipeline_role_arn(config: PipelineConfig) -> str:
    return role_arn(config.tooling.account, codepipeline_role_name(config), config.tooling.region)


def pipeline_service_role_arns(config: PipelineConfig) -> list[str]:
    """CodeBuild's and CodePipeline's roles: they use the artifact key for the pipeline's own artifacts.

    Not ledger writers and not trusted by deploy roles: with `tooling.role` set, CodeBuild acts
    through the promoter role like a laptop does (see pipeline_role_arns).
    """
    return [codebuild_role_arn(config), codepipeline_role_arn(config)]


def pipeline_store_prefix(config: PipelineConfig) -> str:
    """Where CodePipeline keeps its artifacts in the artifact bucket: the first 20 characters of its name."""
    return f"{codepipeline_name(config)[:20]}/"


def default_source_key(config: PipelineConfig) -> str:
    return f"{SOURCE_PREFIX}{config.name}.zip"


def deploy_stage_name(env: Environment | str) -> str:
    return f"Deploy-{_env(env)}"


def approval_action_name(env: Environment | str) -> str:
    return f"Approve-{_env(env)}"


def promote_action_name(env: Environment | str) -> str:
    """Also the action's variable namespace (its exported SMOKE_SUMMARY feeds the next approval)."""
    return f"Promote-{_env(env)}"


def home_target(env: Environment, target: Target) -> Target:
    """The env's first target in `target`'s account: the stack that owns the account's IAM roles."""
    return next(t for t in env.targets if t.account == target.account)


def regions_in_account(env: Environment, account: str) -> list[str]:
    return [t.region for t in env.targets if t.account == account]


def _env(env: Environment | str) -> str:
    return env if isinstance(env, str) else env.name


def service_function_name(config: PipelineConfig, env: Environment | str, key: str) -> str:
    """The Lambda function of the service's function `key` (`functions:`); "" is the one-function service's
    function, named as before (function_name)."""
    return function_name(config, env) if not key else f"{function_name(config, env)}-{key}"


# -- a multi-function service (`functions:`): every function in one function stack, a front door beside it -----

def front_door_stack_name(config: PipelineConfig, env: Environment | str) -> str:
    """The stack of the env's HTTP API and schedules (a service with routes or schedules), deployed after the
    function stack once every function has its `live` alias."""
    return f"{config.name}-{_env(env)}-frontdoor"


def http_api_name(config: PipelineConfig, env: Environment | str) -> str:
    return f"{config.name}-{_env(env)}"


def service_execution_role_name(config: PipelineConfig, env: Environment | str, key: str, region: str) -> str:
    """The execution role of the service's function `key` in `region` (each function its own)."""
    return f"{service_function_name(config, env, key)}-fn-{region}"


def service_log_group_name(config: PipelineConfig, env: Environment | str, key: str) -> str:
    return f"/aws/lambda/{service_function_name(config, env, key)}"


def service_errors_alarm_name(config: PipelineConfig, env: Environment | str, key: str) -> str:
    return f"{service_function_name(config, env, key)}-errors"


def schedule_rule_name(config: PipelineConfig, env: Environment | str, key: str) -> str:
    """The EventBridge rule that invokes the function `key`'s `live` alias on its schedule."""
    return f"{service_function_name(config, env, key)}-schedule"


def logical_id(key: str) -> str:
    """A `functions:` key as a CloudFormation logical id / parameter prefix: `my-fn` -> `MyFn`."""
    return "".join(part[:1].upper() + part[1:] for part in key.split("-"))
