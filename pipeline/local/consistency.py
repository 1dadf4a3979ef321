"""AWS's eventual consistency where it bites deploy tools: IAM propagation and S3 conditional writes.

moto makes a role usable the instant it exists and checks S3 preconditions and then writes, with
no lock between the two (two concurrent `If-None-Match: *` puts of one key can both succeed). AWS:

- IAM is eventually consistent: "changes that you make in IAM ... take time to become visible ...
  as a best practice, verify that the changes have been propagated before production workflows
  that depend on them" (docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html,
  "Changes that I make are not always immediately visible"); a role seconds old is commonly
  refused by STS (`AccessDenied` ... not authorized to perform: sts:AssumeRole) and by Lambda
  (`InvalidParameterValueException`: "The role defined for the function cannot be assumed by
  Lambda.", docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html notes the
  wait). Here a role cannot be assumed nor passed to CreateFunction / UpdateFunctionConfiguration
  until the timing profile's `iam.propagation` window (aws: 5 s, instant: 0, times the scale)
  has passed since it was created, or since CloudFormation reported it CREATE_COMPLETE
  (the emulator applies a stack at once and shows it through time: the later of the two counts).
- S3 conditional writes are atomic per key (docs.aws.amazon.com/AmazonS3/latest/userguide/
  conditional-writes.html) and "if a conflicting operation occurs during the upload S3 returns a
  409 ConditionalRequestConflict response. On a 409 failure you should retry the upload."
  (PutObject API, IfNoneMatch / IfMatch). Here every write of a key holds that key's lock around
  moto's check-and-write; a conditional write meeting a write of the same key in flight answers
  409. `POST /_emulator/s3/conflict` with `{"bucket", "key" or "prefix", "count"}` makes the next
  `count` conditional writes of matching keys answer 409 without writing (tests; AWS has no such
  call); `GET` lists the armed conflicts, `DELETE` clears them, as a reset does.
"""

from __future__ import annotations

import io
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote

from pipeline.local import caller
from pipeline.local.wsgibody import drain

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
CONTROL = "/_emulator/s3/conflict"
LAMBDA_ROLE_MESSAGE = "The role defined for the function cannot be assumed by Lambda."
CONFLICT_MESSAGE = "The conditional request cannot succeed due to a conflicting operation against this resource."
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/(?P<service>[^/]+)/aws4_request")
_ROLE_ARN = re.compile(r"^arn:(?P<partition>[\w-]+):iam::(?P<account>\d{12}):role/"
                       r"(?:[\w+=,.@/-]*/)?(?P<name>[\w+=,.@-]+)$")
_CREATE_FUNCTION = re.compile(r"^/\d{4}-\d\d-\d\d/functions/?$")
_UPDATE_CONFIG = re.compile(r"^/\d{4}-\d\d-\d\d/functions/[^/]+/configuration/?$")
_VHOST = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9.-]*)\.s3[.-]")


# -- IAM propagation --------------------------------------------------------------------------------
def _now() -> datetime:
    from moto.core.utils import utcnow

    return utcnow()


def usable_at(role_arn: str) -> datetime | None:
    """When the role becomes usable (None: moto has no such role, or the window is 0: nothing to add)."""
    from pipeline.local import timing

    window = timing.active().window("iam.propagation")
    match = _ROLE_ARN.match(role_arn)
    if window <= 0 or match is None:
        return None
    from moto.iam.models import iam_backends

    account, name = match["account"], match["name"]
    backend = iam_backends[account][match["partition"]]
    role = next((r for r in list(backend.roles.values()) if r.name == name), None)
    if role is None:
        return None
    born: datetime = role.create_date
    for completed in _cloudformation_completions(account, name):
        born = max(born, completed)
    return born + timedelta(seconds=window)


