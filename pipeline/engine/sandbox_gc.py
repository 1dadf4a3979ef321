"""`sandbox gc`: find sandboxes whose `expires` tag has passed and delete them (or list them: dry run).

Scans the caller's account, or each listed account through a role. Every account is checked
against the guard before the first call to any of them, so a pipeline account in the list
refuses the whole run (exit 3) with nothing written anywhere. In each account it also reports
(never deletes) the functions, buckets, log groups and roles that have no `owner` tag.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.aws.cloudformation import StackState
from pipeline.aws.inventory import Inventory
from pipeline.aws.sandbox import SandboxAWS
from pipeline.aws.sandbox_guard import GuardAWS
from pipeline.aws.session import SessionFactory
from pipeline.config.merged import PipelineConfig
from pipeline.core import sandbox as S
from pipeline.engine.sandbox_account import open_caller, remove
from pipeline.errors import InputError, PipelineError

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Found:
    """One sandbox as its stacks show it."""

    ident: str
    function: StackState | None
    bucket: StackState | None
    frontdoor: StackState | None = None  # a service's HTTP API and schedule rules

    @property
    def states(self) -> list[StackState]:
        return [s for s in (self.function, self.bucket, self.frontdoor) if s is not None]

    @property
    def tags(self) -> dict[str, str]:
        return dict(self.states[0].tags)

    def expired(self, now: dt.datetime) -> bool:
        """Every stack of it is past its `expires` (a renewed one is kept)."""
        return all(S.is_expired(s.tags, now) for s in self.states)


@dataclass(frozen=True)
class GcRow:
    account: str
    region: str
    sandbox: str
    owner: str
    expires: str
    action: str

    def row(self) -> list[str]:
        return [self.account, self.region, self.sandbox, self.owner, self.expires, self.action]


def find_sandboxes(aws: SandboxAWS, config_name: str, stacks: list[StackState] | None = None) -> list[Found]:
    """This pipeline's sandbox stacks (name prefix and kind tag), grouped by their sandbox id."""
    groups: dict[str, dict[str, StackState]] = {}
    for state in aws.stacks(f"{config_name}-sbx-") if stacks is None else stacks:
        kind, ident = state.tags.get(S.TAG_KIND), state.tags.get(S.TAG_SANDBOX)
        if kind in S.SANDBOX_KINDS and ident:
            groups.setdefault(ident, {})[kind] = state
    return [Found(ident, g.get(S.KIND_FUNCTION), g.get(S.KIND_BUCKET), g.get(S.KIND_FRONTDOOR))
            for ident, g in sorted(groups.items())]


def parse_accounts(text: str) -> list[str]:
    accounts = [a.strip() for a in text.split(",") if a.strip()]
    bad = [a for a in accounts if not (len(a) == 12 and a.isdigit())]
    if not accounts or bad:
        raise InputError(f"--accounts {text!r}: give 12-digit account ids separated by commas")
    return list(dict.fromkeys(accounts))


def gc(config: PipelineConfig, factory: SessionFactory, region: str, accounts: list[str] | None, role: str | None,
       dry_run: bool, now: dt.datetime, progress: Progress) -> list[GcRow]:
    caller = open_caller(config, factory)
    for account in accounts or []:
        S.guard(config, account)  # all of them, before touching any
    rows: list[GcRow] = []
    for account in accounts or [caller.account]:
        if account == caller.account:
            session = caller.session
        else:
            assert role is not None
            session = factory.assume(account, role, expected_by=f"--accounts {account}")
        aws = SandboxAWS(session, region, progress)
        stacks = aws.stacks(f"{config.name}-sbx-")
        for found in find_sandboxes(aws, config.name, stacks):
            rows.append(_collect(aws, config, account, region, found, dry_run, now))
        rows += [GcRow(account, region, s.tags.get(S.TAG_SANDBOX, "-"), "-", s.tags.get(S.TAG_EXPIRES, "-"),
                       f"reported: stack {s.name} has no {S.TAG_OWNER} tag (not deleted)")
                 for s in stacks if not s.tags.get(S.TAG_OWNER)]
        rows += untagged_rows(Inventory(session, account, region, partition(caller.arn)), account, region)
    return rows


def partition(arn: str) -> str:
    return arn.split(":")[1] if arn.startswith("arn:") else "aws"


def untagged_rows(inventory: Inventory, account: str, region: str) -> list[GcRow]:
    """One `reported` row per function, bucket, log group or role of the account without an `owner` tag
    (read-only: gc deletes only expired sandboxes); a refused listing is one `failed` row (exit 1)."""
    try:
        found = inventory.resources()
    except PipelineError as exc:
        return [GcRow(account, region, "-", "-", "-", f"failed: {exc.message}")]
    return [GcRow(account, region, r.tags.get(S.TAG_SANDBOX, "-"), "-", r.tags.get(S.TAG_EXPIRES, "-"),
                  f"reported: {r.kind} {r.name} has no {S.TAG_OWNER} tag (not deleted)")
            for r in found if not r.tags.get(S.TAG_OWNER)]


def _collect(aws: SandboxAWS, config: PipelineConfig, account: str, region: str, found: Found, dry_run: bool,
             now: dt.datetime) -> GcRow:
    tags = found.tags

    def row(action: str) -> GcRow:
        return GcRow(account, region, found.ident, tags.get(S.TAG_OWNER, "-"), tags.get(S.TAG_EXPIRES, "-"), action)

    if not found.expired(now):
        reason = "no readable expires tag" if S.parse_stamp(tags.get(S.TAG_EXPIRES)) is None else "not expired"
        return row(f"kept ({reason})")
    bucket = (found.bucket.outputs.get("BucketName") if found.bucket else None) or \
        S.names(config.name, found.ident, account, region).bucket
    bucket_tags = aws.bucket_tags(bucket)
    if bucket_tags is not None and (bucket_tags.get(S.TAG_KIND) != S.KIND_BUCKET
                                    or bucket_tags.get(S.TAG_SANDBOX) != found.ident):
        return row(f"skipped: bucket {bucket} is not tagged as this sandbox's")
    if dry_run:
        return row("would delete")
    try:
        remove(aws, found.function, found.bucket, bucket, bucket_tags is not None,
               (GuardAWS(aws.session, account, region), S.names(config.name, found.ident, account, region).function),
               frontdoor=found.frontdoor)
    except PipelineError as exc:
        return row(f"failed: {exc.message}")
    return row("deleted")
