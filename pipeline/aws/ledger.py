"""The ledger's storage: `ledger/<env>/<seq>.json` objects in the tooling bucket, written only with
`IfNoneMatch: *` so no record is ever overwritten and only one writer gets each sequence number
(S3's 409 ConditionalRequestConflict is retried by the client's RetryPolicy: see aws/retry.py).

Reads are lazy: one LIST gives the keys, records are fetched newest-first only as far as a
question needs (usually one GET).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from pipeline.aws.artifacts import encryption_args
from pipeline.aws.errors import error_code, error_message, http_status
from pipeline.aws.retry import list_objects
from pipeline.aws.session import AccountSession
from pipeline.config.merged import PipelineConfig
from pipeline.core.ledger import Record, new_record, seq_of, window_problems
from pipeline.errors import PipelineError


class LedgerConflict(Exception):
    """Someone else wrote that sequence number first."""


class LedgerView:
    """One environment's chain as listed once; records fetched on demand and cached."""

    def __init__(self, store: LedgerStore, env: str, keys: list[str]) -> None:
        self.store = store
        self.env = env
        self.keys = keys
        self._cache: dict[str, Record] = {}
        self._lock = threading.Lock()  # targets are observed in parallel: fetch each record once

    def newest_first(self) -> Iterator[Record]:
        for key in reversed(self.keys):
            yield self.record(key)

    def record(self, key: str) -> Record:
        with self._lock:
            if key not in self._cache:
                self._cache[key] = self.store.get(key)
            return self._cache[key]

    def prefetch(self, keys: Sequence[str], workers: int = 8) -> None:
        """Fetch the records of `keys` not read yet, `workers` GETs at a time (record() fetches one by one)."""
        with self._lock:
            missing = [k for k in dict.fromkeys(keys) if k not in self._cache]
        if len(missing) < 2:
            return
        with ThreadPoolExecutor(max_workers=min(workers, len(missing))) as pool:
            fetched = list(pool.map(self.store.get, missing))
        with self._lock:
            for key, record in zip(missing, fetched, strict=True):
                self._cache.setdefault(key, record)

    def fetched(self) -> dict[str, Record]:
        """The records read so far, by key."""
        with self._lock:
            return dict(self._cache)

    @property
    def tip(self) -> Record | None:
        return self.record(self.keys[-1]) if self.keys else None

    def all(self) -> list[Record]:
        return [self.record(k) for k in self.keys]


class LedgerStore:
    def __init__(self, session: AccountSession, config: PipelineConfig) -> None:
        self.config = config
        self.bucket = config.artifact_bucket
        self.s3 = session.client("s3", config.tooling.region)
        self._encryption = encryption_args(config)
        self.views: list[LedgerView] = []

    def view(self, env: str) -> LedgerView:
        prefix = f"ledger/{env}/"
        try:
            keys = [obj["Key"] for obj in list_objects(self.s3, self.bucket, prefix)]
        except ClientError as exc:
            raise self._error(exc, f"s3://{self.bucket}/{prefix}") from None
        view = LedgerView(self, env, sorted(keys, key=lambda k: (seq_of(k) is None, seq_of(k) or 0, k)))
        self.views.append(view)
        return view

    def tampering(self) -> list[str]:
        """What every view read so far shows of tampering (no extra call; see core.ledger.window_problems)."""
        problems: list[str] = []
        for view in self.views:
            with view._lock:
                fetched = dict(view._cache)
            problems += [p for p in window_problems(view.env, view.keys, fetched) if p not in problems]
        return problems

    def get(self, key: str) -> Record:
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            raise self._error(exc, f"s3://{self.bucket}/{key}") from None
        return Record.parse(key, body)

    def append(self, env: str, prev: Record | None, fields: dict[str, Any], now: dt.datetime) -> Record:
        """Write the record after `prev`; LedgerConflict when that sequence number is taken."""
        record = new_record(env, prev, fields, now)
        try:
            self.s3.put_object(Bucket=self.bucket, Key=record.key, Body=record.raw, IfNoneMatch="*",
                               ContentType="application/json", **self._encryption)
        except ClientError as exc:
            # 412: someone's record is there (maybe ours, from a put whose answer was lost). A 409
            # ConditionalRequestConflict that outlived the client's retries says nothing was written and
            # nothing about who will win: an operation failure (exit 1), never taken as written or as lost.
            if error_code(exc) == "PreconditionFailed" or http_status(exc) == 412:
                if self._already_written(record):
                    return record
                raise LedgerConflict(record.key) from None
            raise self._error(exc, f"s3://{self.bucket}/{record.key}") from None
        return record

    def _already_written(self, record: Record) -> bool:
        """After a 412: is the record at that key byte for byte ours?

        A put whose answer was lost (timeout, reset, 500) may have landed; the retry then gets 412
        from our own record. That is success, not a conflict: no one else can write these bytes
        (a started record carries this run's id). Anything else there is someone else's record.
        """
        return self.get(record.key).raw == record.raw

    def append_after_tip(self, env: str, fields: dict[str, Any], now: dt.datetime, prev: Record | None,
                         attempts: int = 5) -> Record:
        """Append after `prev`, or after whatever is newest when someone wrote in between."""
        for _ in range(attempts):
            try:
                return self.append(env, prev, fields, now)
            except LedgerConflict:
                prev = self.view(env).tip
        raise PipelineError(f"ledger/{env}: could not append after {attempts} attempts (heavy contention)")

    def _error(self, exc: ClientError, what: str) -> PipelineError:
        code = error_code(exc)
        if code == "NoSuchBucket":
            return PipelineError(f"artifact bucket {self.bucket} not found in tooling account "
                                 f"{self.config.tooling.account}: run `pipeline bootstrap --tooling` first")
        # The operation too: "s3://b/k: AccessDenied" does not say whether reading or writing was denied.
        return PipelineError(f"{what}: {exc.operation_name}: {code}: {error_message(exc)}")
