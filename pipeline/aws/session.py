"""The session factory: the only place that creates boto3 sessions and clients.

Base credentials come from the standard chain (profile, environment, instance or CodeBuild
role); the endpoint from the standard places (AWS_ENDPOINT_URL, profile config). From there
it assumes `arn:<partition>:iam::<account>:role/<role>` per account, optionally hopping
through a tooling role first, checks the account it landed in (the account guard), caches
one session per (account, role), and refreshes credentials before they expire.
"""

from __future__ import annotations

import getpass
import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import ClientError, NoCredentialsError, NoRegionError, ProfileNotFound
from botocore.session import Session as BotocoreSession

from pipeline.aws.botodata import shared_loader
from pipeline.aws.errors import error_code, error_message
from pipeline.aws.retry import RetryingClient, RetryPolicy
from pipeline.errors import InputError, PipelineError, RefusedError
from pipeline.infra.naming import role_arn

EventHook = tuple[str, Callable[..., Any]]
_ASSUMED_ARN = re.compile(r"^arn:[\w-]+:sts::(\d{12}):assumed-role/")
_SESSION_NAME_BAD = re.compile(r"[^\w+=,.@-]", re.ASCII)


def _botocore_session(profile: str | None) -> BotocoreSession:
    """A botocore session sharing one data loader with every other session in this process.

    Each assumed role needs its own session; without sharing, each one parses the service
    models again (~0.1 s per client), which dominates a promotion's wall time.
    """
    core = BotocoreSession(profile=profile) if profile else BotocoreSession()
    core.register_component("data_loader", shared_loader())
    return core


def session_name(environ: Mapping[str, str] | None = None) -> str:
    """`pipeline-<user>` for people, `pipeline-codebuild-<build id>` in CodeBuild; STS-safe."""
    environ = os.environ if environ is None else environ
    build = environ.get("CODEBUILD_BUILD_ID")
    if build:
        raw = f"pipeline-codebuild-{build.rsplit(':', 1)[-1]}"
    else:
        try:
            user = environ.get("USER") or environ.get("USERNAME") or getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
        raw = f"pipeline-{user}"
    name = _SESSION_NAME_BAD.sub("-", raw)[:64]
    return name if len(name) >= 2 else "pipeline"


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str


@dataclass
class AccountSession:
    """Credentials acting in one account; makes retrying clients for any region."""

    account: str
    role: str | None
    boto: boto3.Session
    factory: SessionFactory
    known_identity: Identity | None = None
    _clients: dict[tuple[str, str], RetryingClient] = field(default_factory=dict)

    @property
    def identity(self) -> Identity:
        """Who these credentials are (asked of STS once, only when someone needs it)."""
        if self.known_identity is None:
            self.known_identity = self.factory.caller_identity(self)
            self.account = self.known_identity.account
        return self.known_identity

    def client(self, service: str, region: str | None = None) -> Any:
        region = region or self.factory.region
        key = (service, region)
        with self.factory.lock:
            if key not in self._clients:
                raw = self.boto.client(service, region_name=region, config=self.factory.botocore_config)
                for event, handler in self.factory.event_hooks:
                    raw.meta.events.register(event, handler)
                self._clients[key] = RetryingClient(raw, self.factory.retry)
            return self._clients[key]


