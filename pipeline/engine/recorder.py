"""Writes one environment's ledger records in order, keeping track of the chain's tip.

The first write of an operation (`started`) must land right after the tip the operation
looked at: if someone else appended in between, that someone may hold the lock, so the
conflict is reported instead of retried. Later writes just append after the newest record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from pipeline.aws.ledger import LedgerConflict, LedgerStore, LedgerView
from pipeline.core.ledger import Record


class Recorder:
    def __init__(self, store: LedgerStore, view: LedgerView, now: Callable[[], dt.datetime]) -> None:
        self.store = store
        self.env = view.env
        self.tip: Record | None = view.tip
        self.now = now
        self.written: list[Record] = []

    def start(self, fields: dict[str, Any]) -> Record:
        """Append exactly after the tip we observed; LedgerConflict if someone got there first."""
        record = self.store.append(self.env, self.tip, fields, self.now())
        return self._keep(record)

    def append(self, fields: dict[str, Any]) -> Record:
        record = self.store.append_after_tip(self.env, fields, self.now(), self.tip)
        return self._keep(record)

    def _keep(self, record: Record) -> Record:
        self.tip = record
        self.written.append(record)
        return record


__all__ = ["LedgerConflict", "Recorder"]
