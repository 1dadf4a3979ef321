"""The sandbox of a multi-function service (tests/config/service_example.py) on the emulator, through the CLI:
`up` makes every function (own role, handler, settings), a `live` alias on each and the front door (HTTP API,
the worker's rule, DISABLED); `deploy` puts the one artifact on every function; `invoke --http` goes through the
API to the Go binary, `invoke --function worker` runs the worker; `down` leaves nothing. Bad input is exit 2."""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path

import boto3
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "config"))
from service_example import multi

pytestmark = pytest.mark.emulator
ACCOUNT = "123456789012"
BASE = "greeter-sbx-alice"
TICK = {"detail-type": "Scheduled Event", "source": "aws.events", "time": "2024-01-01T00:00:00Z", "detail": {}}
SMOKE = [{"name": "health", "http": {"method": "GET", "path": "/health"}, "expect": {"statusCode": 200}},
         {"name": "hello", "http": {"method": "GET", "path": "/hello/bob"}, "expect": {"statusCode": 200}},
         {"name": "tick", "function": "worker", "event": TICK}]


def aws(service: str):
    return boto3.client(service, region_name="us-east-1")


@pytest.fixture
def service(envdir, sh) -> Path:
    multi(envdir)
    sandbox = yaml.safe_load((envdir / "sandbox.yml").read_text()) or {}
    sandbox["smoke"] = SMOKE
    (envdir / "sandbox.yml").write_text(yaml.safe_dump(sandbox))
    return envdir


