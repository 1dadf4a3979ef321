"""What every engine operation works with: config, accounts, ledger, artifact store, clock, sleep,
output and actor. A plain bag of dependencies (no decisions): `promote`, `rollback`, `reconcile`,
`status` and `verify` each take one and read only what they use. Adapters are made lazily, so a
read-only verb never builds what it does not call.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from pipeline.aws.accounts import Accounts
from pipeline.aws.artifacts import ArtifactStore
from pipeline.aws.functions import FunctionAdapter
from pipeline.aws.ledger import LedgerStore
from pipeline.aws.session import AccountSession
from pipeline.config.merged import Environment, PipelineConfig, Target
from pipeline.infra import naming
from pipeline.output import Output


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class EngineContext:
    config: PipelineConfig
    accounts: Accounts
    out: Output
    now: Callable[[], dt.datetime] = utcnow
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = field(default=time.monotonic)

    @cached_property
    def tooling(self) -> AccountSession:
        return self.accounts.tooling()

    @cached_property
    def actor(self) -> str:
        """Who acts: the tooling session's STS caller ARN (recorded in every record written)."""
        return self.tooling.identity.arn

    @cached_property
    def ledger(self) -> LedgerStore:
        return LedgerStore(self.tooling, self.config)

    @cached_property
    def store(self) -> ArtifactStore:
        return ArtifactStore(self.tooling, self.config)

    def session(self, env: Environment, target: Target) -> AccountSession:
        return self.accounts.target(env, target)

    def function(self, env: Environment, target: Target, key: str = "") -> FunctionAdapter:
        """The Lambda adapter of the env's function on `target`: the service's function `key` (`functions:`),
        "" for the one-function service."""
        return FunctionAdapter(self.session(env, target), target.region,
                               naming.service_function_name(self.config, env, key),
                               sleep=self.sleep, fix=f"pipeline bootstrap --env {env.name}")
