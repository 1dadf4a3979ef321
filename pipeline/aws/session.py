"""The session factory: the only place that creates boto3 sessions and clients.

Base credentials come from the standard chain (profile, environment, instance or CodeBuild
role); the endpoint from the standard places (AWS_ENDPOINT_URL, profile config). From there
it assumes `arn:<partition>:iam::<account>:role/<role>` per account, optionally hopping
through a tooling role first, checks the account it landed in (the account guard), caches
one session per (account, role), and refreshes credentials before they expire.
"""

from __future__ import annotations

import functools
import getpass
import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.credentials import Credentials, RefreshableCredentials
from botocore.exceptions import ClientError, NoCredentialsError, NoRegionError, ProfileNotFound
from botocore.session import Session as BotocoreSession

from pipeline.aws.botodata import shared_loader
from pipeline.aws.errors import NO_CREDENTIALS, error_code, error_message
from pipeline.aws.retry import RetryingClient, RetryPolicy
from pipeline.errors import InputError, PipelineError, RefusedError
from pipeline.infra.naming import role_arn

EventHook = tuple[str, Callable[..., Any]]
_ASSUMED_ARN = re.compile(r"^arn:[\w-]+:sts::(\d{12}):assumed-role/")
_SESSION_NAME_BAD = re.compile(r"[^\w+=,.@-]", re.ASCII)


def _botocore_session(profile: str | None) -> BotocoreSession:
    """The factory's one botocore session, with the process's shared data loader (`aws/botodata.py`).

    Every assumed role makes its clients from this session with its own credentials: a client in a
    fresh session costs ~13-21 ms of CPU (handler registration, config, endpoint resolver), in a shared
    one ~5 ms; the parsed service models are shared either way.
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
    """Credentials acting in one account; makes retrying clients for any region.

    `credentials` are the assumed role's (refreshed before they expire); None for the base session,
    whose clients use the standard credential chain of the factory's botocore session.
    """

    account: str
    role: str | None
    credentials: Credentials | None
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
                raw = self.factory.raw_client(service, region, self.credentials)
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
        self._cache: dict[tuple[str, str, str | None, int], AccountSession] = {}
        self._assuming: dict[tuple[str, str, str | None, int], threading.Lock] = {}
        self._preload: tuple[str, ...] = ()

    def preload(self, *services: str) -> None:
        """Parse these services' models during the next AssumeRole round trip (in a thread), when the process
        would otherwise only wait: a promotion's first S3 client is then made from parsed models."""
        with self.lock:
            self._preload = tuple(dict.fromkeys((*self._preload, *services)))

    def _sending_sts(self) -> None:
        """Just before an STS request: the process is about to wait, so start the parses asked to overlap it."""
        with self.lock:
            services, self._preload = self._preload, ()
        if services:
            shared_loader().preload(services)

    @functools.cached_property
    def boto(self) -> boto3.Session:
        """The one boto3 session (over one botocore session) every AccountSession's clients come from."""
        return boto3.Session(botocore_session=_botocore_session(self.profile), region_name=self.region)

    def raw_client(self, service: str, region: str, credentials: Credentials | None) -> Any:
        """A boto3 client acting with `credentials` (None: the base chain). Call with `self.lock` held:
        botocore takes a client's credentials from its session, so they are put there for this one call."""
        core = self.boto._session
        if credentials is None:
            return self.boto.client(service, region_name=region, config=self.botocore_config)
        saved = core._credentials
        core._credentials = credentials  # botocore's documented-by-practice hook for custom credentials
        try:
            return self.boto.client(service, region_name=region, config=self.botocore_config)
        finally:
            core._credentials = saved

    # -- base credentials -------------------------------------------------------------------
    def base(self) -> AccountSession:
        with self.lock:
            if self._base is None:
                try:
                    credentials = self.boto.get_credentials()
                except ProfileNotFound as exc:
                    source = f"--profile {self.profile}" if self.profile else "AWS_PROFILE"
                    raise InputError(f"{source}: no such AWS profile ({exc.kwargs.get('profile')!r})") from None
                if credentials is None:
                    raise InputError(NO_CREDENTIALS)
                self._base = AccountSession("", None, None, self)
            return self._base

    def caller_identity(self, session: AccountSession) -> Identity:
        try:
            sts = session.client("sts")
            self._sending_sts()
            resp = sts.get_caller_identity()
        except NoCredentialsError:
            raise InputError(NO_CREDENTIALS) from None
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
        with self.lock:  # held only to look up: another thread's AssumeRole must not stall this one's calls
            cached = self._cache.get(key)
            if cached is not None:
                return cached
            once = self._assuming.setdefault(key, threading.Lock())
        with once:  # one AssumeRole per role, however many threads want it
            with self.lock:
                cached = self._cache.get(key)
            if cached is not None:
                return cached
            arn = role_arn(account, role, self.region)
            fetch = self._fetcher(parent, arn, account, external_id, expected_by)
            metadata = fetch()
            creds = RefreshableCredentials.create_from_metadata(metadata, refresh_using=fetch,
                                                                method="sts-assume-role")
            session = AccountSession(account, role, creds, self, Identity(account, metadata["arn"]))
            with self.lock:
                self._cache[key] = session
            return session

    def _fetcher(self, parent: AccountSession, arn: str, account: str, external_id: str | None,
                 expected_by: str) -> Callable[[], dict[str, Any]]:
        def fetch() -> dict[str, Any]:
            params: dict[str, Any] = {"RoleArn": arn, "RoleSessionName": self.session_name,
                                      "DurationSeconds": self.duration_seconds}
            if external_id:
                params["ExternalId"] = external_id
            sts = parent.client("sts")
            self._sending_sts()
            try:
                resp = sts.assume_role(**params)
            except ClientError as exc:
                raise _credential_error(exc, f"assume role {arn}") from None  # AccessDenied: AssumeDenied
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


class AssumeDenied(PipelineError):
    """sts:AssumeRole refused: not allowed, not propagated yet (a role created moments ago), or (on AWS)
    the role does not exist, i.e. not bootstrapped yet."""


def _credential_error(exc: ClientError, what: str) -> PipelineError:
    code, message = error_code(exc, "Error"), error_message(exc)
    if code in ("ExpiredToken", "ExpiredTokenException", "RequestExpired"):
        return PipelineError(f"{what}: credentials have expired ({code}); refresh them (e.g. aws sso login)")
    if code in ("AccessDenied", "AccessDeniedException") and what.startswith("assume role"):
        return AssumeDenied(f"{what}: {code}: {message}")
    if code in ("AccessDenied", "AccessDeniedException", "InvalidClientTokenId", "SignatureDoesNotMatch",
                "UnrecognizedClientException"):
        return PipelineError(f"{what}: {code}: {message}")
    return PipelineError(f"{what}: {code}: {message}")