def frontdoor() -> dict[str, str]:
    stack = aws("cloudformation").describe_stacks(StackName=f"{BASE}-frontdoor")["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_up_deploy_invoke_down_of_a_service(sh, service, prebuilt, calls, tmp_path):
    out = sh.ok("sandbox", "up")
    assert f"{BASE}-api" in out and f"{BASE}-worker" in out
    lam, iam = aws("lambda"), aws("iam")
    roles = set()
    for key in ("api", "worker"):
        fn = lam.get_function_configuration(FunctionName=f"{BASE}-{key}")
        assert fn["Runtime"] == "python3.12"  # the stub until a deploy
        assert fn["Environment"]["Variables"]["ENVIRONMENT"] == "sandbox"
        roles.add(fn["Role"])
        assert lam.get_alias(FunctionName=f"{BASE}-{key}", Name="live")["FunctionVersion"] == "1"
        tags = lam.get_function(FunctionName=f"{BASE}-{key}")["Tags"]
        assert tags["owner"] == f"arn:aws:sts::{ACCOUNT}:user/moto" and tags["pipeline:sandbox"] == "alice"
    assert len(roles) == 2
    api_fn = lam.get_function_configuration(FunctionName=f"{BASE}-api")
    assert api_fn["Environment"]["Variables"]["LOG_LEVEL"] == "info"
    assert lam.get_function_concurrency(FunctionName=f"{BASE}-api")["ReservedConcurrentExecutions"] == 5
    api_role = api_fn["Role"].rsplit("/", 1)[1]
    assert sorted(iam.list_role_policies(RoleName=api_role)["PolicyNames"]) == ["extra", "logs"]
    doors = frontdoor()
    apigw = aws("apigatewayv2")
    api = apigw.get_api(ApiId=doors["ApiId"])
    assert api["Name"] == BASE and api["ApiEndpoint"] == doors["ApiEndpoint"]
    assert sorted(r["RouteKey"] for r in apigw.get_routes(ApiId=doors["ApiId"])["Items"]) == [
        "GET /health", "GET /hello/{name}", "GET /version"]
    assert [i["IntegrationUri"] for i in apigw.get_integrations(ApiId=doors["ApiId"])["Items"]] == [
        f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{BASE}-api:live"]
    rule = aws("events").describe_rule(Name=f"{BASE}-worker-schedule")
    assert rule["State"] == "DISABLED" and rule["ScheduleExpression"] == "rate(1 minute)"

    calls.clear()
    sh.ok("sandbox", "up")  # again: nothing changes but the lock
    assert calls.writes == [("s3", "PutObject"), ("s3", "DeleteObject")], calls.writes

    code, out, err = sh.deploy("--output", "json")
    doc = json.loads(out)
    assert code == 0, (out, err)
    assert [r["passed"] for r in doc["smoke"]] == [True, True, True], doc["smoke"]
    assert doc["versions"] == {f"{BASE}-api": "2", f"{BASE}-worker": "2"}
    artifact = base64.b64encode(hashlib.sha256(prebuilt_zip(sh).read_bytes()).digest()).decode()
    for key, handler in (("api", "api"), ("worker", "worker")):
        live = lam.get_function_configuration(FunctionName=f"{BASE}-{key}", Qualifier="live")
        assert live["CodeSha256"] == artifact and live["Runtime"] == "provided.al2023"
        assert live["Handler"] == handler and live["Version"] == "2"

    code, out, _ = sh.run("sandbox", "invoke", "--http", "GET /hello/bob", "--header", "accept: application/json")
    assert code == 0 and out.startswith("HTTP 200") and "bob" in out, out
    code, out, _ = sh.run("sandbox", "invoke", "--http", "GET /nowhere")
    assert code == 1 and out.startswith("HTTP 404") and "Not Found" in out, out
    event = tmp_path / "tick.json"
    event.write_text(json.dumps(TICK))
    code, out, _ = sh.run("sandbox", "invoke", "--function", "worker", "--event", str(event))
    assert code == 0 and '"function":"worker"' in out.replace(" ", ""), out

    status = json.loads(sh.ok("--output", "json", "sandbox", "status"))
    assert [f["function"] for f in status["functions"]] == [f"{BASE}-api", f"{BASE}-worker"]
    assert {f["live_version"] for f in status["functions"]} == {"2"} and status["endpoint"] == doors["ApiEndpoint"]
    assert status["untagged"] == [] and f"{BASE}-frontdoor" in status["stacks"]

    out = sh.ok("sandbox", "down")
    assert f"deleted stack {BASE}-frontdoor" in out and f"deleted stack {BASE}-function" in out
    assert aws("cloudformation").describe_stacks()["Stacks"] == []
    assert lam.list_functions()["Functions"] == [] and iam.list_roles()["Roles"] == []
    assert apigw.get_apis()["Items"] == [] and aws("events").list_rules()["Rules"] == []
    assert aws("s3").list_buckets()["Buckets"] == [] and aws("logs").describe_log_groups()["logGroups"] == []


def prebuilt_zip(sh) -> Path:
    return next(sh.dist.glob("*.zip"))


def test_gc_finds_every_stack_of_a_service_sandbox(sh, service, monkeypatch):
    import datetime as dt

    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=30)
    with monkeypatch.context() as clock:
        clock.setattr("pipeline.engine.sandbox.utcnow", lambda: past)
        sh.ok("sandbox", "up")
    assert "deleted" in sh.ok("sandbox", "gc")
    assert aws("cloudformation").describe_stacks()["Stacks"] == []
    assert aws("apigatewayv2").get_apis()["Items"] == [] and aws("events").list_rules()["Rules"] == []


def test_run_schedules_enables_the_rule(sh, service):
    sandbox = yaml.safe_load((service / "sandbox.yml").read_text())
    (service / "sandbox.yml").write_text(yaml.safe_dump({**sandbox, "run_schedules": True}))
    sh.ok("sandbox", "up")
    assert aws("events").describe_rule(Name=f"{BASE}-worker-schedule")["State"] == "ENABLED"


@pytest.mark.parametrize(("args", "message"), [
    (["invoke", "--function", "billing"], "--function 'billing': the service declares no such function "
                                          "(declared: api, worker)"),
    (["invoke", "--http", "FETCH /x"], "--http 'FETCH /x': give 'METHOD /path'"),
    (["invoke", "--http", "GET /health", "--function", "api"], "--http goes where its route goes"),
    (["invoke", "--header", "a:b"], "--header and --data go with --http"),
])
def test_bad_input_is_exit_2_before_any_call(sh, service, calls, args, message):
    code, _, err = sh.run("sandbox", *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert calls.calls == []


def test_http_on_a_service_without_routes_is_exit_2(sh, envdir, calls):
    multi(envdir, functions="functions:\n  worker:\n    handler: worker\n    schedule: rate(1 minute)\n",
          dev='account: "111111111111"\n')
    code, _, err = sh.run("sandbox", "invoke", "--http", "GET /health")
    assert code == 2 and "has no http routes" in err and len(err.strip().splitlines()) == 1, err
    assert calls.calls == []


def test_http_on_the_one_function_sandbox_is_exit_2(sh, calls):
    code, _, err = sh.run("sandbox", "invoke", "--http", "GET /health")
    assert code == 2 and "has no http routes" in err, err
    assert calls.calls == []


def test_a_function_name_over_64_characters_is_exit_2(sh, envdir, calls):
    key = "w" * 28  # greeter-dev-www… is short enough; greeter-sbx-<24 characters>-www… is 65
    multi(envdir, functions=f"functions:\n  {key}:\n    handler: worker\n", dev='account: "111111111111"\n')
    code, _, err = sh.run("sandbox", "up", "--user", "u" * 24)
    assert code == 2 and "is 65 characters: at most 64" in err and len(err.strip().splitlines()) == 1, err
    assert calls.calls == []


def test_the_boundary_of_a_service_adds_exactly_apigateway_and_events(sh, service):
    from pipeline.config.load import load_config
    from pipeline.core import sandbox_calls as C
    from pipeline.core import sandbox_guard as G

    config = load_config(str(service))
    assert G.allowed_services(config) == (*G.TOOL_SERVICES, "apigateway", "events")
    needs = G.needs(config)
    assert needs == {C.SERVICE, C.HTTP, C.SCHEDULE}
    arn = G.boundary_arn("greeter", C.SAMPLE_ACCOUNT)
    assert C.blocked(G.boundary_document("greeter", G.allowed_services(config)), arn, needs) == []
    refused = {c.action for c, _ in C.blocked(G.boundary_document("greeter", G.TOOL_SERVICES), arn, needs)}
    assert refused == {c.action for c in C.calls_for(needs) if c.action.split(":")[0] in ("apigateway", "events")}
    write = yaml.safe_load((service / "sandbox.yml").read_text())
    (service / "sandbox.yml").write_text(yaml.safe_dump({**write, "allowed_services": list(G.TOOL_SERVICES)}))
    code, _, err = sh.run("sandbox", "up")
    assert code == 2 and "allowed_services lacks apigateway, events" in err, err


def test_a_bounded_developer_runs_the_whole_service_sandbox(sh, service, prebuilt, tmp_path):
    """The IAM layer on: a developer role under the boundary rendered for this service (require_boundary)."""
    from test_sandbox_guardrails import _role

    sandbox = yaml.safe_load((service / "sandbox.yml").read_text())
    (service / "sandbox.yml").write_text(yaml.safe_dump({**sandbox, "require_boundary": True}))
    sh.ok("sandbox", "boundary", "--apply")
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/greeter-sandbox-boundary"
    _role("dev-bounded", boundary)
    sh.act_as(ACCOUNT, "dev-bounded")
    sh.ok("sandbox", "up")
    code, out, err = sh.deploy()
    assert code == 0, (out, err)
    assert sh.ok("sandbox", "invoke", "--http", "GET /hello/bob").startswith("HTTP 200")
    event = tmp_path / "tick.json"
    event.write_text(json.dumps(TICK))
    sh.ok("sandbox", "invoke", "--function", "worker", "--event", str(event))
    sh.ok("sandbox", "logs", "--function", "worker")
    sh.ok("sandbox", "status")
    for key in ("api", "worker"):
        role = aws("lambda").get_function_configuration(FunctionName=f"{BASE}-{key}")["Role"].rsplit("/", 1)[1]
        assert aws("iam").get_role(RoleName=role)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    sh.ok("sandbox", "down")
    assert aws("cloudformation").describe_stacks()["Stacks"] == []
