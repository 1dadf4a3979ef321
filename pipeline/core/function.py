"""The function's fixed names, in one home: what every promoted artifact runs and the alias it is served by.

A promoted Go artifact runs on `provided.al2023` with the handler `bootstrap` (the binary's name in the
zip); traffic goes through the `live` alias, which promote, rollback, reconcile and sandboxes move.
"""

from __future__ import annotations

from typing import Final

GO_RUNTIME: Final = "provided.al2023"
GO_HANDLER: Final = "bootstrap"
LIVE_ALIAS: Final = "live"
