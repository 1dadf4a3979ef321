"""AccessDenied as each protocol answers it, so the product's error handling meets the real shapes:
S3 XML 403 `AccessDenied`; query services (STS, IAM, CloudFormation) XML 403 `AccessDenied`;
JSON services 400 `AccessDeniedException`; Lambda 403 `AccessDeniedException`; CloudWatch's
RPCv2-CBOR 400 `AccessDenied` (a small CBOR map). An invalid key is `InvalidClientTokenId` (403).
"""

from __future__ import annotations

import json
import uuid
from xml.sax.saxutils import escape

Response = tuple[str, list[tuple[str, str]], bytes]
_QUERY_COMPATIBLE = {"cloudwatch"}


def _cbor_text(text: str) -> bytes:
    data = text.encode("utf-8")
    n = len(data)
    if n < 24:
        head = bytes([0x60 | n])
    elif n < 256:
        head = bytes([0x78, n])
    else:
        head = bytes([0x79]) + n.to_bytes(2, "big")
    return head + data


def _cbor_map(items: dict[str, str]) -> bytes:
    return bytes([0xA0 | len(items)]) + b"".join(_cbor_text(k) + _cbor_text(v) for k, v in items.items())


def denied(protocol: str, service: str, message: str, code: str | None = None) -> Response:
    request_id = str(uuid.uuid4())
    rid = [("x-amzn-RequestId", request_id)]
    if service in _QUERY_COMPATIBLE and protocol in ("json", "cbor"):
        # awsQueryCompatible services (CloudWatch) keep their query-era code through this header
        rid.append(("x-amzn-query-error", f"{code or 'AccessDenied'};Sender"))
    if protocol == "rest-xml":
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code or 'AccessDenied'}</Code>"
                f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>")
        return "403 Forbidden", [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)], body.encode()
    if protocol == "query":
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code or 'AccessDenied'}</Code>"
                f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>")
        return "403 Forbidden", [("Content-Type", "text/xml"), *rid], body.encode()
    if protocol == "rest-json":
        error = code or "AccessDeniedException"
        body = json.dumps({"Type": "User", "Message": message, "message": message}).encode()
        return "403 Forbidden", [("Content-Type", "application/json"), ("x-amzn-ErrorType", error), *rid], body
    if protocol == "cbor":
        body = _cbor_map({"__type": code or "AccessDenied", "message": message})
        return "400 Bad Request", [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"),
                                   *rid], body
    body = json.dumps({"__type": code or "AccessDeniedException", "message": message, "Message": message}).encode()
    return "400 Bad Request", [("Content-Type", "application/x-amz-json-1.1"), *rid], body


def invalid_key(protocol: str, service: str) -> Response:
    message = "The security token included in the request is invalid."
    if protocol == "rest-xml":
        return denied(protocol, service, "The AWS Access Key Id you provided does not exist in our records.",
                      "InvalidAccessKeyId")
    return denied(protocol, service, message, "UnrecognizedClientException" if protocol == "json"
                  else "InvalidClientTokenId")