class SessionFactory:
    def __init__(self, profile: str | None = None, region: str | None = None, *,
                 retry: RetryPolicy | None = None, event_hooks: list[EventHook] | None = None,
                 environ: Mapping[str, str] | None = None, duration_seconds: int = 3600) -> None:
        self.profile = profile
        self.region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.retry = retry or RetryPolicy()
        self.event_hooks = list(event_hooks or [])
        self.session_name = session_name(environ)
        self.duration_seconds = duration_seconds
        # botocore's own retries are off: tenacity (RetryPolicy) is the one retry layer.
        self.botocore_config = Config(retries={"total_max_attempts": 1}, connect_timeout=10, read_timeout=70)
        self.lock = threading.RLock()
        self._base: AccountSession | None = None
        self._cache: dict[tuple[str, str, str | None, str | None], AccountSession] = {}

    # -- base credentials -------------------------------------------------------------------
    def base(self) -> AccountSession:
        with self.lock:
            if self._base is None:
                try:
                    boto = boto3.Session(botocore_session=_botocore_session(self.profile), region_name=self.region)
                    credentials = boto.get_credentials()
                except ProfileNotFound as exc:
                    source = f"--profile {self.profile}" if self.profile else "AWS_PROFILE"
                    raise InputError(f"{source}: no such AWS profile ({exc.kwargs.get('profile')!r})") from None
                if credentials is None:
                    raise InputError("no AWS credentials found: use --profile, AWS_* variables, or an instance role")
                self._base = AccountSession("", None, boto, self)
            return self._base

    def caller_identity(self, session: AccountSession) -> Identity:
        try:
            resp = session.client("sts").get_caller_identity()
        except NoCredentialsError:
            raise InputError("no AWS credentials found: use --profile, AWS_* variables, or an instance role") from None
        except NoRegionError:
            raise InputError("no AWS region: use --region or set it in pipeline.yml") from None
        except ClientError as exc:
            raise _credential_error(exc, "base credentials") from None
        return Identity(resp["Account"], resp["Arn"])

    # -- assumed roles ----------------------------------------------------------------------
    def assume(self, account: str, role: str, *, external_id: str | None = None,
               via: AccountSession | None = None, expected_by: str = "configuration") -> AccountSession:
        """Credentials for `role` in `account`, assumed from `via` (default: the base session).

        The account guard: the assumed identity must be in `account`, else exit 3 naming both.
        """
        parent = via or self.base()
        key = (account, role, external_id, id(parent))
        with self.lock:
            cached = self._cache.get(key)
            if cached is not None:
                return cached
            arn = role_arn(account, role, self.region)
            fetch = self._fetcher(parent, arn, account, external_id, expected_by)
            metadata = fetch()
            creds = RefreshableCredentials.create_from_metadata(metadata, refresh_using=fetch,
                                                                method="sts-assume-role")
            core = _botocore_session(self.profile)
            core._credentials = creds  # botocore's documented-by-practice hook for custom credentials
            boto = boto3.Session(botocore_session=core, region_name=self.region)
            session = AccountSession(account, role, boto, self, Identity(account, metadata["arn"]))
            self._cache[key] = session
            return session

    def _fetcher(self, parent: AccountSession, arn: str, account: str, external_id: str | None,
                 expected_by: str) -> Callable[[], dict[str, Any]]:
        def fetch() -> dict[str, Any]:
            params: dict[str, Any] = {"RoleArn": arn, "RoleSessionName": self.session_name,
                                      "DurationSeconds": self.duration_seconds}
            if external_id:
                params["ExternalId"] = external_id
            try:
                resp = parent.client("sts").assume_role(**params)
            except ClientError as exc:
                raise _credential_error(exc, f"assume role {arn}") from None
            landed = _ASSUMED_ARN.match(resp["AssumedRoleUser"]["Arn"])
            actual = landed.group(1) if landed else "unknown"
            if actual != account:
                raise RefusedError(f"account guard: assuming {arn} gave account {actual}, but {expected_by} "
                                   f"names {account}")
            c = resp["Credentials"]
            return {"access_key": c["AccessKeyId"], "secret_key": c["SecretAccessKey"], "token": c["SessionToken"],
                    "expiry_time": c["Expiration"].isoformat(), "arn": resp["AssumedRoleUser"]["Arn"]}

        return fetch

    def guard(self, session: AccountSession, account: str, expected_by: str = "configuration") -> None:
        """Account guard for sessions not made by assume(): the caller must be in `account`."""
        if session.identity.account != account:
            raise RefusedError(f"account guard: credentials act in account {session.identity.account} "
                               f"({session.identity.arn}), but {expected_by} names {account}")


def _credential_error(exc: ClientError, what: str) -> PipelineError:
    code, message = error_code(exc, "Error"), error_message(exc)
    if code in ("ExpiredToken", "ExpiredTokenException", "RequestExpired"):
        return PipelineError(f"{what}: credentials have expired ({code}); refresh them (e.g. aws sso login)")
    if code in ("AccessDenied", "AccessDeniedException", "InvalidClientTokenId", "SignatureDoesNotMatch",
                "UnrecognizedClientException"):
        return PipelineError(f"{what}: {code}: {message}")
    return PipelineError(f"{what}: {code}: {message}")
