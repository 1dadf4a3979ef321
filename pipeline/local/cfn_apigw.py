"""CloudFormation providers for an HTTP API in front of a Lambda alias: moto's CloudFormation has none.

moto 5.2 models no `AWS::ApiGatewayV2::*` type (its apigatewayv2 backend has the API calls only) and
its `AWS::Lambda::Permission` appends the raw properties to the function's policy (Qualifier ignored,
no update, no delete). Each model here writes through moto's apigatewayv2 / Lambda backend of the
stack's account and region, as the API call would, so GetApi, GetRoutes, GetIntegrations, GetStages and
Lambda's GetPolicy see what the stack made; update and delete do the same. What API Gateway or Lambda
would refuse (a route naming no integration of its API, an integration on a function or alias that
does not exist, a WebSocket API, a permission on a missing alias) raises, so `cfn_ops` fails the
resource and the stack rolls back, as on AWS. `!Ref`: the ApiId, IntegrationId, RouteId, stage name,
and the permission's statement id; `!GetAtt Api.ApiEndpoint` is where the emulator serves the API
(`apigw_layer`). `install()` is idempotent.
"""

from __future__ import annotations

from typing import Any

from pipeline.local.cfn_apigw_props import (
    ProviderError,
    api_of,
    backend,
    integration_args,
    route_args,
    stage_config,
)

_INSTALLED = False
TYPES = ("AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Integration", "AWS::ApiGatewayV2::Route",
         "AWS::ApiGatewayV2::Stage", "AWS::Lambda::Permission")
def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.cloudformation import parsing

    _define_models()
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
    ours = (__name__, "pipeline.local.cfn_permission")
    wrong = [t for t in TYPES if getattr(parsing.resource_class_from_type(t), "__module__", "") not in ours]
    if wrong:
        raise RuntimeError(f"moto's CloudFormation did not pick up the emulator's {wrong}")
    _INSTALLED = True


