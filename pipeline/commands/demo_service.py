"""The service flow of `pipeline demo`: the example service's two functions promoted as one release.

Besides the verbs (each run by `Demo.step`, printed with who acted), it shows what a user of the service
sees: a plain HTTP GET through prod's front door (its HTTP API, the front-door stack's `ApiEndpoint`), the
worker's EventBridge schedule fired through the emulator's control endpoint (`/_emulator/events`: AWS has
no such call; the rule also fires on its own every minute) and the heartbeat it wrote read back through
the front door. The heartbeat buckets are the service's own data store, made by the organization admin
before bootstrap (no pipeline stack owns them, as no pipeline stack owns a table the service uses).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.errors import PipelineError

if TYPE_CHECKING:
    from pipeline.commands.demo_steps import Demo
    from pipeline.config.merged import Environment, PipelineConfig
    from pipeline.local.emulator import Emulator

BUCKET_VARIABLE = "HEARTBEAT_BUCKET"
# The broken release: the api answers 500 on /health, the worker is unchanged (one function fails).
HEALTHY = 'return http.StatusOK, map[string]string{"status": "ok"}'
BROKEN = 'return http.StatusInternalServerError, map[string]string{"status": "broken"}'


def flow(demo: Demo) -> dict[str, Any]:
    """validate .. verify on the example service; what the test asserts goes in the demo's document."""
    from pipeline.commands import board, bootstrap, build, history, promote, stage, status, validate, verify
    from pipeline.commands.demo_steps import digest_of
    from pipeline.local.emulator import Emulator

    args, step = demo.args, demo.step
    config = demo.context("build").config()
    step("validate the service's environments (offline)", validate, [])
    functions = config.service_functions
    step(f"build the Go binary once for {len(functions)} functions ({', '.join(functions)}); the build asks it "
         "for its handlers", build, ["--dist", args.dist, "--go-dir", str(config.go_module())]
         + (["--skip-tests"] if args.skip_tests else []))
    artifact = digest_of(max(Path(args.dist).glob(f"{config.name}-*.zip"), key=lambda p: p.stat().st_mtime))
    with Emulator() as emulator:
        emulator.export_environment(os.environ)
        demo.say(f"\n== embedded AWS emulator at {emulator.endpoint_url}")
        _heartbeat_buckets(demo, config)
        step("bootstrap the tooling account and every environment (function stack, live aliases, front door)",
             bootstrap, ["--all"])
        # from here on the operator's keys: it may assume the promoter role the tooling stack made
        os.environ.update(emulator.environment("operator"))
        step("stage the artifact", stage, ["--dist", args.dist])
        started = time.perf_counter()
        step("promote to dev (every function, http smoke cases through dev's front door)", promote, ["--to", "dev"])
        step("promote to test", promote, ["--to", "test"])
        step("promote to prod (approved)", promote, ["--to", "prod", "--approve", "--reason", "demo release"])
        promotion_seconds = time.perf_counter() - started
        released = _live(demo, config)
        front_door = _front_door(demo, config, emulator)
        broken = _broken_build(demo, config)
        step("stage a broken release", stage, [str(broken)])
        digest = digest_of(broken)
        demo.say(f"\n-- the broken release {digest[:12]}: its api answers 500 on /health (the worker is fine); "
                 "it fails its smoke tests in dev and every function is rolled back:")
        step("promote the broken release to dev", promote, ["--to", "dev", "--artifact", digest], expect=1)
        step("promote the broken release to test", promote, ["--to", "test", "--artifact", digest], expect=3)
        after_broken = _live(demo, config)
        step("status", status, [])
        step("history", history, ["--limit", "4"])
        step("verify", verify, [])
        step("the promotion board (open it in a browser)", board, ["--out", str(Path(args.dist) / "board.html")])
    return {"promotion_seconds": round(promotion_seconds, 3), "artifact": artifact, "broken_artifact": digest,
            "code_sha256": base64.b64encode(bytes.fromhex(artifact)).decode(), "released": released,
            "after_broken": after_broken, **front_door}


def _environments(config: PipelineConfig) -> list[Environment]:
    return [config.environments[name] for name in config.order]


