"""Developer sandboxes, the pure part: the account guard, names, tags, expiry and ownership.

Invariant 9 lives here: `guard(config, account)` refuses any account the pipeline names
(tooling or an env target), whatever the flags. Names derive from a sanitized user (and
branch) so every sandbox resource name stays valid: functions <= 64, buckets <= 63 chars.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from pipeline.config.merged import PipelineConfig
from pipeline.config.values import FunctionSettings, SmokeCase
from pipeline.errors import InputError, RefusedError

MAX_ID = 24  # keeps <name>-sbx-<id>-<hash8> a valid bucket name (<= 63) for names up to 24 chars
_UNBOUNDED = 1024
ARTIFACT_PREFIX = "artifacts/"

TAG_OWNER = "owner"
TAG_CREATED = "created"
TAG_EXPIRES = "expires"
TAG_SANDBOX = "pipeline:sandbox"
TAG_KIND = "pipeline:kind"
KIND_BUCKET = "sandbox-bucket"
KIND_FUNCTION = "sandbox-function"
KIND_FRONTDOOR = "sandbox-frontdoor"  # a service's HTTP API and schedule rules
SANDBOX_KINDS = (KIND_BUCKET, KIND_FUNCTION, KIND_FRONTDOOR)
# What the last `sandbox deploy` left, recorded as tags on the function.
TAG_DEPLOYED_SHA = "pipeline:sandbox-sha256"
TAG_DEPLOYED_VERSION = "pipeline:sandbox-version"
TAG_DEPLOYED_SMOKE = "pipeline:sandbox-smoke"
TAG_DEPLOYED_AT = "pipeline:sandbox-deployed"
SANDBOX_ENVIRONMENT = "sandbox"  # the function's ENVIRONMENT variable

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_NOT_NAME = re.compile(r"[^a-z0-9]+")
_NOT_TAG_VALUE = re.compile(r"[^\w .:/=+@-]", re.ASCII)


# -- the guard (invariant 9) ---------------------------------------------------------------
def pipeline_accounts(config: PipelineConfig) -> dict[str, list[str]]:
    """Every account the pipeline uses -> who uses it ("tooling (…/pipeline.yml)", "env dev (…/dev.yml)")."""
    users: dict[str, list[str]] = {}
    users.setdefault(config.tooling.account, []).append(f"the tooling account ({config.directory}/pipeline.yml)")
    for env in config.environments.values():
        for target in env.targets:
            label = f"env {env.name} ({env.source or env.name})"
            if label not in users.setdefault(target.account, []):
                users[target.account].append(label)
    return users


def guard_problem(config: PipelineConfig, account: str) -> str | None:
    """Why a sandbox may not touch `account` (None when it may): it is one the pipeline names."""
    users = pipeline_accounts(config).get(account)
    if not users:
        return None
    return (f"sandbox refused: account {account} is used by the pipeline as {' and '.join(users)}; "
            "sandboxes deploy only into your own account")


def guard(config: PipelineConfig, account: str) -> None:
    """Raise RefusedError (exit 3) for a pipeline account. No flag reaches this: there is no override."""
    problem = guard_problem(config, account)
    if problem:
        raise RefusedError(problem)


# -- names -----------------------------------------------------------------------------------
def sanitize(value: str, limit: int) -> str:
    """Lowercase, runs of anything but [a-z0-9] to one '-', no '-' at either end, at most `limit` chars."""
    cleaned = _NOT_NAME.sub("-", value.lower()).strip("-")
    return cleaned[:limit].strip("-")


def sandbox_id(user: str, branch: str | None = None) -> str:
    """`user` or `user-branch`, sanitized; longer than MAX_ID, cut and suffixed with a 4-char hash of the whole."""
    clean_user = sanitize(user, _UNBOUNDED)
    if not clean_user:
        raise InputError(f"user {user!r} sanitizes to nothing: give --user with letters or digits")
    whole = clean_user
    if branch is not None:
        clean_branch = sanitize(branch, _UNBOUNDED)
        if not clean_branch:
            raise InputError(f"branch {branch!r} sanitizes to nothing: give --branch with letters or digits")
        whole = f"{clean_user}-{clean_branch}"
    if len(whole) <= MAX_ID:
        return whole
    return f"{whole[:MAX_ID - 5].rstrip('-')}-{hashlib.sha256(whole.encode()).hexdigest()[:4]}"


@dataclass(frozen=True)
class SandboxNames:
    id: str
    account: str
    region: str
    function: str
    function_stack: str
    bucket_stack: str
    bucket: str
    log_group: str

    def artifact_key(self, sha256: str) -> str:
        return f"{ARTIFACT_PREFIX}{sha256}.zip"

    @property
    def label(self) -> str:
        return f"sandbox {self.id} in {self.account}/{self.region}"

    @property
    def frontdoor_stack(self) -> str:
        """A service's front door (HTTP API named like the function, schedule rules)."""
        return f"{self.function}-frontdoor"


def names(config_name: str, ident: str, account: str, region: str) -> SandboxNames:
    """Every sandbox name. The bucket carries a hash of account/region/id: bucket names are global."""
    base = f"{config_name}-sbx-{ident}"
    digest = hashlib.sha256(f"{account}/{region}/{ident}".encode()).hexdigest()[:8]
    return SandboxNames(id=ident, account=account, region=region, function=base, function_stack=f"{base}-function",
                        bucket_stack=f"{base}-bucket", bucket=f"{base}-{digest}", log_group=f"/aws/lambda/{base}")


