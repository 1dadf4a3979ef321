"""The emulator's execute-api: every HTTP API moto's apigatewayv2 backend holds, served on the emulator's port.

URL scheme: an API's `ApiEndpoint` (GetApi, `!GetAtt Api.ApiEndpoint`) is
`<emulator endpoint>/_execute-api/<api-id>`, e.g. `https://127.0.0.1:4566/_execute-api/abcdefgh`; on AWS it
is `https://<api-id>.execute-api.<region>.amazonaws.com`. Either way a client appends the route's path
(`<ApiEndpoint>/hello?name=x`), so the product reads ApiEndpoint from the stack output or GetApi and never
builds the URL itself. Same TLS as the emulator (its CA).

A request there is not a signed AWS call: this layer sits outside the per-call latency and IAM layers and
pays its own hop (`timing`'s `execute-api` latency). It serves the `$default` stage only, and only once it
exists with AutoDeploy on (there are no deployments in the emulator). Then, as API Gateway does: the route
(`apigw_routes.select_route`), the payload format 2.0 event, Lambda's own checks of the call
(the function's resource policy must allow `apigateway.amazonaws.com` `lambda:InvokeFunction` on the
integration's function or alias ARN with `aws:SourceArn` =
`arn:aws:execute-api:<region>:<account>:<api-id>/$default/<METHOD>/<path of the route>`, and no update window
of Lambda's may be refusing it), the invoke through the same sandbox pool as Invoke, and the answer mapped
back. Faults as AWS answers them: no stage or no route 404 `{"message":"Not Found"}`; missing permission,
missing function or alias, a function error or timeout, an unusable answer 500
`{"message":"Internal Server Error"}`; the integration's timeout (TimeoutInMillis, 30 s) passed 503
`{"message":"Service Unavailable"}`.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.datastructures import EnvironHeaders

from pipeline.local import apigw_routes

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
PREFIX = "/_execute-api/"
_SERVED: list[str] = []  # the running emulators' endpoints, the newest last
_INSTALLED = False
NOT_FOUND = (404, {"message": "Not Found"})
INTERNAL = (500, {"message": "Internal Server Error"})
UNAVAILABLE = (503, {"message": "Service Unavailable"})
MAX_BODY = 10 * 1024 * 1024  # an HTTP API's payload limit


def serve_at(endpoint_url: str) -> None:
    """Where a started emulator listens: the ApiEndpoint of every API made while it is the newest one running."""
    _SERVED.append(endpoint_url.rstrip("/"))


def unserve(endpoint_url: str) -> None:
    """That emulator stopped: APIs made later name another running one (a test's emulator inside another's)."""
    while endpoint_url.rstrip("/") in _SERVED:
        _SERVED.remove(endpoint_url.rstrip("/"))


def endpoint(api_id: str) -> str:
    return f"{_SERVED[-1] if _SERVED else ''}{PREFIX}{api_id}"


def install() -> None:
    """moto's ApiEndpoint names AWS's host: CreateApi (and CloudFormation through it) gets the emulator's URL."""
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.apigatewayv2.models import ApiGatewayV2Backend

    create_api = ApiGatewayV2Backend.create_api

    def create(self: Any, *args: Any, **kwargs: Any) -> Any:
        api = create_api(self, *args, **kwargs)
        api.api_endpoint = endpoint(api.api_id)
        return api

    ApiGatewayV2Backend.create_api = create  # type: ignore[method-assign]
    _INSTALLED = True


def layer(app: WsgiApp) -> WsgiApp:
    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):
            return app(environ, start_response)
        from pipeline.local import timing

        delay = timing.active().latency("execute-api")
        if delay > 0:
            time.sleep(delay)  # API Gateway's own hop in front of the integration
        request_id = base64.b64encode(os.urandom(10)).decode()
        status, headers, body = handle(environ, request_id)
        start_response(_status(status), [*headers, ("apigw-requestid", request_id),
                                         ("Content-Length", str(len(body)))])
        return [body]

    return serve


def _fault(fault: tuple[int, dict[str, str]]) -> tuple[int, list[tuple[str, str]], bytes]:
    return fault[0], [("Content-Type", "application/json")], json.dumps(fault[1]).encode()


def find_api(api_id: str) -> tuple[str, str, Any] | None:
    """(account, region, api) of the API with that id in any account and region."""
    from moto.apigatewayv2.models import apigatewayv2_backends

    for account, regions in list(apigatewayv2_backends.items()):
        for region, backend in list(regions.items()):
            api = backend.apis.get(api_id)
            if api is not None:
                return account, region, api
    return None


