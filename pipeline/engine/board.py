"""`pipeline board`'s observe phase: the same reads as `status` (target_status, next_step, lock_state), the
newest N ledger records per env, and `verify`'s chain checks on them. Read-only: no writer here.

A read that fails for one env or one cell (an account that denies it) becomes that cell's reason; the
rest of the board is still drawn. The ledger records are fetched in parallel (LedgerView.prefetch), so the
board costs status's calls plus one GET per timeline record, most of them side by side.
"""

from __future__ import annotations

from collections.abc import Sequence

from botocore.exceptions import ClientError

from pipeline.aws.errors import describe
from pipeline.aws.ledger import LedgerView
from pipeline.config.merged import Environment
from pipeline.core import board as B
from pipeline.core import live as L
from pipeline.core import records as R
from pipeline.core.ledger import LockState, lock_state, verify_chain, window_problems
from pipeline.core.locks import age_seconds
from pipeline.engine.context import EngineContext
from pipeline.engine.lock import EnvLock
from pipeline.engine.nextstep import next_step
from pipeline.engine.state import LockStatus, TargetStatus, target_status
from pipeline.errors import PipelineError


def observe(engine: EngineContext, envs: Sequence[Environment], *, records: int = 10, full: bool = False
            ) -> B.Board:
    """The whole board. `records`: the newest N per env on the timeline; `full`: verify every record (as
    `pipeline verify` does: one GET per record) instead of the records read."""
    views: dict[str, LedgerView] = {}
    boards = []
    for env in envs:
        try:
            boards.append(_env_board(engine, env, views, records, full))
        except (PipelineError, ClientError) as exc:
            reason = exc.message if isinstance(exc, PipelineError) else describe(exc)
            boards.append(B.EnvBoard(env.name, (), {"kind": "error", "text": "cannot read", "detail": reason,
                                                    "gates": []}, B.ERROR, None, (), 0,
                                     B.Verdict("unreadable", B.ERROR, "nothing could be read", (reason,)), reason))
    running = any(b.lock and not b.lock.get("dead") for b in boards)
    now = engine.now().astimezone().isoformat(timespec="seconds")
    return B.Board(engine.config.name, now, tuple(boards), tuple(engine.config.order), running)


def _env_board(engine: EngineContext, env: Environment, views: dict[str, LedgerView], records: int,
               full: bool) -> B.EnvBoard:
    view = views.get(env.name) or engine.ledger.view(env.name)
    views[env.name] = view
    window_keys = view.keys[-records:] if records else []
    wanted = view.keys if full else window_keys
    view.prefetch(wanted)  # in parallel; the view keeps each record once
    lock = lock_state(view.newest_first())
    dead = EnvLock(engine, env).dead(lock) if lock.held else None
    statuses: list[TargetStatus] = []
    cells: list[B.Cell] = []
    for target in env.targets:
        for f in env.functions:
            where = f"{target.account}/{target.region}"
            try:
                status = target_status(engine, env, target, view, lock=lock, dead=dead, key=f.key)
            except (PipelineError, ClientError) as exc:
                cells.append(B.failed_cell(env.name, where, f.key, _reason(exc)))
                continue
            statuses.append(status)
            cells.append(B.missing_cell(env.name, where, f.key) if status.function_missing
                         else B.cell(status.to_dict(), L.label(status.facts)))
    try:
        step = next_step(engine, env, views, lock, dead, statuses).to_dict() if statuses else {
            "kind": "error", "text": "cannot read", "detail": "no target could be read", "gates": []}
    except (PipelineError, ClientError) as exc:
        step = {"kind": "error", "text": "cannot decide", "detail": _reason(exc), "gates": []}
    window = [view.record(k) for k in window_keys]
    chain = verify_chain(env.name, view.all()) if full else window_problems(env.name, view.keys, view.fetched())
    suspect = [k for k in view.keys if any(k in p for p in chain)]
    findings = [f"{s.env} {s.where}: {f.message} (fix: {f.fix})" for s in statuses for f in s.findings]
    if lock.started and dead:
        findings.append(f"lock {lock.started.key} of {R.holder(lock.started).actor} is dead ({dead}): "
                        f"`pipeline unlock --env {env.name} --force`")
    checked = (f"all {len(view.keys)} records" if full else
               f"the newest {len(window_keys)} of {len(view.keys)} records and the listing; "
               f"`pipeline verify --env {env.name}` checks every record")
    return B.EnvBoard(env.name, tuple(cells), step, B.next_tone(str(step.get("kind"))),
                      _lock(engine, env.name, view, lock, dead, cells), tuple(B.marks(window, suspect)),
                      len(view.keys), B.verdict(chain, findings, checked))


def _lock(engine: EngineContext, env: str, view: LedgerView, lock: LockState, dead: str | None,
          cells: Sequence[B.Cell]) -> dict | None:
    """The held lock as status prints it, with the running promotion's progress (its in-flight records)."""
    if lock.started is None:
        return None
    now = engine.now()
    data = LockStatus(env, lock, age_seconds(lock, now), dead).to_dict()
    data["line"] = LockStatus(env, lock, age_seconds(lock, now), dead).line()
    data["artifact"] = R.artifact(lock.started)
    data["targets"] = [t.to_dict() for t in R.targets(lock.started)]
    start = view.keys.index(lock.started.key) if lock.started.key in view.keys else len(view.keys)
    after = [view.record(k) for k in view.keys[start + 1:]]
    data["progress"] = B.progress(data, after, [f"{c.target} {c.function} {c.canary}".replace("  ", " ")
                                                for c in cells if c.canary], now)
    return data


def _reason(exc: Exception) -> str:
    return exc.message if isinstance(exc, PipelineError) else describe(exc)