# -- settings --------------------------------------------------------------------------------
def region(config: PipelineConfig, override: str | None = None) -> str:
    sandbox = config.sandbox
    return override or (sandbox.region if sandbox and sandbox.region else None) or config.region


def ttl_days(config: PipelineConfig) -> int:
    return config.sandbox.ttl_days if config.sandbox else 7


def function_settings(config: PipelineConfig) -> FunctionSettings:
    """pipeline.yml `function`, with sandbox.yml `function` keys on top (maps merge per key)."""
    from pipeline.config.files import FunctionSettings as WrittenSettings  # the merge is checked like a file
    from pipeline.config.plain import plain

    # the keys a `function:` block may hold (a service's handler, routes, schedule are its functions' own)
    merged = {k: v for k, v in asdict(config.function_defaults).items() if k in WrittenSettings.model_fields}
    if config.sandbox is not None:
        for key, value in asdict(config.sandbox.function).items():
            if value is None:
                continue
            merged[key] = {**merged[key], **value} if key == "environment" else value
    if "ENVIRONMENT" in merged["environment"]:
        raise InputError(f"{config.directory}/sandbox.yml: function.environment.ENVIRONMENT is set by the "
                         f"sandbox (to {SANDBOX_ENVIRONMENT!r}); remove it")
    return plain(WrittenSettings.model_validate(merged))


def smoke_cases(config: PipelineConfig) -> tuple[tuple[SmokeCase, ...], str]:
    """sandbox.yml `smoke`; when empty, the first stage's (the gate this code meets next). With its source."""
    if config.sandbox is not None and config.sandbox.smoke:
        return tuple(config.sandbox.smoke), f"{config.directory}/sandbox.yml"
    first = config.environments[config.order[0]]
    return first.smoke, f"env {first.name} ({first.source or first.name})"


# -- tags, time, ownership -------------------------------------------------------------------
def owner_of(arn: str) -> str:
    """The owner tag for a caller ARN (tag values allow letters, digits, spaces and _.:/=+-@)."""
    return _NOT_TAG_VALUE.sub("_", arn)[:256]


def role_name(arn: str) -> str | None:
    """The role behind a caller ARN (assumed-role or role), None for a user or root."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return None
    kind, _, rest = parts[5].partition("/")
    if kind == "assumed-role":
        return rest.split("/", 1)[0] or None
    if kind == "role":
        return rest.rsplit("/", 1)[-1] or None
    return None


def principal_arn(caller_arn: str, role_arn: str | None = None) -> str:
    """IAM's `aws:PrincipalArn` for a caller, the value the `owner` tag holds (the sandbox boundary compares
    the two): an assumed-role session is its role (`role_arn`, with its path, as GetRole names it; without
    it, the role at path /); a user, the root or a federated user is the caller ARN itself."""
    parts = caller_arn.split(":", 5)
    if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        return role_arn or f"arn:{parts[1]}:iam::{parts[4]}:role/{role_name(caller_arn)}"
    return caller_arn


def stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime(_TIME_FORMAT)


def parse_stamp(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return None


def lifetime(now: dt.datetime, days: int, existing: Mapping[str, str] | None = None,
             renew: bool = False) -> tuple[str, str]:
    """(created, expires): kept from the existing tags unless renewing; `expires` = now + TTL when set anew."""
    existing = existing or {}
    created = existing.get(TAG_CREATED) or stamp(now)
    expires = existing.get(TAG_EXPIRES)
    if renew or parse_stamp(expires) is None:
        expires = stamp(now + dt.timedelta(days=days))
    return created, expires


def tags(ident: str, owner: str, created: str, expires: str, kind: str) -> dict[str, str]:
    """The tags every sandbox stack and resource carries (`kind`: KIND_BUCKET or KIND_FUNCTION)."""
    return {TAG_OWNER: owner, TAG_CREATED: created, TAG_EXPIRES: expires, TAG_SANDBOX: ident, TAG_KIND: kind}


def is_expired(found: Mapping[str, str], now: dt.datetime) -> bool:
    """True once `expires` has passed. Without a readable `expires` a sandbox never counts as expired."""
    expires = parse_stamp(found.get(TAG_EXPIRES))
    return expires is not None and expires <= now


def ownership_problem(what: str, found: Mapping[str, str], owner: str | tuple[str, ...], kind: str) -> str | None:
    """Why `what` (tags `found`) is not ours to change or delete; None when `up` made it (`kind`) for `owner`
    (a tuple: the owner tag now, then the forms earlier versions wrote for the same caller)."""
    owners = (owner,) if isinstance(owner, str) else owner
    if found.get(TAG_KIND) != kind or not found.get(TAG_OWNER):
        return f"{what} was not made by `pipeline sandbox up` (no {TAG_KIND}={kind} and {TAG_OWNER} tags): refusing"
    if found[TAG_OWNER] not in owners:
        return f"{what} is owned by {found[TAG_OWNER]}, not by you ({owners[0]}): refusing"
    return None


def smoke_summary(passed: int, total: int) -> str:
    if total == 0:
        return "none"
    return f"{'passed' if passed == total else 'failed'} {passed}/{total}"
