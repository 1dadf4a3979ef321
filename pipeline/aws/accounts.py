"""Map the configuration's accounts to sessions: the tooling account and each env target."""

from __future__ import annotations

from pipeline.aws.session import AccountSession, AssumeDenied, SessionFactory
from pipeline.config.merged import Environment, PipelineConfig, Target
from pipeline.errors import PipelineError


class Accounts:
    def __init__(self, factory: SessionFactory, config: PipelineConfig) -> None:
        self.factory = factory
        self.config = config

    def tooling(self) -> AccountSession:
        """The tooling account: through `tooling.role` when set, else the base credentials (guarded)."""
        tooling = self.config.tooling
        where = f"{self.config.directory}/pipeline.yml tooling.account"
        if tooling.role:
            try:
                return self.factory.assume(tooling.account, tooling.role, external_id=tooling.external_id,
                                           expected_by=where)
            except AssumeDenied as exc:
                raise PipelineError(f"{exc.message} (if the tooling stack is not there yet: run `pipeline bootstrap "
                                    "--tooling` first; it creates this role and lets CodeBuild and "
                                    "tooling.operators assume it)") from None
        base = self.factory.base()
        self.factory.guard(base, tooling.account, where)
        return base

    def target(self, env: Environment, target: Target | None = None) -> AccountSession:
        """The env's deploy role in `target`'s account (default: the env's first target)."""
        target = target or env.targets[0]
        via = self.tooling() if self.config.tooling.role else None
        return self.factory.assume(target.account, env.deploy_role, external_id=env.external_id, via=via,
                                   expected_by=f"{env.source} account")
