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


class Context:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out = Output(getattr(args, "output", "text"), command=getattr(args, "command", None))
        self._config: PipelineConfig | None = None

    def config(self) -> PipelineConfig:
        if self._config is None:
            from pipeline.config.load import load_config

            self._config = load_config(getattr(self.args, "config_dir", "environments"))
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