def handle(environ: dict[str, Any], request_id: str) -> tuple[int, list[tuple[str, str]], bytes]:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")
    api_id, _, rest = raw.split("?", 1)[0][len(PREFIX):].partition("/")
    found = find_api(api_id)
    if found is None:
        return _fault(NOT_FOUND)
    account, region, api = found
    stage = api.stages.get("$default")
    if stage is None or not stage.auto_deploy or api.disable_execute_api_endpoint:
        return _fault(NOT_FOUND)
    method = environ.get("REQUEST_METHOD", "GET")
    routes = []
    for route in list(api.routes.values()):
        try:
            routes.append((apigw_routes.parse_route_key(route.route_key), route))
        except apigw_routes.RouteKeyError:
            continue
    chosen = apigw_routes.select_route(routes, method, "/" + rest)
    if chosen is None:
        return _fault(NOT_FOUND)
    key, route, params = chosen
    integration = api.integrations.get(str(route.target or "").removeprefix("integrations/"))
    if integration is None:
        return _fault(NOT_FOUND)  # a route without a target has no integration to call
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length > MAX_BODY:
        return 413, [("Content-Type", "application/json")], b'{"message":"Request Entity Too Large"}'
    stream = environ["wsgi.input"]
    body = stream.read(length) if length else stream.read(MAX_BODY + 1) if environ.get("wsgi.input_terminated") \
        else b""
    if len(body) > MAX_BODY:
        return 413, [("Content-Type", "application/json")], b'{"message":"Request Entity Too Large"}'
    request = apigw_routes.Request(method, "/" + rest, environ.get("QUERY_STRING", ""), _headers(environ), body,
                                   environ.get("REMOTE_ADDR", "127.0.0.1"), environ.get("SERVER_PROTOCOL", "HTTP/1.1"))
    context = apigw_routes.Context(account, api.api_id, EnvironHeaders(environ).get("Host", ""), request_id,
                                   int(time.time() * 1000))
    event = apigw_routes.event(request, key, params, context)
    route_path = "$default" if key.is_default else f"{method.upper()}/{'/'.join(key.segments)}"
    source_arn = f"arn:aws:execute-api:{region}:{account}:{api.api_id}/$default/{route_path}"
    return _call(integration, account, region, source_arn, json.dumps(event).encode())


def _headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    headers = [(k, v) for k, v in EnvironHeaders(environ).items() if k.lower() not in ("content-length",)]
    if environ.get("CONTENT_LENGTH"):
        headers.append(("content-length", str(environ["CONTENT_LENGTH"])))
    scheme = environ.get("wsgi.url_scheme", "https")
    headers += [("x-forwarded-for", environ.get("REMOTE_ADDR", "127.0.0.1")),
                ("x-forwarded-port", str(environ.get("SERVER_PORT", ""))), ("x-forwarded-proto", scheme),
                ("x-amzn-trace-id", f"Root=1-{int(time.time()):08x}-{os.urandom(12).hex()}")]
    return headers


def _call(integration: Any, account: str, region: str, source_arn: str,
          payload: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    from pipeline.local import cfn_apigw_props as cfn_apigw
    from pipeline.local.pool import POOL
    from pipeline.local.resolve import InvokeError, resolve

    try:
        owner, fn_region, name, qualifier = cfn_apigw.lambda_target(str(integration.integration_uri or ""))
        target = resolve(f"arn:aws:lambda:{fn_region}:{owner}:function:{name}", qualifier, owner, fn_region)
    except (cfn_apigw.ProviderError, InvokeError):
        return _fault(INTERNAL)  # the function or alias is gone: AWS answers 500
    if not allowed(target.invoked_arn, owner, fn_region, name, account, source_arn):
        return _fault(INTERNAL)
    from pipeline.local.lambda_layer import refusal

    if refusal(name, "invoke", owner, fn_region) is not None:
        return _fault(INTERNAL)  # Lambda's 409 (Pending, an update in progress) reaches the client as a 500
    done: dict[str, Any] = {}

    def run() -> None:
        try:
            done["result"] = POOL.invoke(target, payload)[1]
        except InvokeError:
            done["refused"] = True  # Lambda could not assume the function's role

    worker = threading.Thread(target=run, name="execute-api-invoke", daemon=True)
    worker.start()
    worker.join(timeout=(integration.timeout_in_millis or 30000) / 1000)
    if done.get("refused"):
        return _fault(INTERNAL)
    if "result" not in done:
        return _fault(UNAVAILABLE)  # the integration timed out; the invocation runs on, as on AWS
    outcome = done["result"].outcome
    if outcome.failed:
        return _fault(INTERNAL)
    try:
        return apigw_routes.response(outcome.payload)
    except apigw_routes.BadResponse:
        return _fault(INTERNAL)


def allowed(resource: str, owner: str, region: str, name: str, api_account: str, source_arn: str) -> bool:
    """Whether the function's resource policy lets API Gateway invoke `resource` for this request."""
    from pipeline.local.authz import lookup
    from pipeline.local.iam.evaluate import Policies, Principal, Request, evaluate

    policy = lookup.function_policy(owner, region, name)
    if policy is None:
        return False
    service = Principal("apigateway.amazonaws.com", api_account, "service", "apigateway.amazonaws.com")
    request = Request(service, "lambda:InvokeFunction", resource,
                      {"aws:SourceArn": [source_arn], "aws:SourceAccount": [api_account]}, resource_account=owner)
    return evaluate(request, Policies(resource=policy)).allowed


def _status(code: int) -> str:
    from http import HTTPStatus

    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"{code} Unknown"
