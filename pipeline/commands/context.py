"""What every command gets: parsed global options, config (loaded once), output, AWS sessions."""

from __future__ import annotations

import argparse
from functools import cached_property
from typing import TYPE_CHECKING

from pipeline.output import Output

if TYPE_CHECKING:
    from pipeline.aws.accounts import Accounts
    from pipeline.aws.session import SessionFactory
    from pipeline.config.merged import PipelineConfig
    from pipeline.engine.context import EngineContext


# What a multi-function service (`functions:`) can do so far: its configuration and templates are checked, its
# one binary built (every function's handler asked of it) and staged, its accounts checked, its stacks deployed
# (bootstrap), its developer sandboxes run (every function, its HTTP API). Its releases are not built yet, so every
# other verb refuses it rather than deploy or report the first function.
SERVICE_VERBS = ("validate", "build", "stage", "artifacts", "accounts", "bootstrap", "sandbox")


def refuse_service(config: PipelineConfig, command: str | None) -> None:
    functions = config.service_functions
    if functions and command not in SERVICE_VERBS:
        from pipeline.errors import InputError

        raise InputError(f"{config.directory}/pipeline.yml functions: a service of {len(functions)} functions "
                         f"({', '.join(functions)}) can be validated, built, staged and bootstrapped, but "
                         f"{command!r} handles the one-function form (function:) only so far")


class Context:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out = Output(getattr(args, "output", "text"), command=getattr(args, "command", None))
        self._config: PipelineConfig | None = None

    def config(self) -> PipelineConfig:
        if self._config is None:
            from pipeline.config.load import load_config

            self._config = load_config(getattr(self.args, "config_dir", "environments"))
            refuse_service(self._config, getattr(self.args, "command", None))
        return self._config

    @cached_property
    def sessions(self) -> SessionFactory:
        from pipeline.aws.session import SessionFactory

        return SessionFactory(profile=self.args.profile, region=self.args.region or self.config().region)

    @cached_property
    def engine(self) -> EngineContext:
        """What the engine works with (config, accounts, ledger, artifact store, clock, output), made lazily."""
        from pipeline.engine.context import EngineContext

        return EngineContext(self.config(), self.accounts, self.out)

    @cached_property
    def accounts(self) -> Accounts:
        from pipeline.aws.accounts import Accounts

        return Accounts(self.sessions, self.config())
