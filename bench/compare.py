"""Side by side on one emulator: one code change deployed to one environment by
(a) `pipeline stage` + `pipeline promote`, (b) the CloudFormation way (`aws s3 cp` + `aws cloudformation deploy`
with the code key as a parameter), (c) `aws s3 cp` + `sceptre launch` of the same template.
Also: one wave of 1, 5, 20 and 50 targets, and CLI start-up.

Every tool runs as its own process against one emulator process (`--serve`), which counts each HTTP request
it receives (the same way for all three: a request is an AWS call, retries included) and the bytes of the
request bodies (what was uploaded). The AWS CLI and Sceptre live in their own venv (bench/requirements-compare.txt)
so the product's pinned dependencies stay untouched; `make compare` creates it.

Run:  make compare      (or: .venv/bin/python bench/compare.py --tools-venv bench/.venv-compare [--runs 3])
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
BIN = Path(sys.executable).parent
COUNTER_PATH = "/_bench/calls"

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Description: greeter, deployed the way most teams do it today (code location as parameters)
Parameters:
  CodeBucket:
    Type: String
  CodeKey:
    Type: String
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
  Function:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: greeter-compare
      Runtime: provided.al2023
      Handler: bootstrap
      Architectures: [x86_64]
      MemorySize: 128
      Timeout: 10
      Role: !GetAtt Role.Arn
      Code:
        S3Bucket: !Ref CodeBucket
        S3Key: !Ref CodeKey
"""


# -- the counting emulator (its own process) ----------------------------------------------------------


