"""Concurrency: N promoters on one env at once (threads and processes): one wins, the rest exit 3 naming it.

Two ways of being "at once":
- `lock`: every promoter has passed its gates and waits at its lock write (the `started`
  PutObject with IfNoneMatch) until all are there, then all write together: only the
  conditional put decides.
- `start`: all start together; the winner is held inside its lock until every loser has
  exited, so a loser meets the lock either in its gates ("lock: held by ...") or at its put.
- `late` (threads): the others start the moment the first one's lock is written: they all
  meet it in their gates.
Promoters of different envs hold their locks at the same time and both succeed.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from faults import install_hooks
from helpers import REPO

from pipeline.cli import main

LAUNCHER = REPO / "tests" / "launcher.py"
TIMEOUT = 120


class PerThread(io.TextIOBase):
    """sys.stdout/sys.stderr stand-in that keeps each thread's output apart."""

    def __init__(self, fallback) -> None:
        self.fallback = fallback
        self.local = threading.local()

    def write(self, text: str) -> int:
        return (getattr(self.local, "buf", None) or self.fallback).write(text)

    def flush(self) -> None:
        pass


def is_started_put(model, params) -> bool:
    from launcher import is_started_put as check

    return check(model, params)


def promote_threads(monkeypatch, argvs: list[list[str]], mode: str) -> list[tuple[int, str]]:
    """Run each argv through the CLI in its own thread, all at once; [(exit code, stderr)]."""
    n = len(argvs)
    at_start = threading.Barrier(n, timeout=TIMEOUT)
    at_lock = threading.Barrier(n, timeout=TIMEOUT)
    first_locked = threading.Event()
    losers_done = threading.Event()
    finished = []

    met = threading.local()  # a retried put (S3 can answer concurrent conditional writes 409) meets no barrier

    def before(model, params, context, **_):
        if is_started_put(model, params):
            context["started_put"] = True
            if mode == "lock" and not getattr(met, "lock", False):
                met.lock = True
                at_lock.wait()

    def after(http_response, context, **_):
        if context.get("started_put") and http_response.status_code == 200:
            first_locked.set()
            assert losers_done.wait(TIMEOUT), "the losers did not finish while the winner held the lock"

    install_hooks(monkeypatch, [("before-call", before), ("after-call", after)])
    out, err = PerThread(sys.stdout), PerThread(sys.stderr)
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    results: list[tuple[int, str] | None] = [None] * n
    lock = threading.Lock()

    def one(i: int) -> None:
        out.local.buf, err.local.buf = io.StringIO(), io.StringIO()
        try:
            if mode == "start":
                at_start.wait()
            if mode == "late" and i > 0:
                assert first_locked.wait(TIMEOUT)
            code = main(argvs[i])
        finally:
            results[i] = (locals().get("code", -1), err.local.buf.getvalue())
            with lock:
                finished.append(i)
                if len(finished) >= n - 1:
                    losers_done.set()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert all(r is not None for r in results), "a promoter hung"
    return results  # type: ignore[return-value]


