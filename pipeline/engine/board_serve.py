"""`pipeline board --serve`: the board on 127.0.0.1 (stdlib http.server in a thread), rendered again on a
request when the copy in hand is older than `max_age` seconds, so a page that reloads itself follows a
running promotion without each reload costing a full read of every account."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class BoardServer:
    """Serves `page()` at `/` (and `/index.html`); `/board.json` serves `document()` when given."""

    def __init__(self, page: Callable[[], str], port: int = 0, *, max_age: float = 2.0,
                 document: Callable[[], str] | None = None) -> None:
        self._page, self._document, self.max_age = page, document, max_age
        self._cache: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()
        self.errors: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path in ("/", "/index.html"):
                    server._answer(self, "page", server._page, "text/html; charset=utf-8")
                elif path == "/board.json" and server._document is not None:
                    server._answer(self, "document", server._document, "application/json")
                else:
                    self.send_error(404, "the board is at /")

            def log_message(self, format: str, *args: object) -> None:
                return  # the terminal shows the URL once, not a line per reload

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def start(self) -> BoardServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="board-serve", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _render(self, name: str, make: Callable[[], str]) -> str:
        with self._lock:  # one rendering at a time; readers within max_age share it
            made = self._cache.get(name)
            if made is None or time.monotonic() - made[0] > self.max_age:
                made = (time.monotonic(), make())
                self._cache[name] = made
            return made[1]

    def _answer(self, handler: BaseHTTPRequestHandler, name: str, make: Callable[[], str], kind: str) -> None:
        try:
            body, status = self._render(name, make).encode(), 200
        except Exception as exc:  # the server stays up: the page says what failed, the next reload tries again
            self.errors.append(f"{type(exc).__name__}: {exc}")
            body, status, kind = f"board: {type(exc).__name__}: {exc}\n".encode(), 500, "text/plain; charset=utf-8"
        handler.send_response(status)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Cache-Control", "no-store")
        handler.end_headers()
        handler.wfile.write(body)