class RequestLog:
    """Every request the emulator answers: (service, operation, request body bytes)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: list[tuple[str, str, int]] = []

    def layer(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        import io

        def counted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            path = environ.get("PATH_INFO", "")
            if path == COUNTER_PATH:
                with self.lock:
                    body = json.dumps(self.entries).encode()
                    if environ.get("REQUEST_METHOD") == "POST":
                        self.entries = []
                start_response("200 OK", [("Content-Type", "application/json"),
                                          ("Content-Length", str(len(body)))])
                return [body]
            if path.startswith("/moto-api"):
                return app(environ, start_response)
            length = int(environ.get("CONTENT_LENGTH") or 0)
            if length:
                raw = environ["wsgi.input"].read(length)
            elif environ.get("wsgi.input_terminated"):  # chunked: the server ends the stream for us
                raw = environ["wsgi.input"].read()
            else:
                raw = b""
            environ["wsgi.input"] = io.BytesIO(raw)
            environ["CONTENT_LENGTH"] = str(len(raw))
            entry = (service_of(environ), operation_of(environ, raw), len(raw))
            with self.lock:
                self.entries.append(entry)
            return app(environ, start_response)

        return counted


def service_of(environ: dict[str, Any]) -> str:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    if "Credential=" in auth:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
        if len(scope) >= 4:
            return scope[3]
    return "unsigned"


def operation_of(environ: dict[str, Any], raw: bytes) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.rsplit(".", 1)[-1]
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return query["Action"][0]
    if raw[:7] == b"Action=":
        return urllib.parse.parse_qs(raw.decode("utf-8", "replace")).get("Action", ["?"])[0]
    method, parts = environ.get("REQUEST_METHOD", "?"), [p for p in environ.get("PATH_INFO", "").split("/") if p]
    if service_of(environ) == "s3":
        what = "object" if len(parts) > 1 else "bucket"
        flags = sorted(k for k in query if k not in ("prefix", "continuation-token", "max-keys", "encoding-type"))
        shape = f"{method} {what}" + (f"?{','.join(flags)}" if flags else "")
        return S3_OPERATIONS.get(shape, shape)
    words = {"functions", "aliases", "versions", "invocations", "configuration", "code", "policy", "tags"}
    shape = f"{method} /" + "/".join(p if p in words else "*" for p in parts[1:])
    return LAMBDA_OPERATIONS.get(shape, shape)


S3_OPERATIONS = {"PUT object": "PutObject", "GET object": "GetObject", "HEAD object": "HeadObject",
                 "DELETE object": "DeleteObject", "GET bucket?list-type": "ListObjectsV2", "PUT bucket": "CreateBucket",
                 "HEAD bucket": "HeadBucket", "GET bucket": "ListObjects"}
LAMBDA_OPERATIONS = {"GET /functions/*/configuration": "GetFunctionConfiguration", "GET /functions/*": "GetFunction",
                     "PUT /functions/*/code": "UpdateFunctionCode", "PUT /functions/*/configuration":
                     "UpdateFunctionConfiguration", "POST /functions/*/invocations": "Invoke",
                     "PUT /functions/*/aliases/*": "UpdateAlias", "POST /functions/*/aliases": "CreateAlias",
                     "GET /functions/*/aliases/*": "GetAlias", "POST /functions/*/versions": "PublishVersion"}


def serve(port_file: Path) -> None:
    from pipeline.local.emulator import Emulator

    log = RequestLog()
    # the three tools are compared on call counts and bytes, over plain HTTP and without IAM enforcement (the
    # AWS CLI and Sceptre would need the emulator's CA and roles of their own): as before enforcement existed
    os.environ.setdefault("PIPELINE_EMULATOR_TLS", "off")
    os.environ.setdefault("PIPELINE_EMULATOR_IAM", "off")
    with Emulator() as emulator:
        emulator._server.app = log.layer(emulator._server.app)  # outermost: Lambda invokes are counted too
        port_file.write_text(emulator.endpoint_url)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


# -- the driver ---------------------------------------------------------------------------------------


@dataclass
class Measured:
    wall: float
    calls: list[tuple[str, str, int]] = field(default_factory=list)
    steps: list[tuple[str, float]] = field(default_factory=list)  # (command, wall) of each process

    @property
    def bytes(self) -> int:
        return sum(n for _, _, n in self.calls)

    def breakdown(self) -> str:
        by = Counter(f"{svc}:{op}" for svc, op, _ in self.calls)
        return ", ".join(f"{k} x{v}" if v > 1 else k for k, v in sorted(by.items(), key=lambda kv: (-kv[1], kv[0])))


class Bench:
    def __init__(self, work: Path, tools: Path | None) -> None:
        self.work = work
        self.tools = tools
        self.base_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        port_file = work / "endpoint"
        self.server = subprocess.Popen([sys.executable, __file__, "--serve", str(port_file)], env=self.base_env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text():
            if time.monotonic() > deadline or self.server.poll() is not None:
                raise SystemExit("the emulator did not start")
            time.sleep(0.05)
        self.endpoint = port_file.read_text()
        self.env = {**self.base_env, "AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "testing",
                    "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}

    def close(self) -> None:
        self.server.terminate()
        self.server.wait(timeout=10)

    def counted(self, reset: bool) -> list[tuple[str, str, int]]:
        req = urllib.request.Request(self.endpoint + COUNTER_PATH, method="POST" if reset else "GET")
        with urllib.request.urlopen(req, timeout=10) as resp:
            return [tuple(e) for e in json.loads(resp.read())]

    def measure(self, steps: list[tuple[list[str], dict[str, str], Path]]) -> Measured:
        self.counted(reset=True)
        start = time.perf_counter()
        walls = []
        for argv, env, cwd in steps:
            began = time.perf_counter()
            done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout[-2000:]}"
                                 f"\n{done.stderr[-2000:]}")
            words = [Path(argv[0]).name, *(a for a in argv[1:] if not a.startswith("-") and "/" not in a
                                                 and "=" not in a and "." not in a)][:3]
            walls.append((" ".join(words), time.perf_counter() - began))
        wall = time.perf_counter() - start
        return Measured(wall, self.counted(reset=True), walls)

    def account_env(self, account: str) -> dict[str, str]:
        """Credentials acting in `account` (the emulator's STS), as a user's shell would hold them."""
        import boto3

        creds = boto3.client("sts", endpoint_url=self.endpoint, region_name="us-east-1",
                             aws_access_key_id="testing", aws_secret_access_key="testing").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/developer", RoleSessionName="bench")["Credentials"]
        return {**self.env, "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"], "AWS_SESSION_TOKEN": creds["SessionToken"]}

    def live_sha(self, env: dict[str, str], function: str, qualifier: str | None = None) -> str:
        import boto3

        client = boto3.client("lambda", endpoint_url=self.endpoint, region_name="us-east-1",
                              aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                              aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                              aws_session_token=env.get("AWS_SESSION_TOKEN"))
        params = {"FunctionName": function, **({"Qualifier": qualifier} if qualifier else {})}
        sha = client.get_function_configuration(**params)["CodeSha256"]
        self.counted(reset=True)  # the bench's own check is nobody's call
        return sha


def build(work: Path, count: int) -> list[tuple[Path, Any]]:
    from pipeline.artifact.build import build_artifact

    out = []
    for i in range(count):
        dist = work / f"dist-{i}"
        manifest = build_artifact(REPO / "go-function", dist, "greeter", "x86_64", f"compare-{i}", run_tests=False)
        out.append((dist / f"{manifest.stem}.zip", manifest))
    return out


def pipeline_side(bench: Bench, artifacts: list[tuple[Path, Any]], runs: int) -> list[Measured]:
    cwd = bench.work / "pipeline"
    shutil.copytree(REPO / "environments", cwd / "environments")
    pipeline = str(BIN / "pipeline")
    setup = [[pipeline, "bootstrap", "--tooling"], [pipeline, "bootstrap", "--env", "dev"],
             [pipeline, "stage", str(artifacts[0][0])],
             [pipeline, "promote", "--to", "dev", "--artifact", artifacts[0][1].sha256]]
    bench.measure([(argv, bench.env, cwd) for argv in setup])
    results = []
    for zip_path, manifest in artifacts[1:runs + 1]:
        results.append(bench.measure([
            ([pipeline, "stage", str(zip_path)], bench.env, cwd),
            ([pipeline, "promote", "--to", "dev", "--artifact", manifest.sha256], bench.env, cwd)]))
        dev = bench.account_env("111111111111")
        assert bench.live_sha(dev, "greeter-dev", "live") == manifest.code_sha256
    return results


def cloudformation_side(bench: Bench, artifacts: list[tuple[Path, Any]], runs: int, account: str,
                        sceptre: bool) -> list[Measured]:
    assert bench.tools is not None
    aws, sceptre_bin = str(bench.tools / "bin" / "aws"), str(bench.tools / "bin" / "sceptre")
    env = bench.account_env(account)
    bucket = f"compare-code-{account}"
    cwd = bench.work / ("sceptre" if sceptre else "cloudformation")
    cwd.mkdir()
    (cwd / "function.yml").write_text(TEMPLATE)
    if sceptre:
        (cwd / "config" / "dev").mkdir(parents=True)
        (cwd / "templates").mkdir()
        (cwd / "templates" / "function.yaml").write_text(TEMPLATE)
        (cwd / "config" / "config.yaml").write_text("project_code: compare\nregion: us-east-1\n")
        (cwd / "config" / "dev" / "function.yaml").write_text(
            "template:\n  path: function.yaml\nstack_name: greeter-compare\nparameters:\n"
            f"  CodeBucket: {bucket}\n  CodeKey: {{{{ var.code_key }}}}\n")

    def upload(zip_path: Path, manifest: Any) -> tuple[list[str], dict[str, str], Path]:
        return [aws, "s3", "cp", str(zip_path), f"s3://{bucket}/greeter/{manifest.sha256}.zip"], env, cwd

    def deploy(manifest: Any) -> tuple[list[str], dict[str, str], Path]:
        key = f"greeter/{manifest.sha256}.zip"
        if sceptre:
            return [sceptre_bin, "--var", f"code_key={key}", "launch", "-y", "dev/function.yaml"], env, cwd
        return [aws, "cloudformation", "deploy", "--template-file", "function.yml", "--stack-name", "greeter-compare",
                "--capabilities", "CAPABILITY_IAM", "--parameter-overrides", f"CodeBucket={bucket}",
                f"CodeKey={key}"], env, cwd

    bench.measure([([aws, "s3", "mb", f"s3://{bucket}"], env, cwd), upload(*artifacts[0]), deploy(artifacts[0][1])])
    results = []
    for zip_path, manifest in artifacts[1:runs + 1]:
        results.append(bench.measure([upload(zip_path, manifest), deploy(manifest)]))
        assert bench.live_sha(env, "greeter-compare") == manifest.code_sha256
    return results


def waves(bench: Bench, artifacts: list[tuple[Path, Any]], sizes: list[int], runs: int) -> list[tuple[int, Measured]]:
    """One environment of N targets promoted as one wave (wave_size N), emulator in its own process."""
    pipeline = str(BIN / "pipeline")
    out = []
    for n in sizes:
        cwd = bench.work / f"wave-{n}"
        shutil.copytree(REPO / "environments", cwd / "environments")
        accounts = [f"{700000000000 + 1000 * n + i:012d}" for i in range(n)]
        targets = "".join(f'  - {{account: "{a}"}}\n' for a in accounts)
        (cwd / "environments" / "dev.yml").write_text(f"targets:\n{targets}wave_size: {n}\n")
        setup = [[pipeline, "bootstrap", "--tooling"], [pipeline, "bootstrap", "--env", "dev"],
                 *[[pipeline, "stage", str(z)] for z, _ in artifacts],
                 [pipeline, "promote", "--to", "dev", "--artifact", artifacts[0][1].sha256]]
        bench.measure([(argv, bench.env, cwd) for argv in setup])
        measured = [bench.measure([([pipeline, "promote", "--to", "dev", "--artifact", m.sha256], bench.env, cwd)])
                    for _, m in artifacts[1:runs + 1]]
        out.append((n, median_of(measured)))
    return out


def median_of(results: list[Measured]) -> Measured:
    ordered = sorted(results, key=lambda m: m.wall)
    return ordered[len(ordered) // 2]


def startup() -> list[tuple[str, float]]:
    sys.path.insert(0, str(REPO / "bench"))
    from startup import median_wall  # bench/startup.py: median of 10 runs after one warm-up

    return [("python -c pass", median_wall([sys.executable, "-c", "pass"])),
            ("pipeline --help", median_wall([str(BIN / "pipeline"), "--help"])),
            ("pipeline validate", median_wall([str(BIN / "pipeline"), "validate"]))]


def tool_startup(tools: Path) -> list[tuple[str, float]]:
    sys.path.insert(0, str(REPO / "bench"))
    from startup import median_wall

    return [("aws --version", median_wall([str(tools / "bin" / "aws"), "--version"])),
            ("sceptre --version", median_wall([str(tools / "bin" / "sceptre"), "--version"]))]


def versions(tools: Path | None) -> dict[str, str]:
    def out(cmd: list[str]) -> str:
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
            return (done.stdout or done.stderr).strip().splitlines()[0]
        except (OSError, subprocess.TimeoutExpired, IndexError):
            return "n/a"

    facts = {"nproc": str(os.cpu_count()), "load average (1 min) at start": f"{os.getloadavg()[0]:.2f}",
             "machine": f"{platform.system()} {platform.release()} {platform.machine()}",
             "python": platform.python_version(), "go": out(["go", "version"])}
    from importlib.metadata import version

    facts["moto"] = version("moto")
    facts["boto3 (pipeline)"] = version("boto3")
    if tools is not None:
        facts["aws cli"] = out([str(tools / "bin" / "aws"), "--version"])
        facts["sceptre"] = out([str(tools / "bin" / "sceptre"), "--version"])
    return facts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--tools-venv", type=Path, default=REPO / "bench" / ".venv-compare",
                        help="venv holding awscli and sceptre (make compare creates it)")
    parser.add_argument("--runs", type=int, default=3, help="code changes per tool (median reported)")
    parser.add_argument("--waves", default="1,5,20,50", help="wave sizes (targets)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    tools = args.tools_venv.resolve() if (args.tools_venv / "bin" / "aws").exists() else None
    work = Path(tempfile.mkdtemp(prefix="bench-compare-"))
    report: dict[str, Any] = {"facts": versions(tools), "runs": args.runs}
    try:
        artifacts = build(work, args.runs + 1)
        report["zip_bytes"] = artifacts[0][1].size
        bench = Bench(work, tools)
        try:
            side: dict[str, list[Measured]] = {"pipeline stage + promote": pipeline_side(bench, artifacts, args.runs)}
            if tools is not None:
                side["aws s3 cp + aws cloudformation deploy"] = cloudformation_side(
                    bench, artifacts, args.runs, "121212121212", sceptre=False)
                if (tools / "bin" / "sceptre").exists():
                    side["aws s3 cp + sceptre launch"] = cloudformation_side(
                        bench, artifacts, args.runs, "131313131313", sceptre=True)
            report["side_by_side"] = {
                name: {"wall_s": [round(m.wall, 3) for m in ms], "median_wall_s": round(median_of(ms).wall, 3),
                       "calls": len(median_of(ms).calls), "bytes_uploaded": median_of(ms).bytes,
                       "steps_s": {step: round(w, 3) for step, w in median_of(ms).steps},
                       "breakdown": median_of(ms).breakdown()} for name, ms in side.items()}
            sizes = [int(s) for s in args.waves.split(",") if s]
            report["waves"] = [{"targets": n, "median_wall_s": round(m.wall, 3), "calls": len(m.calls),
                                "bytes_uploaded": m.bytes} for n, m in waves(bench, artifacts, sizes, args.runs)]
        finally:
            bench.close()
        report["startup"] = [{"command": c, "median_s": round(s, 3)} for c, s in startup()]
        if tools is not None:
            report["startup"] += [{"command": c, "median_s": round(s, 3)} for c, s in tool_startup(tools)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report["facts"]["load average (1 min) at end"] = f"{os.getloadavg()[0]:.2f}"
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


def print_report(report: dict[str, Any]) -> None:
    print("machine: " + "; ".join(f"{k} {v}" for k, v in report["facts"].items()))
    print(f"\none code change to one environment (median of {report['runs']}; zip {report['zip_bytes']} bytes)")
    rows = report.get("side_by_side", {})
    base = rows.get("pipeline stage + promote")
    print(f"{'tool':40} {'wall s':>7} {'calls':>6} {'bytes up':>10} {'wall/pipeline':>14} {'calls/pipeline':>15}")
    for name, row in rows.items():
        print(f"{name:40} {row['median_wall_s']:7.2f} {row['calls']:6d} {row['bytes_uploaded']:10d} "
              f"{row['median_wall_s'] / base['median_wall_s']:14.2f} {row['calls'] / base['calls']:15.2f}")
    for name, row in rows.items():
        steps = ", ".join(f"{step} {w:.2f} s" for step, w in row["steps_s"].items())
        print(f"  {name}: {steps}; {row['breakdown']}")
    print("\none wave of N targets (wave_size N), `pipeline promote` as a process")
    waves_rows = report.get("waves", [])
    one = waves_rows[0]["median_wall_s"] if waves_rows else 1.0
    for row in waves_rows:
        print(f"  {row['targets']:3d} targets: {row['median_wall_s']:6.2f} s ({row['median_wall_s'] / one:4.1f}x one), "
              f"{row['calls']} calls, {row['bytes_uploaded']} bytes up")
    print("\nCLI start-up (median of 10)")
    for row in report.get("startup", []):
        print(f"  {row['command']:20} {row['median_s']:.3f} s")


if __name__ == "__main__":
    main()