def _cloudformation_completions(account: str, role_name: str) -> list[datetime]:
    """The modelled CREATE_COMPLETE times of stack resources that are this role (any region)."""
    from moto.cloudformation.models import cloudformation_backends

    if account not in cloudformation_backends:
        return []
    found = []
    for backend in list(cloudformation_backends[account].values()):
        for stack in list(backend.stacks.values()):
            found += [e.timestamp for e in list(stack.events) if e.resource_type == "AWS::IAM::Role"
                      and e.resource_status == "CREATE_COMPLETE" and e.physical_resource_id == role_name]
    return found


def not_yet_usable(role_arn: str) -> bool:
    ready = usable_at(role_arn)
    return ready is not None and _now() < ready


def _read_body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(raw)  # the layers below read it again
    environ["CONTENT_LENGTH"] = str(len(raw))
    return raw


def _assume_refusal(environ: dict[str, Any], raw: bytes) -> bytes | None:
    form = parse_qs(raw.decode("utf-8", "replace")) if raw else parse_qs(environ.get("QUERY_STRING", ""))
    if form.get("Action", [""])[0] != "AssumeRole":
        return None
    arn = form.get("RoleArn", [""])[0]
    if not not_yet_usable(arn):
        return None
    who = _caller_arn(environ)
    message = f"User: {who} is not authorized to perform: sts:AssumeRole on resource: {arn}"
    return (f'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
            f"<Code>AccessDenied</Code><Message>{_xml(message)}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>").encode()


def _caller_arn(environ: dict[str, Any]) -> str:
    from werkzeug.datastructures import EnvironHeaders

    headers = EnvironHeaders(environ)
    account = caller.account(headers, environ.get("QUERY_STRING", ""))
    try:
        from moto.sts.models import sts_backends

        return str(sts_backends[account]["global"].get_caller_identity(
            caller.access_key(headers, environ.get("QUERY_STRING", "")), caller.DEFAULT_REGION)[1])
    except Exception:  # the message's wording only: never fail the request over it
        return f"arn:aws:iam::{account}:user/moto"


def _lambda_refusal(environ: dict[str, Any], raw: bytes) -> bytes | None:
    try:
        document = json.loads(raw or b"{}")
    except ValueError:
        return None  # moto answers the malformed body as AWS would
    role = document.get("Role") if isinstance(document, dict) else None
    if not isinstance(role, str) or not not_yet_usable(role):
        return None
    return json.dumps({"Type": "User", "message": LAMBDA_ROLE_MESSAGE}).encode()


# -- S3 conditional writes --------------------------------------------------------------------------
_GUARD = threading.Lock()
_KEY_LOCKS: dict[tuple[str, str], threading.Lock] = {}
_ARMED: list[dict[str, Any]] = []


def _key_lock(bucket: str, key: str) -> threading.Lock:
    with _GUARD:
        return _KEY_LOCKS.setdefault((bucket, key), threading.Lock())


def arm_conflict(bucket: str, key: str | None = None, prefix: str | None = None, count: int = 1) -> None:
    with _GUARD:
        _ARMED.append({"bucket": bucket, "key": key, "prefix": prefix, "count": count})


def _take_armed(bucket: str, key: str) -> bool:
    with _GUARD:
        for armed in _ARMED:
            if armed["bucket"] == bucket and (armed["key"] == key if armed["key"] is not None
                                              else key.startswith(armed["prefix"] or "")):
                armed["count"] -= 1
                if armed["count"] == 0:
                    _ARMED.remove(armed)
                return True
    return False


def reset() -> None:
    with _GUARD:
        _ARMED.clear()
        _KEY_LOCKS.clear()


def _object_of(environ: dict[str, Any]) -> tuple[str, str] | None:
    """(bucket, key) of an S3 object request (path style, or a bucket.s3.* virtual host), else None."""
    path = environ.get("PATH_INFO", "")
    vhost = _VHOST.match(environ.get("HTTP_HOST", ""))
    if vhost is not None:
        key = unquote(path.lstrip("/"))
        return (vhost["bucket"], key) if key else None
    bucket, _, key = path.lstrip("/").partition("/")
    return (unquote(bucket), unquote(key)) if bucket and key else None


