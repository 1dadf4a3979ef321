"""Every bad `functions:` input through the real `pipeline validate` on a copy of environments/: exit 2,
nothing on stdout, and exactly one error line naming file:line (the multi-function example of
service_example.py, broken one way per case)."""

from __future__ import annotations

import pytest
from service_example import DEV, FUNCTIONS, multi

from pipeline.cli import main

TOP = "environments/pipeline.yml"  # the repo's pipeline.yml is 28 lines: functions: is line 29
LONG = "worker-" + "x" * 50

CASES = {
    "route claimed twice": (
        FUNCTIONS + '    http: ["GET /hello/{who}"]\n', DEV,
        f"{TOP}:45: functions.worker.http[0]: route 'GET /hello/{{who}}' is already served by function 'api' "
        f"({TOP}:38)"),
    "route listed twice by one function": (
        FUNCTIONS.replace("      - GET /version\n", "      - GET /health\n"), DEV,
        f"{TOP}:37: functions.api.http[1]: route 'GET /health' is listed twice (also at {TOP}:36)"),
    "route key that does not parse": (
        FUNCTIONS.replace("GET /version", "GET version"), DEV,
        f"{TOP}:37: functions.api.http[1]: 'GET version' has path 'version': a route path starts with /"),
    "route method that does not exist": (
        FUNCTIONS.replace("GET /version", "FETCH /version"), DEV,
        f"{TOP}:37: functions.api.http[1]: 'FETCH /version' has method 'FETCH': use one of GET POST PUT PATCH "
        "DELETE HEAD OPTIONS ANY (upper case)"),
    "function key too long for Lambda": (
        FUNCTIONS.replace("  worker:", f"  {LONG}:"), DEV.replace("function: worker", f"function: {LONG}"),
        f"{TOP}:42: functions.{LONG}: the Lambda function name 'greeter-test-{LONG}' in env 'test' is 70 "
        "characters: Lambda allows at most 64 of A-Z a-z 0-9 _ -"),
    "function key with other characters": (
        FUNCTIONS.replace("  worker:", "  Worker_1:"), DEV.replace("function: worker", "function: api"),
        f"{TOP}:42: functions.Worker_1.[key]: 'Worker_1' is not a function key (a lower-case letter, then "
        "lower-case letters, digits or -)"),
    "rate with the plural for 1": (
        FUNCTIONS.replace("rate(1 minute)", "rate(1 minutes)"), DEV,
        f"{TOP}:44: functions.worker.schedule: 'rate(1 minutes)' needs the singular unit 'minute' for the value 1"),
    "cron without ?": (
        FUNCTIONS.replace("rate(1 minute)", '"cron(0 12 * * * *)"'), DEV,
        f"{TOP}:44: functions.worker.schedule: 'cron(0 12 * * * *)' must have ? in exactly one of day-of-month "
        "and day-of-week (the other names the days)"),
    "cron with five fields": (
        FUNCTIONS.replace("rate(1 minute)", '"cron(0 12 * * ?)"'), DEV,
        f"{TOP}:44: functions.worker.schedule: 'cron(0 12 * * ?)' has 5 fields: cron needs 6 (minutes hours "
        "day-of-month month day-of-week year)"),
    "http case for a function without http": (
        FUNCTIONS, DEV.replace("    http: {method: GET, path: /health}\n",
                               "    function: worker\n    http: {method: GET, path: /health}\n"),
        "environments/dev.yml:8: smoke[0].function: names function 'worker' for an http case, but it has no http "
        "routes (functions.<key>.http)"),
    "http case no route matches": (
        FUNCTIONS, DEV.replace("path: /health}", "path: /hello}"),
        "environments/dev.yml:8: smoke[0].http: GET /hello reaches no route of the env's HTTP API (routes: "
        "GET /health, GET /version, GET /hello/{name})"),
    "http case reaching another function's route": (
        FUNCTIONS, DEV.replace("  api: {memory: 512", "  worker: {http: [POST /work]}\n  api: {memory: 512").replace(
            "    http: {method: GET, path: /health}\n", "    function: worker\n    http: {method: GET, path: /health}\n"
        ).replace("function: worker\n    event: {}", "function: worker\n    http: {method: POST, path: /work}"),
        "environments/dev.yml:9: smoke[0].function: names function 'worker', but GET /health reaches route "
        "'GET /health' of function 'api'"),
    "http case and path": (
        FUNCTIONS, DEV.replace("    expect: {statusCode: 200}\n", "    path: /health\n"),
        "environments/dev.yml:7: smoke[0]: give either http (a request to the HTTP API) or event/path "
        "(an invocation), not both"),
    "invoke case with several http functions": (
        FUNCTIONS, DEV.replace("  api: {memory: 512", "  worker: {http: [POST /work]}\n  api: {memory: 512").replace(
            "    function: worker\n", ""),
        "environments/dev.yml:13: smoke[2].name: name the function this case invokes (function: one of api, worker; "
        "several have http routes: api, worker)"),
    "smoke case naming an undeclared function": (
        FUNCTIONS, DEV.replace("function: worker", "function: wrker"),
        "environments/dev.yml:13: smoke[2].function: names function 'wrker', which pipeline.yml does not declare "
        "(declared: api, worker)"),
    "env override of an undeclared function": (
        FUNCTIONS, DEV.replace("  api: {memory: 512", "  apx: {memory: 512"),
        f"environments/dev.yml:5: functions.apx: {TOP} declares no function 'apx' (declared: api, worker)"),
    "env functions: in the one-function service": (
        "", DEV.split("smoke:")[0],
        f"environments/dev.yml:5: functions.api: {TOP} declares no function 'api': it has no functions: "
        "(the one-function service), whose settings are function:"),
    "smoke case naming a function in the one-function service": (
        "", 'account: "111111111111"\nsmoke:\n  - {name: tick, function: worker, event: {}}\n',
        "environments/dev.yml:3: smoke[0].function: names function 'worker', but the service declares no "
        "functions: (the one-function service)"),
    "http case in the one-function service": (
        "", 'account: "111111111111"\nsmoke:\n  - {name: health, http: {method: GET, path: /health}}\n',
        "environments/dev.yml:3: smoke[0].http: GET /health: the env has no HTTP API (no function has http routes)"),
    "function with another architecture": (
        FUNCTIONS.replace("    handler: worker\n", "    handler: worker\n    architecture: arm64\n"), DEV,
        f"{TOP}:44: functions.worker.architecture: arm64 is not the service's architecture x86_64 "
        "(function.architecture): one binary serves every function"),
    "env function with another architecture": (
        FUNCTIONS, DEV.replace("  api: {memory: 512", "  api: {architecture: arm64, memory: 512"),
        "environments/dev.yml:5: functions.api.architecture: arm64 is not the service's architecture x86_64 "
        "(function.architecture): one binary serves every function"),
    "functions: with zero entries": (
        "functions: {}\n", DEV.split("functions:")[0],
        f"{TOP}:29: functions: declares no function: list at least one, or remove functions: for the "
        "one-function service"),
    "function without handler": (
        FUNCTIONS.replace("    handler: worker\n", ""), DEV,
        f"{TOP}:42: functions.worker.handler: missing required key"),
    "reserved concurrency above 1000": (
        FUNCTIONS.replace("reserved_concurrency: 5", "reserved_concurrency: 1001"), DEV,
        f"{TOP}:34: functions.api.reserved_concurrency: input should be less than or equal to 1000"),
    "unknown key in a function": (
        FUNCTIONS.replace("    handler: worker\n", "    handler: worker\n    schedul: rate(1 minute)\n"), DEV,
        f"{TOP}:44: functions.worker.schedul: unknown key (did you mean 'schedule'?)"),
    "reserved environment variable in an env's function:": (
        FUNCTIONS, DEV.replace("function:\n  environment: {LOG_LEVEL: debug}\n",
                               "function:\n  environment: {AWS_REGION: x}\n"),
        "environments/dev.yml:3: function.environment: AWS_REGION is reserved: Lambda sets it itself"),
    "reserved environment variable in pipeline.yml functions.<key>": (
        FUNCTIONS.replace("{LOG_LEVEL: info}", "{LOG_LEVEL: info, AWS_REGION: x}"), DEV,
        f"{TOP}:33: functions.api.environment: AWS_REGION is reserved: Lambda sets it itself"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_functions_input_is_one_line_and_exit_2(case, envdir, capsys, no_real_aws, monkeypatch):
    monkeypatch.setenv("PIPELINE_CACHE_DIR", "off")
    functions, dev, expected = CASES[case]
    multi(envdir, functions=functions, dev=dev)
    code = main(["validate"])
    captured = capsys.readouterr()
    assert (code, captured.err.splitlines()) == (2, [f"pipeline: error: {expected}"])
    assert captured.out == ""


def test_the_repo_environments_validate_as_before(envdir, capsys):
    assert main(["validate"]) == 0
    out = capsys.readouterr().out
    assert "valid (greeter" in out and "templates: 8 rendered" in out
