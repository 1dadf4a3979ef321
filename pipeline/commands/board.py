"""`pipeline board`: the promotion board, one self-contained HTML page (what runs where, what blocks the
next promotion and why, the ledger's newest records and its verification verdict per env), built from
the same reads as `status`, `history` and `verify`. `--serve` keeps it on 127.0.0.1, reloading itself;
`--publish` writes it to the tooling bucket's `board/index.html` and prints a presigned URL to it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.commands.context import Context
from pipeline.inputs import positive_int

if TYPE_CHECKING:
    from pipeline.core.board import Board


def _port(value: str) -> int:
    if not value.isdigit() or int(value) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535 (0: any free port), got {value!r}")
    return int(value)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", help="one environment (default: all)")
    parser.add_argument("--out", default="dist/board.html", help="where the page is written (default dist/board.html)")
    parser.add_argument("--records", type=positive_int, default=10,
                        help="the newest N ledger records per env on the timeline (default 10; one GET each)")
    parser.add_argument("--full", action="store_true",
                        help="verify every ledger record, as `pipeline verify` does (one GET each)")
    parser.add_argument("--serve", action="store_true", help="serve the page on 127.0.0.1 until interrupted")
    parser.add_argument("--port", type=_port, default=8765, help="with --serve: the port (default 8765; 0: any)")
    parser.add_argument("--refresh", type=positive_int, default=5,
                        help="with --serve: seconds between the page's reloads (default 5; 2 while a promotion runs)")
    parser.add_argument("--publish", action="store_true",
                        help="also write it to s3://<artifact bucket>/board/index.html and print a presigned URL")
    parser.add_argument("--expires", type=positive_int, default=86400,
                        help="with --publish: the URL's lifetime in seconds (default 86400)")


def run(args: argparse.Namespace) -> int:
    from pipeline.core.board_html import render
    from pipeline.engine.board import observe

    ctx = Context(args)
    envs = ctx.config().select(args.env)
    if args.serve:
        return _serve(ctx, args)
    board = observe(ctx.engine, envs, records=args.records, full=args.full)
    html = render(board)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    ctx.out.table(["env", "next", "verdict", "records", "lock"],
                  [[e.name, e.next.get("text"), e.verdict.state, e.records, _lock_words(e.lock)] for e in board.envs])
    for e in board.envs:
        if e.error:
            ctx.out.text(f"cannot read: {e.name}: {e.error}")
        for c in e.cells:
            if c.error:
                ctx.out.text(f"cannot read: {e.name} {c.target} {c.function}: {c.error}".replace("  ", " "))
    ctx.out.text(f"board: {out}")
    _nothing_read(board)
    url = None
    if args.publish:
        from pipeline.aws.board import BOARD_KEY, BoardObject

        url = BoardObject(ctx.sessions.base(), ctx.config()).publish(html, args.expires)
        ctx.out.progress(f"board: s3://{ctx.config().artifact_bucket}/{BOARD_KEY}, for {args.expires}s at {url}")
    ctx.out.document("board", out=str(out), url=url, **board.to_dict())
    return 0


def _nothing_read(board: Board) -> None:
    """Every env unreadable (no tooling stack, no credentials): the page says why, and so does the exit code."""
    from pipeline.errors import PipelineError

    if board.envs and all(e.error for e in board.envs):
        raise PipelineError(f"board: nothing could be read: {board.envs[0].name}: {board.envs[0].error}")


def _lock_words(lock: dict | None) -> str | None:
    if not lock:
        return None
    return f"{'DEAD, ' if lock.get('dead') else ''}held by {lock['holder']['actor']} since {lock.get('since')}"


def _serve(ctx: Context, args: argparse.Namespace) -> int:
    import json

    from pipeline.core.board_html import render
    from pipeline.engine.board import observe
    from pipeline.engine.board_serve import BoardServer
    from pipeline.engine.context import EngineContext

    config, envs = ctx.config(), ctx.config().select(args.env)

    def fresh() -> Board:  # a new engine per rendering: nothing read is kept from one reload to the next
        return observe(EngineContext(config, ctx.accounts, ctx.out), envs, records=args.records, full=args.full)

    def page() -> str:
        board = fresh()
        return render(board, refresh_seconds=min(2, args.refresh) if board.running else args.refresh)

    server = BoardServer(page, args.port, document=lambda: json.dumps(fresh().to_dict(), default=str)).start()
    ctx.out.progress(f"board: serving {server.url} (Ctrl-C stops it)")
    try:
        import threading

        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
