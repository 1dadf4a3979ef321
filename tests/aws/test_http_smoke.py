"""The http smoke adapter against a local HTTP server: method, path, headers and body sent; any status is an
answer `core.smoke.evaluate` judges; no answer is one line naming method and path (never a header)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline.aws.http_smoke import send
from pipeline.config.values import HttpRequest, SmokeCase, SmokeExpect
from pipeline.core.smoke import evaluate
from pipeline.errors import PipelineError


class Handler(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode() if length else None
        status = 404 if self.path.startswith("/missing") else 200
        data = json.dumps({"method": self.command, "path": self.path, "token": self.headers.get("x-token"),
                           "body": body}).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def endpoint():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_request_is_sent_and_answer_judged_like_a_lambda_proxy_answer(endpoint):
    request = HttpRequest("POST", "/hello/bob?x=1", {"x-token": "s3cret"}, '{"a": 1}')
    answer = send(endpoint, request)
    case = SmokeCase("hello", http=request, expect=SmokeExpect(
        statusCode=200, body_json={"method": "POST", "path": "/hello/bob?x=1", "body": '{"a": 1}'},
        headers={"content-type": "application/json"}))
    result = evaluate(case, "http", answer)
    assert result.passed, result.reason
    assert json.loads(json.loads(answer.payload)["body"])["token"] == "s3cret"


def test_an_error_status_is_an_answer(endpoint):
    case = SmokeCase("missing", http=HttpRequest("GET", "/missing"), expect=SmokeExpect(statusCode=200))
    result = evaluate(case, "http", send(endpoint, case.http))
    assert not result.passed and result.status == 404 and "statusCode 404, expected 200" in result.reason


def test_no_answer_is_one_line_without_headers():
    with pytest.raises(PipelineError) as caught:
        send("http://127.0.0.1:9/", HttpRequest("GET", "/health?key=secret", {"authorization": "Bearer s3cret"}),
             timeout=2)
    text = caught.value.message
    assert text.startswith("http smoke GET /health: no answer from 127.0.0.1:9") and "\n" not in text
    assert "s3cret" not in text and "secret" not in text
