"""A function's execution role, as Lambda assumes it for each execution environment.

Lambda "automatically assumes your execution role when you invoke your function"; the role's trust
policy must name `lambda.amazonaws.com` (docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html).
Here a sandbox, before its process starts, gets a session of the function's role from moto's STS backend
of the role's account (session name: the function's name, as Lambda's `assumed-role/<role>/<function>`),
after the same refusals the emulator applies to CreateFunction: IAM's propagation window for a new role
(`consistency.not_yet_usable`) and, with the IAM layer on, the trust policy evaluated as the Lambda
service. A refusal is Lambda's `InvalidParameterValueException` "The role defined for the function
cannot be assumed by Lambda." The session's keys go to the process as AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, so every call the function makes is authorized as the role;
the pool recycles an environment whose session has less than REFRESH_MARGIN_S left (`expiring`).
The emulator's own endpoint and CA bundle (`serve_at`) reach it as AWS_ENDPOINT_URL, AWS_CA_BUNDLE and
SSL_CERT_FILE (Go's crypto/x509 reads the latter); the emulator's admin keys never do.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from pipeline.local.resolve import FunctionCode, InvokeError

ROLE_MESSAGE = "The role defined for the function cannot be assumed by Lambda."
SESSION_SECONDS = 3600  # the session's lifetime (real seconds: credentials do not follow the time scale)
REFRESH_MARGIN_S = 16 * 60.0  # recycle before this little is left: longer than Lambda's 15-minute timeout
_SERVED: list[dict[str, str]] = []  # one entry per running emulator of this process; the newest is used


@dataclass(frozen=True)
class Session:
    access_key_id: str = field(repr=False)
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    arn: str
    expires_at: float  # time.time() seconds

    def environment(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": self.access_key_id, "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
                "AWS_SESSION_TOKEN": self.session_token}

    def expiring(self, now: float | None = None) -> bool:
        return (now if now is not None else time.time()) >= self.expires_at - REFRESH_MARGIN_S


def serve_at(endpoint_url: str, ca_bundle: str | None = None) -> None:
    """A started emulator's endpoint (and CA bundle): what a function's process is pointed at."""
    served = {"AWS_ENDPOINT_URL": endpoint_url.rstrip("/")}
    if ca_bundle:
        served["AWS_CA_BUNDLE"] = served["SSL_CERT_FILE"] = ca_bundle
    _SERVED.append(served)


def unserve(endpoint_url: str) -> None:
    """That emulator stopped: functions started later point at another running one, or nowhere."""
    for served in [s for s in _SERVED if s["AWS_ENDPOINT_URL"] == endpoint_url.rstrip("/")]:
        _SERVED.remove(served)


def endpoint_environment() -> dict[str, str]:
    """AWS_ENDPOINT_URL and, over TLS, AWS_CA_BUNDLE / SSL_CERT_FILE of the running emulator."""
    return dict(_SERVED[-1]) if _SERVED else {}


def refused() -> InvokeError:
    return InvokeError(400, "InvalidParameterValueException", ROLE_MESSAGE)


def assume(code: FunctionCode) -> Session:
    """A session of the function's execution role; InvokeError when Lambda could not assume it."""
    session = service_session(code.role, "lambda.amazonaws.com", code.name, code.region)
    if session is None:
        raise refused()
    return session


def service_session(role_arn: str, service: str, session_name: str, region: str,
                    source_account: str | None = None) -> Session | None:
    """A session of `role_arn` as an AWS service assumes it (Lambda, CodeBuild, CodePipeline, EventBridge):
    None when the service could not: not a role ARN, a role seconds old (IAM propagation), or a trust policy
    that does not let `service` assume it (IAM layer on). `source_account`: the account of the resource the
    service acts for (a project, a pipeline, a rule), which CodeBuild, CodePipeline and EventBridge send as
    `aws:SourceAccount`; Lambda sends none when it assumes a function's execution role."""
    from pipeline.local import consistency

    parts = role_arn.split(":")
    if len(parts) < 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
        return None
    if consistency.not_yet_usable(role_arn) or not trusts(role_arn, service, source_account):
        return None
    from moto.sts.models import sts_backends

    backend = sts_backends[parts[4]][parts[1]]
    session = backend.assume_role(region_name=region, role_session_name=session_name[:64], role_arn=role_arn,
                                  policy="", duration=SESSION_SECONDS, external_id="")
    return Session(session.access_key_id, session.secret_access_key, session.session_token, session.arn,
                   time.time() + SESSION_SECONDS)


def trusts(role_arn: str, service: str, source_account: str | None = None) -> bool:
    """Whether the role exists and its trust policy lets `service` assume it (IAM layer on), with
    `aws:SourceAccount` in the request's context when the service sends it."""
    from pipeline.local.authz import layer, principals

    if layer.mode() != "on":
        return True  # `record` / `off`: the IAM layer refuses nothing, neither does this
    role = principals.role_named(role_arn)
    if role is None:
        return False
    from pipeline.local.iam.evaluate import Policies, Principal, Request, evaluate

    context = {"aws:CurrentTime": [time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())]}
    if source_account is not None:
        context["aws:SourceAccount"] = [source_account]
    request = Request(Principal(service, "", "service", service), "sts:AssumeRole", role_arn, context,
                      resource_account=role_arn.split(":")[4])
    trust = principals.trust_policy(role, role_arn)
    return evaluate(request, Policies((), None, trust, True)).allowed
