"""The multi-function example the `functions:` tests start from (api with routes, worker on a schedule)."""

from __future__ import annotations

from pathlib import Path

FUNCTIONS = """\
functions:
  api:
    handler: api
    memory: 256
    environment: {LOG_LEVEL: info}
    reserved_concurrency: 5
    http:
      - GET /health
      - GET /version
      - GET /hello/{name}
    policy_statements:
      - actions: [dynamodb:GetItem]
        resources: ["arn:aws:dynamodb:us-east-1:111111111111:table/greetings"]
  worker:
    handler: worker
    schedule: rate(1 minute)
"""

DEV = """\
account: "111111111111"
function:
  environment: {LOG_LEVEL: debug}
functions:
  api: {memory: 512, environment: {LOG_LEVEL: debug}}
smoke:
  - name: health
    http: {method: GET, path: /health}
    expect: {statusCode: 200}
  - name: hello
    http: {method: GET, path: "/hello/bob?x=1", headers: {accept: application/json}}
  - name: tick
    function: worker
    event: {}
"""


def multi(envdir: Path, functions: str = FUNCTIONS, dev: str = DEV) -> None:
    """Turn the copy of the repo's environments/ into the multi-function example."""
    pipeline = envdir / "pipeline.yml"
    pipeline.write_text(pipeline.read_text() + functions)
    (envdir / "dev.yml").write_text(dev)
