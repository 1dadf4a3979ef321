"""The ledger model: append-only, hash-chained records per environment. Pure.

Each record is canonical JSON stored at `ledger/<env>/<seq>.json`, holding the sha256 of the
previous record's exact bytes (`prev`). A promotion writes a `started` record (which is also
its lock: it is written with a conditional put, so only one writer gets a sequence number),
optional `lease` records (renewals), and one `outcome` record per target; `unlock` closes a
started record by force. Whoever finds a started record that is not closed has found the lock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
KEY_WIDTH = 8


def key_for(env: str, seq: int) -> str:
    return f"ledger/{env}/{seq:0{KEY_WIDTH}d}.json"


def seq_of(key: str) -> int | None:
    name = key.rsplit("/", 1)[-1]
    stem = name.removesuffix(".json")
    return int(stem) if name.endswith(".json") and stem.isdigit() else None


def encode(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, sort_keys=True, separators=(",", ":"), default=str) + "\n").encode()


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class Record:
    key: str
    raw: bytes
    data: dict[str, Any]

    @classmethod
    def parse(cls, key: str, raw: bytes) -> Record:
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            data = {}
        return cls(key, raw, data if isinstance(data, dict) else {})

    @property
    def seq(self) -> int:
        return int(self.data.get("seq", -1))

    @property
    def hash(self) -> str:
        return sha256(self.raw)

    @property
    def type(self) -> str:
        return str(self.data.get("type", ""))

    def get(self, name: str, default: Any = None) -> Any:
        return self.data.get(name, default)

    @property
    def time(self) -> dt.datetime | None:
        value = self.data.get("time")
        try:
            return dt.datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            return None


def new_record(env: str, prev: Record | None, fields: dict[str, Any], now: dt.datetime) -> Record:
    """The next record after `prev` (None: the first one)."""
    seq = prev.seq + 1 if prev is not None else 0
    data = {**fields, "env": env, "seq": seq, "prev": prev.hash if prev is not None else GENESIS,
            "time": now.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")}
    raw = encode(data)
    return Record(key_for(env, seq), raw, data)


def verify_chain(env: str, records: list[Record]) -> list[str]:
    """Every way the stored chain differs from an untouched append-only log, one line each."""
    problems: list[str] = []
    by_seq = sorted(records, key=lambda r: seq_of(r.key) if seq_of(r.key) is not None else -1)
    expected_prev = GENESIS
    for position, record in enumerate(by_seq):
        key_seq = seq_of(record.key)
        if key_seq is None:
            problems.append(f"{record.key}: not a ledger record name")
            continue
        if key_seq != position:
            problems.append(f"{key_for(env, position)}: missing (the chain jumps to {record.key})")
            position = key_seq
        if not record.data:
            problems.append(f"{record.key}: not a JSON record (edited?)")
            expected_prev = record.hash
            continue
        if record.seq != key_seq or record.get("env") != env:
            problems.append(f"{record.key}: says seq {record.seq} env {record.get('env')!r} (moved or reordered?)")
        if record.get("prev") != expected_prev:
            problems.append(f"{record.key}: prev hash does not match the record before it (edited, "
                            "deleted or reordered)")
        if encode({k: v for k, v in record.data.items()}) != record.raw:
            problems.append(f"{record.key}: bytes are not canonical (edited by hand?)")
        expected_prev = record.hash
    return problems


def window_problems(env: str, keys: list[str], fetched: dict[str, Record]) -> list[str]:
    """Tampering visible in what a command already read, without reading more.

    `keys` is the whole listing (so a deleted record shows as a gap); `fetched` the records read so far
    (usually the newest few). Each fetched record must sit under its own seq, be canonical, and be
    what the next fetched record's `prev` hashes. `verify` checks every record; this is its cheap cousin
    that every promotion runs on the chains it relies on.
    """
    problems: list[str] = []
    numbered = sorted(s for s in (seq_of(k) for k in keys) if s is not None)
    if numbered and numbered != list(range(numbered[-1] + 1)):
        missing = next(i for i, s in enumerate(numbered) if s != i)
        problems.append(f"{key_for(env, missing)}: missing (deleted?)")
    by_seq: dict[int, Record] = {s: r for k, r in fetched.items() if (s := seq_of(k)) is not None}
    for seq, record in sorted(by_seq.items()):
        if not record.data or record.seq != seq or record.get("env") != env:
            problems.append(f"{record.key}: not the record for seq {seq} of {env} (edited, moved or reordered?)")
        elif encode(record.data) != record.raw:
            problems.append(f"{record.key}: bytes are not canonical (edited by hand?)")
        after = by_seq.get(seq + 1)
        if after is not None and after.get("prev") != record.hash:
            problems.append(f"{after.key}: prev hash does not match {record.key} (edited, deleted or reordered)")
    return problems


@dataclass(frozen=True)
class LockState:
    """The open `started` record (the lock) if any, and its lease."""

    started: Record | None
    lease_expires: dt.datetime | None

    @property
    def held(self) -> bool:
        return self.started is not None


def lock_state(newest_first: Iterable[Record]) -> LockState:
    """Walk back from the newest record until the lock's state is known (usually one record).

    A `started` record is closed by an `outcome` marked `closes`, or by an `unlock`.
    """
    lease: dict[int, dt.datetime | None] = {}
    for record in newest_first:
        if record.type == "unlock" or (record.type == "outcome" and record.get("closes")):
            return LockState(None, None)
        if record.type == "lease":
            lease.setdefault(int(record.get("started_seq", -1)), _time(record.get("lease_expires")))
        if record.type == "started":
            return LockState(record, lease.get(record.seq) or _time(record.get("lease_expires")))
    return LockState(None, None)


def find_outcome(newest_first: Iterable[Record], *, target: dict | None = None, outcome: str | None = None,
                 artifact: str | None = None, exclude_artifact: str | None = None) -> Record | None:
    """The newest outcome record matching every given field (walks back only as far as needed)."""
    for record in newest_first:
        if record.type != "outcome":
            continue
        if target is not None and target_key(record.get("target")) != target_key(target):
            continue
        if outcome is not None and record.get("outcome") != outcome:
            continue
        if artifact is not None and record.get("artifact") != artifact:
            continue
        if exclude_artifact is not None and record.get("artifact") == exclude_artifact:
            continue
        return record
    return None


def target_key(target: Any) -> str:
    if isinstance(target, dict):
        return f"{target.get('account')}/{target.get('region')}"
    return str(target)


def _time(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
