"""Which operation a raw HTTP request is, and its parameters, read as AWS reads it: from the SigV4
scope (service, region), the protocol (JSON target header, query `Action`, RPCv2-CBOR path, REST
URI templates of botocore's own service models), so no operation name is guessed.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

_SCOPE = re.compile(r"Credential=(?P<key>[^/]+)/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request")
_CBOR_PATH = re.compile(r"^/service/[^/]+/operation/(?P<op>[A-Za-z0-9]+)$")
# SigV4 signing name -> botocore service name, where they differ.
_SERVICE_BY_SIGNING_NAME = {"monitoring": "cloudwatch", "tagging": "resourcegroupstaggingapi"}


@dataclass
class Call:
    service: str  # botocore's name: "s3", "lambda", "cloudwatch"
    operation: str  # "GetObject"
    protocol: str  # "rest-xml", "rest-json", "json", "query", "cbor"
    region: str
    access_key: str
    params: dict[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    tls: bool = False


def scope(headers: Mapping[str, str], query: str) -> tuple[str, str, str] | None:
    """(access key, region, signing name) from the Authorization header or a presigned URL."""
    match = _SCOPE.search(headers.get("Authorization", ""))
    if match:
        return match.group("key"), match.group("region"), match.group("service")
    cred = parse_qs(query).get("X-Amz-Credential")
    if cred:
        parts = cred[0].split("/")
        if len(parts) >= 5:
            return parts[0], parts[2], parts[3]
    return None


@functools.lru_cache(maxsize=64)
def _model(service: str) -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


@functools.lru_cache(maxsize=64)
def _routes(service: str) -> list[tuple[str, re.Pattern[str], dict[str, str | None], str, int]]:
    """(method, path regex, required query, operation, specificity) per operation, most specific first."""
    model = _model(service)
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        path, _, query = http.get("requestUri", "/").partition("?")
        required: dict[str, str | None] = {}
        for item in filter(None, query.split("&")):
            key, _, value = item.partition("=")
            if key != "x-id":
                required[key] = value or None
        shape = model.operation_model(name).input_shape
        for member in (shape.required_members if shape is not None else ()):
            serial = shape.members[member].serialization
            if serial.get("location") == "querystring":  # e.g. AbortMultipartUpload's uploadId
                required.setdefault(serial.get("name", member), None)
        body = ""
        for piece in re.split(r"(\{[^}]+\})", path):
            if piece.startswith("{"):
                label = piece[1:-1]
                greedy = label.endswith("+")
                label = label.rstrip("+")
                body += f"(?P<{label}>.+)" if greedy else f"(?P<{label}>[^/]+)"
            else:
                body += re.escape(piece)
        specificity = len(required) * 100 + len(path)
        routes.append((http["method"], re.compile(f"^{body}/?$"), required, name, specificity))
    routes.sort(key=lambda r: -r[4])
    return routes


def _rest_operation(service: str, method: str, path: str, query: Mapping[str, list[str]]) \
        -> tuple[str, dict[str, Any]] | None:
    for verb, pattern, required, name, _ in _routes(service):
        if verb != method:
            continue
        match = pattern.match(path)
        if not match:
            continue
        if all(k in query and (v is None or query[k][0] == v) for k, v in required.items()):
            return name, {k: unquote(v) for k, v in match.groupdict().items()}
    return None


def _rest_params(service: str, operation: str, labels: dict[str, Any], query: Mapping[str, list[str]],
                 headers: Mapping[str, str], body: bytes | None) -> dict[str, Any]:
    params = dict(labels)
    shape = _model(service).operation_model(operation).input_shape
    members = shape.members if shape is not None else {}
    lowered = {k.lower(): v for k, v in headers.items()}
    for name, member in members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "querystring" and wire in query:
            params[name] = query[wire][0]
        elif location == "header" and wire.lower() in lowered:
            params[name] = lowered[wire.lower()]
    if body and service != "s3":
        try:
            document = json.loads(body)
            if isinstance(document, dict):
                params.update({k: v for k, v in document.items() if k not in params})
        except ValueError:
            pass
    return params


def read_call(environ: Mapping[str, Any], body: bytes | None) -> Call | None:
    """The call a request makes; None when it is not a signed AWS API request (moto-api, runtime API)."""
    headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    query_string = environ.get("QUERY_STRING", "")
    found = scope(headers, query_string)
    if found is None:
        return None
    key, region, signing = found
    service = _SERVICE_BY_SIGNING_NAME.get(signing, signing)
    method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/")
    query = parse_qs(query_string, keep_blank_values=True)
    tls = environ.get("wsgi.url_scheme") == "https"
    call = Call(service, "", "", region, key, headers=headers, tls=tls)
    target = headers.get("X-Amz-Target")
    cbor = _CBOR_PATH.match(path)
    if target:
        call.protocol, call.operation = "json", target.rpartition(".")[2]
        if body:
            try:
                call.params = json.loads(body) or {}
            except ValueError:
                call.params = {}
    elif cbor:
        call.protocol, call.operation = "cbor", cbor.group("op")
    elif _model(service).protocol in ("query", "ec2") or "Action" in query:
        form = parse_qs((body or b"").decode("utf-8", "replace"), keep_blank_values=True) if method == "POST" else {}
        merged = {**query, **form}
        call.protocol = "query"
        call.operation = (merged.get("Action") or [""])[0]
        call.params = {k: v[0] for k, v in merged.items()}
    else:
        call.protocol = _model(service).protocol
        routed = _rest_operation(service, method, path, query)
        if routed is None:
            return call
        call.operation, labels = routed
        call.params = _rest_params(service, call.operation, labels, query, headers, body)
    return call