def _heartbeat_buckets(demo: Demo, config: PipelineConfig) -> None:
    """Each env account's heartbeat bucket, made as the organization admin (its admin_role)."""
    from pipeline.commands.demo_steps import acting_as

    demo.say(f"\n== the service's data store: a heartbeat bucket per env account (not a pipeline resource; made "
             f"as the organization admin before bootstrap)\n   as {acting_as()}")
    sessions = demo.context("bootstrap").sessions
    for env in _environments(config):
        buckets = {f.settings.environment.get(BUCKET_VARIABLE) for f in env.functions} - {None}
        for bucket in sorted(b for b in buckets if b):
            session = sessions.assume(env.account, env.admin_role)
            session.client("s3", env.region).create_bucket(Bucket=bucket)
            demo.say(f"   s3://{bucket} in {env.account}/{env.region} ({env.name})")


def _live(demo: Demo, config: PipelineConfig) -> dict[str, dict[str, dict[str, str]]]:
    """env -> function -> the `live` alias's version and CodeSha256 (read as the operator, via the deploy role)."""
    engine = demo.context("status").engine
    out: dict[str, dict[str, dict[str, str]]] = {}
    for env in _environments(config):
        for function in env.functions:
            found = engine.function(env, env.targets[0], function.key).version("live")
            if found is None:
                raise PipelineError(f"demo: {env.name} {function.key} has no live alias")
            out.setdefault(env.name, {})[function.key] = {"version": found.version, "code_sha256": found.code_sha256}
    return out


def _front_door(demo: Demo, config: PipelineConfig, emulator: Emulator) -> dict[str, Any]:
    """A GET through prod's front door, the worker's schedule fired, the heartbeat read back through it."""
    from pipeline.aws.http_smoke import send
    from pipeline.config.values import HttpRequest
    from pipeline.engine.service_promote import endpoint_of
    from pipeline.infra import naming

    prod = config.environments[config.order[-1]]
    endpoint, problem = endpoint_of(demo.context("status").engine, prod, prod.targets[0])
    if endpoint is None:
        raise PipelineError(f"demo: {prod.name}'s front door: {problem}")

    def get(path: str) -> dict[str, Any]:
        answer = json.loads(send(endpoint, HttpRequest("GET", path)).payload)
        demo.say(f"   GET {endpoint}{path} -> {answer['statusCode']} {answer['body']}")
        return {"path": path, "status": answer["statusCode"], "body": answer["body"]}

    demo.say(f"\n== {prod.name}'s front door (its HTTP API), as any client calls it")
    hello = get("/hello/demo")
    rule = naming.schedule_rule_name(config, prod, "worker")
    demo.say(f"\n== fire the worker's schedule {rule} now (the emulator's control endpoint; it also fires "
             "every minute on its own)")
    url = (f"{emulator.endpoint_url}/_emulator/events/rules/{rule}/fire"
           f"?account={prod.account}&region={prod.region}")
    with urllib.request.urlopen(urllib.request.Request(url, data=b"", method="POST"), timeout=60,
                                context=emulator.ssl_context()) as resp:
        deliveries = json.loads(resp.read())["deliveries"]
    for d in deliveries:
        demo.say(f"   {d.get('arn') or d['target']}: {d['status']} (function error: {d.get('function_error')}) "
                 f"at {d.get('time')}")
    heartbeat = get("/heartbeat")
    if hello["status"] != 200 or heartbeat["status"] != 200 or not deliveries:
        raise PipelineError("demo: prod's front door or the worker's heartbeat did not answer as expected")
    return {"front_door": {"endpoint": endpoint, "hello": hello}, "schedule": {"rule": rule, "deliveries": deliveries},
            "heartbeat": {**heartbeat, "json": json.loads(heartbeat["body"])}}


def _broken_build(demo: Demo, config: PipelineConfig) -> Path:
    """The service's module with the api's /health answering 500, built like the release (handlers asked)."""
    from pipeline.artifact.build import build_artifact

    module = demo.work / "broken-service"
    shutil.copytree(config.go_module(), module, ignore=shutil.ignore_patterns("*_test.go", ".*"))
    api = module / "api.go"
    source = api.read_text()
    if HEALTHY not in source:
        raise PipelineError(f"demo: {config.go_module() / 'api.go'} has no `{HEALTHY}` line to break")
    api.write_text(source.replace(HEALTHY, BROKEN))
    demo.say(f"\n== build a broken release: {config.go_module().name}/api.go with `{BROKEN}`")
    manifest = build_artifact(module, demo.work / "dist-broken", config.name, config.function_defaults.architecture,
                              "broken-1", run_tests=False)
    return demo.work / "dist-broken" / f"{manifest.stem}.zip"