def promote_processes(world, argvs: list[list[str]], mode: str, tmp: Path) -> list[tuple[int, str]]:
    """The same with one OS process per promoter (tests/launcher.py), started together."""
    hold = tmp / "release-winner"
    go = tmp / "go"
    procs = []
    for i, argv in enumerate(argvs):
        flags = ["--ready", str(tmp / f"ready-{i}"), "--go", str(go), "--hold", str(hold)]
        if mode == "start":
            flags.append("--start")
        procs.append(subprocess.Popen([sys.executable, str(LAUNCHER), *flags, "--", *argv],
                                      cwd=world.envdir.parent, env=dict(os.environ), stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True))
    try:
        _until(lambda: all((tmp / f"ready-{i}").exists() for i in range(len(argvs))), "every promoter ready")
        go.touch()  # all at once
        _until(lambda: sum(p.poll() is not None for p in procs) >= len(procs) - 1, "the losers to exit")
        hold.touch()
        return [(p.wait(TIMEOUT), p.stderr.read()) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()


def _until(condition, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def check_one_winner(world, results: list[tuple[int, str]], before: int, gate: bool = False) -> None:
    codes = sorted(code for code, _ in results)
    assert codes == [0] + [3] * (len(results) - 1), results
    new = world.ledger("dev")[before:]
    started = [r for r in new if r["type"] == "started"]
    assert len(started) == 1, "exactly one promoter took the lock"
    key = f"ledger/dev/{started[0]['seq']:08d}.json"
    holder = started[0]["holder"]["actor"]
    assert [r["outcome"] for r in new if r["type"] == "outcome"] == ["PASSED"]
    for code, err in results:
        if code == 3:
            line = [x for x in err.splitlines() if x.startswith("pipeline: error:")]
            assert len(line) == 1 and holder in line[0] and key in line[0], err
            assert re.search(r"is locked: .* started a promotion first|lock: held by ", line[0]), line[0]
            assert not gate or "refused: lock: held by " in line[0], line[0]
    assert world.cli("verify")[0] == 0


def setup_second_release(world, built, built2) -> tuple[list[str], int]:
    world.stage(built)
    world.ok("promote", "--to", "dev")
    digest = world.stage(built2)
    return ["promote", "--to", "dev", "--artifact", digest], len(world.ledger("dev"))


@pytest.mark.parametrize(("n", "mode"), [
    (2, "lock"), (5, "start"), (5, "late"),
    pytest.param(5, "lock", marks=pytest.mark.proof), pytest.param(10, "lock", marks=pytest.mark.proof),
    pytest.param(2, "start", marks=pytest.mark.proof), pytest.param(10, "start", marks=pytest.mark.proof),
    pytest.param(10, "late", marks=pytest.mark.proof),
])
def test_threads_one_wins_the_rest_exit_3_naming_the_holder(world, built, built2, monkeypatch, n, mode):
    argv, before = setup_second_release(world, built, built2)
    results = promote_threads(monkeypatch, [argv] * n, mode)
    check_one_winner(world, results, before, gate=mode == "late")


@pytest.mark.proof
@pytest.mark.parametrize("n", [2, 5, 10])
@pytest.mark.parametrize("mode", ["lock", "start"])
def test_processes_one_wins_the_rest_exit_3_naming_the_holder(world, built, built2, tmp_path, n, mode):
    argv, before = setup_second_release(world, built, built2)
    results = promote_processes(world, [argv] * n, mode, tmp_path)
    check_one_winner(world, results, before)


def _dev_then_test_at_once(world, built, built2) -> list[list[str]]:
    first = world.stage(built)
    world.ok("promote", "--to", "dev", "--artifact", first)
    second = world.stage(built2)
    return [["promote", "--to", "dev", "--artifact", second], ["promote", "--to", "test", "--artifact", first]]


def test_threads_on_different_envs_do_not_block_each_other(world, built, built2, monkeypatch):
    argvs = _dev_then_test_at_once(world, built, built2)
    both_locked = threading.Barrier(2, timeout=TIMEOUT)

    def after(http_response, context, **_):
        if context.get("started") and http_response.status_code == 200:
            both_locked.wait()  # each holds its own lock until the other holds its own too

    def before(model, params, context, **_):
        context["started"] = is_started_put(model, params)

    install_hooks(monkeypatch, [("before-call", before), ("after-call", after)])
    results = [None, None]

    def one(i):
        results[i] = main(argvs[i])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert results == [0, 0]
    assert [r["outcome"] for r in world.ledger("test") if r["type"] == "outcome"] == ["PASSED"]
    assert world.ledger("dev")[-1]["outcome"] == "PASSED"


@pytest.mark.proof
def test_processes_on_different_envs_do_not_block_each_other(world, built, built2, tmp_path):
    argvs = _dev_then_test_at_once(world, built, built2)
    procs = [subprocess.Popen([sys.executable, str(LAUNCHER), "--hold", str(tmp_path / "release"), "--", *argv],
                              cwd=world.envdir.parent, env=dict(os.environ), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for argv in argvs]
    try:
        def both_hold() -> bool:
            return all(world.ledger(env) and world.ledger(env)[-1]["type"] == "started" for env in ("dev", "test"))

        _until(both_hold, "both promoters to hold their env's lock")
        (tmp_path / "release").touch()
        assert [p.wait(TIMEOUT) for p in procs] == [0, 0], [p.stderr.read() for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()


@pytest.mark.parametrize("mode", ["lock", "start"])
def test_three_rollbacks_at_once_one_wins_the_rest_exit_3_naming_it(world, built, built2, monkeypatch, mode):
    """Every writer takes the lock the same way: a rollback that loses the `started` put is refused
    (exit 3 naming the holder), never an unexpected LedgerConflict (exit 1)."""
    world.stage(built)
    world.ok("promote", "--to", "dev")
    world.ok("promote", "--to", "dev", "--artifact", world.stage(built2))
    before = len(world.ledger("dev"))
    results = promote_threads(monkeypatch, [["rollback", "--env", "dev"]] * 3, mode)
    assert sorted(code for code, _ in results) == [0, 3, 3], results
    new = world.ledger("dev")[before:]
    started = [r for r in new if r["type"] == "started"]
    assert len(started) == 1 and started[0]["action"] == "rollback"
    key, holder = f"ledger/dev/{started[0]['seq']:08d}.json", started[0]["holder"]["actor"]
    for code, err in results:
        if code == 3:
            [line] = [x for x in err.splitlines() if x.startswith("pipeline: error:")]
            assert holder in line and key in line, line
            assert re.search(r"dev is locked(: .* started a rollback first| by )", line), line
            assert "LedgerConflict" not in err
    assert [r["outcome"] for r in new if r["type"] == "outcome"] == ["PASSED"]
    assert world.live("dev", "111111111111")["Version"] == "1"
    assert world.cli("verify")[0] == 0
