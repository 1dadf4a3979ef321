"""CloudFormation providers for the resource types the product's templates use and moto drops.

moto 5.2 has no CloudFormation model for `AWS::S3::BucketPolicy`, `AWS::Lambda::Alias`,
`AWS::CodeBuild::Project` or `AWS::CodePipeline::Pipeline`: it warned and the stack completed
without them (so `bootstrap --tooling` "succeeded" with no pipeline). Each model here writes
through the service's own moto backend of the stack's account and region, as the API call would,
so GetBucketPolicy, GetAlias, ListProjects/BatchGetProjects and ListPipelines/GetPipeline see the
resource; update and delete do the same. `!Ref` answers what CloudFormation documents: the bucket
name, the alias ARN, the project name, the pipeline name. (`AWS::IAM::Role` updates and
`ManagedPolicyArns`, also dropped by moto, are `cfn_roles`.) `install()` is idempotent.
"""

from __future__ import annotations

import json
from typing import Any

from pipeline.local import s3_policy

_INSTALLED = False
TYPES = ("AWS::S3::BucketPolicy", "AWS::Lambda::Alias", "AWS::CodeBuild::Project", "AWS::CodePipeline::Pipeline")


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.cloudformation import parsing

    _define_models()
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()  # moto's registry is lru-cached: rebuild it with the new subclasses
    missing = [t for t in TYPES if parsing.resource_class_from_type(t) is None]
    if missing:
        raise RuntimeError(f"moto's CloudFormation did not pick up {missing}")
    s3_policy.install()
    _INSTALLED = True


