"""What API Gateway checks in an HTTP API's CloudFormation properties, and their API-call form (`cfn_apigw`).

Each function takes a resource's Properties and either returns the arguments moto's apigatewayv2 backend
takes, or raises `ProviderError` with what API Gateway would answer (the resource then fails, `cfn_ops`).
Only what the product's templates need is accepted: an HTTP API, Lambda proxy integrations with payload
format 2.0, routes without authorizers; anything else is refused by name rather than half modelled.
"""

from __future__ import annotations

import re
from typing import Any

from pipeline.local import apigw_routes

# An integration's URI: a function ARN (optionally qualified) or API Gateway's invocation URI around one.
_INVOKE_URI = re.compile(r"^arn:[\w-]+:apigateway:[\w-]+:lambda:path/2015-03-31/functions/(?P<arn>.+)/invocations$")
_FUNCTION_ARN = re.compile(r"^arn:[\w-]+:lambda:(?P<region>[\w-]+):(?P<account>\d{12}):function:(?P<name>[^:]+)"
                           r"(?::(?P<qualifier>[^:]+))?$")

class ProviderError(Exception):
    """What the service's API would answer (the resource fails with this message)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

def backend(account_id: str, region_name: str) -> Any:
    from moto.apigatewayv2.models import apigatewayv2_backends

    return apigatewayv2_backends[account_id][region_name]

def api_of(account_id: str, region_name: str, api_id: str) -> Any:
    found = backend(account_id, region_name).apis.get(str(api_id))
    if found is None:
        raise ProviderError(f"Invalid API identifier specified {account_id}:{api_id}")
    return found

def lambda_target(uri: str) -> tuple[str, str, str, str | None]:
    """(account, region, function name, qualifier) an integration URI names."""
    inner = _INVOKE_URI.match(uri)
    match = _FUNCTION_ARN.match(inner["arn"] if inner else uri)
    if match is None:
        raise ProviderError(f"Invalid integration URI specified: {uri}")
    return match["account"], match["region"], match["name"], match["qualifier"]

def _check_function(uri: str) -> None:
    from moto.awslambda.models import lambda_backends

    account, region, name, qualifier = lambda_target(uri)
    try:
        lambda_backends[account][region].get_function(name, qualifier)
    except Exception:
        raise ProviderError(f"Invalid integration URI specified: function {uri} does not exist") from None

def integration_args(props: dict[str, Any]) -> dict[str, Any]:
    kind = props.get("IntegrationType")
    if kind != "AWS_PROXY":
        raise ProviderError(f"The emulator supports IntegrationType AWS_PROXY (a Lambda proxy) only, not {kind!r}")
    if str(props.get("PayloadFormatVersion", "")) not in ("1.0", "2.0"):
        raise ProviderError("PayloadFormatVersion is required for a Lambda proxy integration: '1.0' or '2.0'")
    if str(props["PayloadFormatVersion"]) != "2.0":
        raise ProviderError("The emulator serves payload format version 2.0 only")
    timeout = props.get("TimeoutInMillis")
    if timeout is not None and not 50 <= int(timeout) <= 30000:
        raise ProviderError("TimeoutInMillis must be between 50 and 30000 for an HTTP API")
    uri = str(props.get("IntegrationUri") or "")
    _check_function(uri)
    return {"connection_id": None, "connection_type": props.get("ConnectionType", "INTERNET"),
            "content_handling_strategy": None, "credentials_arn": props.get("CredentialsArn"),
            "description": props.get("Description", ""), "integration_method": props.get("IntegrationMethod", "POST"),
            "integration_subtype": None, "integration_type": kind, "integration_uri": uri,
            "passthrough_behavior": None, "payload_format_version": "2.0", "request_parameters": None,
            "request_templates": None, "response_parameters": None, "template_selection_expression": None,
            "timeout_in_millis": str(timeout) if timeout is not None else None, "tls_config": None}

def route_args(api: Any, props: dict[str, Any], route_id: str | None = None) -> dict[str, Any]:
    key = str(props.get("RouteKey") or "")
    try:
        apigw_routes.parse_route_key(key)
    except apigw_routes.RouteKeyError as exc:
        raise ProviderError(str(exc)) from None
    if any(r.route_key == key and r.route_id != route_id for r in api.routes.values()):
        raise ProviderError(f"Route with key {key} already exists for this API")
    target = props.get("Target")
    if target is not None:
        integration = str(target).removeprefix("integrations/")
        if not str(target).startswith("integrations/") or integration not in api.integrations:
            raise ProviderError(f"Invalid target specified: {target}: no integration {integration} in API {api.api_id}")
    if props.get("AuthorizationType", "NONE") != "NONE":
        raise ProviderError("The emulator supports AuthorizationType NONE only")
    return {"api_key_required": False, "authorization_scopes": [], "authorization_type": "NONE",
            "authorizer_id": None, "model_selection_expression": None, "operation_name": props.get("OperationName"),
            "request_models": None, "request_parameters": None, "route_key": key,
            "route_response_selection_expression": None, "target": target}

def stage_config(props: dict[str, Any]) -> dict[str, Any]:
    config = {"stageName": props["StageName"], "autoDeploy": bool(props.get("AutoDeploy", False)),
              "description": props.get("Description"), "stageVariables": props.get("StageVariables") or {},
              "tags": props.get("Tags") or {}}
    if props.get("DefaultRouteSettings"):
        from pipeline.local.cfn_providers import camel

        config["defaultRouteSettings"] = camel(props["DefaultRouteSettings"])
    return config
