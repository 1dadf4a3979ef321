"""Stack-engine tests: moto's change-set fixes (tags, outputs) installed for the in-process emulator."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _cfn_fixes() -> None:
    # Idempotent; a no-op once the emulator installs it itself.
    from pipeline.local.cfn_fixes import install

    install()