def camel(value: Any, *, keep: frozenset[str] = frozenset()) -> Any:
    """CloudFormation's PascalCase properties as the API's camelCase (`BuildSpec` -> `buildspec`
    is the caller's business); the values under a key in `keep` are copied with string values."""
    if isinstance(value, list):
        return [camel(v, keep=keep) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = key[:1].lower() + key[1:]
        if key in keep and isinstance(item, dict):
            out[name] = {k: _text(v) for k, v in item.items()}
        else:
            out[name] = camel(item, keep=keep)
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _tags(props: dict[str, Any]) -> list[dict[str, str]]:
    return [{"key": t["Key"], "value": t["Value"]} for t in props.get("Tags") or []]


# -- the writes, one function per type ----------------------------------------------------------
def _s3(account_id: str) -> Any:
    from moto.s3.models import s3_backends

    return s3_backends[account_id]["aws"]


def _put_bucket_policy(props: dict[str, Any], account_id: str) -> str:
    bucket = props["Bucket"]
    document = props["PolicyDocument"]
    body = document if isinstance(document, str) else json.dumps(document)
    _s3(account_id).put_bucket_policy(bucket, body.encode())
    return str(bucket)


def _lambda(account_id: str, region_name: str) -> Any:
    from moto.awslambda.models import lambda_backends

    return lambda_backends[account_id][region_name]


def _routing(props: dict[str, Any]) -> dict[str, Any] | None:
    weights = (props.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or []
    if not weights:
        return None
    return {"AdditionalVersionWeights": {str(w["FunctionVersion"]): float(w["FunctionWeight"]) for w in weights}}


def _codebuild(account_id: str, region_name: str) -> Any:
    from moto.codebuild.models import codebuild_backends

    return codebuild_backends[account_id][region_name]


def _put_project(props: dict[str, Any], account_id: str, region_name: str) -> Any:
    source = camel(props.get("Source") or {})
    if "buildSpec" in source:
        source["buildspec"] = source.pop("buildSpec")
    logs = camel(props.get("LogsConfig")) if props.get("LogsConfig") else None
    backend = _codebuild(account_id, region_name)
    meta = backend.create_project(
        project_name=props["Name"], description=props.get("Description"), project_source=source,
        artifacts=camel(props.get("Artifacts") or {}), environment=camel(props.get("Environment") or {}),
        service_role=props["ServiceRole"], tags=_tags(props) or None, cache=camel(props.get("Cache")),
        timeout=int(props.get("TimeoutInMinutes", 60)), queued_timeout=int(props.get("QueuedTimeoutInMinutes", 480)),
        source_version=props.get("SourceVersion"), logs_config=logs, vpc_config=camel(props.get("VpcConfig")))
    if props.get("EncryptionKey"):
        meta["encryptionKey"] = props["EncryptionKey"]
    return meta


def _codepipeline(account_id: str, region_name: str) -> Any:
    from moto.codepipeline.models import codepipeline_backends

    return codepipeline_backends[account_id][region_name]


def _pipeline_structure(props: dict[str, Any]) -> dict[str, Any]:
    """AWS::CodePipeline::Pipeline properties as the API's `pipeline` structure."""
    cfn_only = {"RestartExecutionOnUpdate", "Tags", "DisableInboundStageTransitions"}
    structure = camel({k: v for k, v in props.items() if k not in cfn_only}, keep=frozenset({"Configuration"}))
    for stage in structure.get("stages", []):
        for action in stage.get("actions", []):
            action.setdefault("runOrder", 1)
    return structure


def _define_models() -> None:
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
    from moto.core.common_models import CloudFormationModel

    class _Stacked:
        """A handle on a resource some backend owns: its physical id and where it lives. (A mixin: moto
        finds models among CloudFormationModel's direct subclasses only.)"""

        TYPE = ""
        NAME_PROPERTY = ""
        ATTRS: tuple[str, ...] = ()

        def __init__(self, physical_id: str, account_id: str, region_name: str, attrs: dict[str, str]) -> None:
            self.physical_id = physical_id
            self.account_id = account_id
            self.region_name = region_name
            self.attrs = attrs

        @property
        def physical_resource_id(self) -> str:
            return self.physical_id

        @classmethod
        def cloudformation_type(cls) -> str:
            return cls.TYPE

        @classmethod
        def cloudformation_name_type(cls) -> str:
            return cls.NAME_PROPERTY

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr in cls.ATTRS

        def get_cfn_attribute(self, attribute_name: str) -> str:
            if attribute_name in self.attrs:
                return self.attrs[attribute_name]
            raise UnformattedGetAttTemplateException()

        def is_created(self) -> bool:
            return True

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                            cloudformation_json: dict[str, Any], account_id: str,
                                            region_name: str) -> Any:
            if original_resource is not None:
                original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

        @classmethod
        def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                            account_id: str, region_name: str) -> None:
            cls(resource_name, account_id, region_name, {}).delete(account_id, region_name)

    class StackBucketPolicy(_Stacked, CloudFormationModel):
        TYPE = "AWS::S3::BucketPolicy"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                            account_id: str, region_name: str, **kwargs: Any) -> StackBucketPolicy:
            bucket = _put_bucket_policy(cloudformation_json["Properties"], account_id)
            return cls(bucket, account_id, region_name, {})

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                            cloudformation_json: dict[str, Any], account_id: str,
                                            region_name: str) -> StackBucketPolicy:
            bucket = cloudformation_json["Properties"]["Bucket"]
            if original_resource is not None and original_resource.physical_id != bucket:
                original_resource.delete(account_id, region_name)  # the policy moved to another bucket
            return cls(_put_bucket_policy(cloudformation_json["Properties"], account_id), account_id, region_name, {})

        def delete(self, account_id: str, region_name: str) -> None:
            if self.physical_id in _s3(account_id).buckets:
                _s3(account_id).delete_bucket_policy(self.physical_id)

    class StackAlias(_Stacked, CloudFormationModel):
        TYPE = "AWS::Lambda::Alias"
        ATTRS = ("AliasArn",)

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                            account_id: str, region_name: str, **kwargs: Any) -> StackAlias:
            props = cloudformation_json["Properties"]
            backend = _lambda(account_id, region_name)
            function = backend.get_function(props["FunctionName"]).function_name
            alias = backend.create_alias(props["Name"], function, str(props["FunctionVersion"]),
                                         props.get("Description", ""), _routing(props))
            return cls(alias.arn, account_id, region_name, {"AliasArn": alias.arn, "function": function,
                                                             "name": props["Name"]})

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                            cloudformation_json: dict[str, Any], account_id: str,
                                            region_name: str) -> StackAlias:
            props = cloudformation_json["Properties"]
            backend = _lambda(account_id, region_name)
            function = backend.get_function(props["FunctionName"]).function_name
            old = original_resource.attrs if original_resource is not None else {}
            if old.get("function") != function or old.get("name") != props["Name"]:  # replacement
                if original_resource is not None:
                    original_resource.delete(account_id, region_name)
                return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id,
                                                           region_name)
            alias = backend.update_alias(props["Name"], function, str(props["FunctionVersion"]),
                                         props.get("Description", ""), _routing(props) or {})
            return cls(alias.arn, account_id, region_name, dict(old))

        def delete(self, account_id: str, region_name: str) -> None:
            backend = _lambda(account_id, region_name)
            functions = {f.function_name for f in backend.list_functions()}
            if self.attrs.get("function") in functions:
                backend.delete_alias(self.attrs["name"], self.attrs["function"])

    class StackProject(_Stacked, CloudFormationModel):
        TYPE = "AWS::CodeBuild::Project"
        NAME_PROPERTY = "Name"
        ATTRS = ("Arn",)

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                            account_id: str, region_name: str, **kwargs: Any) -> StackProject:
            props = {"Name": resource_name, **cloudformation_json["Properties"]}
            meta = _put_project(props, account_id, region_name)
            return cls(props["Name"], account_id, region_name, {"Arn": meta["arn"]})

        def delete(self, account_id: str, region_name: str) -> None:
            backend = _codebuild(account_id, region_name)
            if self.physical_id in backend.codebuild_projects:
                backend.delete_project(self.physical_id)

    class StackPipeline(_Stacked, CloudFormationModel):
        TYPE = "AWS::CodePipeline::Pipeline"
        NAME_PROPERTY = "Name"
        ATTRS = ("Version",)

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                            account_id: str, region_name: str, **kwargs: Any) -> StackPipeline:
            props = {"Name": resource_name, **cloudformation_json["Properties"]}
            structure, _ = _codepipeline(account_id, region_name).create_pipeline(_pipeline_structure(props),
                                                                                   _tags(props) or None)
            return cls(props["Name"], account_id, region_name, {"Version": str(structure["version"])})

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                            cloudformation_json: dict[str, Any], account_id: str,
                                            region_name: str) -> StackPipeline:
            props = {"Name": new_resource_name, **cloudformation_json["Properties"]}
            backend = _codepipeline(account_id, region_name)
            if original_resource is None or original_resource.physical_id != props["Name"] \
                    or props["Name"] not in backend.pipelines:
                return super().update_from_cloudformation_json(original_resource, new_resource_name,
                                                               cloudformation_json, account_id, region_name)
            structure = backend.update_pipeline(_pipeline_structure(props))
            return cls(props["Name"], account_id, region_name, {"Version": str(structure["version"])})

        def delete(self, account_id: str, region_name: str) -> None:
            _codepipeline(account_id, region_name).delete_pipeline(self.physical_id)

    _define_models.models = (StackBucketPolicy, StackAlias, StackProject, StackPipeline)  # type: ignore[attr-defined]