def _s3_write(app: WsgiApp, environ: dict[str, Any], start_response: Callable[..., Any], bucket: str,
              key: str) -> Iterable[bytes]:
    conditional = bool(environ.get("HTTP_IF_NONE_MATCH") or environ.get("HTTP_IF_MATCH"))
    lock = _key_lock(bucket, key)
    if conditional and (_take_armed(bucket, key) or not lock.acquire(blocking=False)):
        drain(environ)  # the body is not written, but read: else the client sees a reset, not the 409
        return _conflict(start_response, bucket, key)
    if not conditional:
        lock.acquire()
    try:  # moto's precondition check and its write, as one step
        result = app(environ, start_response)
        body = b"".join(result)
        close = getattr(result, "close", None)
        if close is not None:
            close()
        return [body]
    finally:
        lock.release()


def _conflict(start_response: Callable[..., Any], bucket: str, key: str) -> Iterable[bytes]:
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ConditionalRequestConflict</Code>'
            f"<Message>{CONFLICT_MESSAGE}</Message><BucketName>{_xml(bucket)}</BucketName><Key>{_xml(key)}</Key>"
            f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>").encode()
    start_response("409 Conflict", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [body]


def _control(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    method, status, answer = environ.get("REQUEST_METHOD", "GET"), "200 OK", {}
    if method == "POST":
        try:
            request = json.loads(_read_body(environ) or b"{}")
            if not isinstance(request, dict) or not isinstance(request.get("bucket"), str) or not request["bucket"]:
                raise ValueError("bucket: required (a non-empty string)")
            if (request.get("key") is None) == (request.get("prefix") is None):
                raise ValueError("key or prefix: give exactly one")
            count = request.get("count", 1)
            if not isinstance(count, int) or count < 1:
                raise ValueError("count: a whole number >= 1")
            arm_conflict(request["bucket"], request.get("key"), request.get("prefix"), count)
        except ValueError as exc:
            status, answer = "400 Bad Request", {"error": str(exc)}
    elif method == "DELETE":
        with _GUARD:
            _ARMED.clear()
    elif method != "GET":
        status, answer = "405 Method Not Allowed", {"error": f"{method} not allowed"}
    with _GUARD:
        answer.setdefault("armed", [dict(a) for a in _ARMED])
    data = json.dumps(answer).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def layer(app: WsgiApp) -> WsgiApp:
    """WSGI middleware: IAM propagation refusals, S3 per-key atomic writes, the conflict endpoint."""

    def handle(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == CONTROL:
            return _control(environ, start_response)
        scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        service = scope["service"] if scope else ""
        if service == "sts" and method == "POST":
            refused = _assume_refusal(environ, _read_body(environ))
            if refused is not None:
                start_response("403 Forbidden", [("Content-Type", "text/xml"), ("Content-Length", str(len(refused)))])
                return [refused]
        elif service == "lambda" and ((method == "POST" and _CREATE_FUNCTION.match(path))
                                      or (method == "PUT" and _UPDATE_CONFIG.match(path))):
            refused = _lambda_refusal(environ, _read_body(environ))
            if refused is not None:
                start_response("400 Bad Request", [("Content-Type", "application/json"),
                                                   ("x-amzn-ErrorType", "InvalidParameterValueException"),
                                                   ("x-amzn-RequestId", str(uuid.uuid4())),
                                                   ("Content-Length", str(len(refused)))])
                return [refused]
        elif service == "s3" and (method in ("PUT", "DELETE") or (method == "POST" and "uploadId" in
                                                                  environ.get("QUERY_STRING", ""))):
            target = _object_of(environ)
            if target is not None:
                return _s3_write(app, environ, start_response, *target)
        return app(environ, start_response)

    return handle