def _define_models() -> None:
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
    from moto.core.common_models import CloudFormationModel

    from pipeline.local import cfn_permission

    class _Part:
        """A handle on what the backend owns (a mixin: moto finds models among CloudFormationModel's direct
        subclasses only): the physical id, the API it belongs to, GetAtt values."""

        TYPE = ""
        ATTRS: tuple[str, ...] = ()

        def __init__(self, physical_id: str, api_id: str, attrs: dict[str, str] | None = None) -> None:
            self.physical_id, self.api_id, self.attrs = physical_id, api_id, attrs or {}

        @property
        def physical_resource_id(self) -> str:
            return self.physical_id

        @classmethod
        def cloudformation_type(cls) -> str:
            return cls.TYPE

        @classmethod
        def cloudformation_name_type(cls) -> str:
            return ""

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
        def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                            account_id: str, region_name: str) -> None:
            props = cloudformation_json.get("Properties") or {}
            cls(resource_name, str(props.get("ApiId", resource_name))).delete(account_id, region_name)

        def delete(self, account_id: str, region_name: str) -> None:
            raise NotImplementedError

    class StackApi(_Part, CloudFormationModel):
        TYPE = "AWS::ApiGatewayV2::Api"
        ATTRS = ("ApiEndpoint", "ApiId")

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                            account_id: str, region_name: str, **kwargs: Any) -> StackApi:
            props = cloudformation_json["Properties"]
            cls._check(props)
            api = backend(account_id, region_name).create_api(
                api_key_selection_expression=None, cors_configuration=props.get("CorsConfiguration"),
                description=props.get("Description"), disable_schema_validation=None,
                disable_execute_api_endpoint=props.get("DisableExecuteApiEndpoint"), name=props["Name"],
                protocol_type="HTTP", route_selection_expression=props.get("RouteSelectionExpression"),
                tags=props.get("Tags") or {}, version=props.get("Version"))
            return cls(api.api_id, api.api_id, {"ApiId": api.api_id, "ApiEndpoint": api.api_endpoint})

        @staticmethod
        def _check(props: dict[str, Any]) -> None:
            if props.get("ProtocolType") != "HTTP":
                raise ProviderError(f"The emulator serves ProtocolType HTTP only, not {props.get('ProtocolType')!r}")
            unsupported = [k for k in ("Body", "BodyS3Location", "Target", "RouteKey", "CredentialsArn") if k in props]
            if unsupported:
                raise ProviderError(f"The emulator does not implement {', '.join(unsupported)} on an HTTP API")
            if not props.get("Name"):
                raise ProviderError("Name is required for an HTTP API")

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                            cloudformation_json: dict[str, Any], account_id: str,
                                            region_name: str) -> StackApi:
            props = cloudformation_json["Properties"]
            cls._check(props)
            api = api_of(account_id, region_name, original_resource.physical_id)
            api.update(api_key_selection_expression=None, cors_configuration=props.get("CorsConfiguration"),
                       description=props.get("Description"), disable_schema_validation=None,
                       disable_execute_api_endpoint=props.get("DisableExecuteApiEndpoint"), name=props["Name"],
                       route_selection_expression=props.get("RouteSelectionExpression"), version=props.get("Version"))
            return cls(api.api_id, api.api_id, {"ApiId": api.api_id, "ApiEndpoint": api.api_endpoint})

        def delete(self, account_id: str, region_name: str) -> None:
            backend(account_id, region_name).delete_api(self.physical_id)

    class StackIntegration(_Part, CloudFormationModel):
        TYPE = "AWS::ApiGatewayV2::Integration"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                            account_id: str, region_name: str, **kwargs: Any) -> StackIntegration:
            props = cloudformation_json["Properties"]
            api = api_of(account_id, region_name, props["ApiId"])
            integration = api.create_integration(**integration_args(props))
            return cls(integration.id, api.api_id)

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                            cloudformation_json: dict[str, Any], account_id: str,
                                            region_name: str) -> StackIntegration:
            props = cloudformation_json["Properties"]
            api = api_of(account_id, region_name, props["ApiId"])
            if original_resource is None or original_resource.api_id != api.api_id \
                    or original_resource.physical_id not in api.integrations:  # another API: replacement
                made = cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id,
                                                           region_name)
                if original_resource is not None:
                    original_resource.delete(account_id, region_name)
                return made
            args = integration_args(props)
            integration = api.integrations[original_resource.physical_id]
            integration.integration_uri = args["integration_uri"]
            integration.description = args["description"]
            integration.integration_method = args["integration_method"]
            integration.timeout_in_millis = int(args["timeout_in_millis"] or 30000)
            return cls(integration.id, api.api_id)

        def delete(self, account_id: str, region_name: str) -> None:
            api = backend(account_id, region_name).apis.get(self.api_id)
            if api is not None:
                api.integrations.pop(self.physical_id, None)

    class StackRoute(_Part, CloudFormationModel):
        TYPE = "AWS::ApiGatewayV2::Route"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                            account_id: str, region_name: str, **kwargs: Any) -> StackRoute:
            props = cloudformation_json["Properties"]
            api = api_of(account_id, region_name, props["ApiId"])
            route = api.create_route(**route_args(api, props))
            return cls(route.route_id, api.api_id)

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                            cloudformation_json: dict[str, Any], account_id: str,
                                            region_name: str) -> StackRoute:
            props = cloudformation_json["Properties"]
            api = api_of(account_id, region_name, props["ApiId"])
            if original_resource is None or original_resource.api_id != api.api_id \
                    or original_resource.physical_id not in api.routes:
                if original_resource is not None:
                    original_resource.delete(account_id, region_name)
                return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id,
                                                           region_name)
            args = route_args(api, props, original_resource.physical_id)
            route = api.routes[original_resource.physical_id]
            route.route_key, route.target, route.operation_name = args["route_key"], args["target"], \
                args["operation_name"]
            return cls(route.route_id, api.api_id)

        def delete(self, account_id: str, region_name: str) -> None:
            api = backend(account_id, region_name).apis.get(self.api_id)
            if api is not None:
                api.routes.pop(self.physical_id, None)

    class StackStage(_Part, CloudFormationModel):
        TYPE = "AWS::ApiGatewayV2::Stage"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                            account_id: str, region_name: str, **kwargs: Any) -> StackStage:
            props = cloudformation_json["Properties"]
            api = api_of(account_id, region_name, props["ApiId"])
            if str(props.get("StageName", "")) in api.stages:
                raise ProviderError(f"Stage already exist: {props['StageName']}")
            stage = api.create_stage(stage_config(props))
            return cls(stage.name, api.api_id)

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                            cloudformation_json: dict[str, Any], account_id: str,
                                            region_name: str) -> StackStage:
            if original_resource is not None:
                original_resource.delete(account_id, region_name)  # the same name again: a fresh stage
            return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id,
                                                       region_name)

        def delete(self, account_id: str, region_name: str) -> None:
            api = backend(account_id, region_name).apis.get(self.api_id)
            if api is not None:
                api.stages.pop(self.physical_id, None)

    permission = cfn_permission.define(CloudFormationModel)
    _define_models.models = (StackApi, StackIntegration, StackRoute, StackStage, permission)  # type: ignore[attr-defined]
