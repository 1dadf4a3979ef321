"""Invoke figures through the embedded emulator: warm round trip and cold start, Go vs Python.

Prints figures (not pass/fail). Issue 3 asks for the warm invoke round trip (boto3 call to
response) p50/p95 for the Go function and for the Python stub, and the cold start of each
(process start to first response). The seed claim to test: Go ~1 ms of handler time versus
~200 ms for a comparable Python function; "handler" below is the REPORT line's Duration.

The Go function is go-function/ when it builds, else the Runtime API test program in
tests/local/fixtures/gofn. The Python function answers the same routes.

Run: .venv/bin/python bench/invoke.py [--warm N] [--cold N]
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import boto3

from pipeline.local.emulator import Emulator
from pipeline.local.pool import POOL

REPO = Path(__file__).resolve().parents[1]
EVENT = {"version": "2.0", "rawPath": "/health", "rawQueryString": "",
         "requestContext": {"http": {"method": "GET", "path": "/health"}}}
PYTHON_HANDLER = '''
import json, os

def handler(event, context):
    path = event.get("rawPath", "/")
    if path == "/health":
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
                "body": json.dumps({"status": "ok"})}
    if path == "/version":
        return {"statusCode": 200, "body": json.dumps({"environment": os.environ.get("ENVIRONMENT")})}
    return {"statusCode": 404, "body": json.dumps({"error": "no route for " + path})}
'''
_DURATION = re.compile(r"\tDuration: ([\d.]+) ms")
_INIT = re.compile(r"Init Duration: ([\d.]+) ms")


def build_go(out: Path) -> tuple[str, bytes]:
    goarch = "amd64" if os.uname().machine in ("x86_64", "amd64") else "arm64"
    env = {**os.environ, "CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": goarch}
    sources = (("go-function", REPO / "go-function"), ("test program", REPO / "tests/local/fixtures/gofn"))
    for label, src in sources:
        result = subprocess.run(["go", "build", "-trimpath", "-ldflags", "-s -w", "-o", str(out), "."],
                                cwd=src, env=env, capture_output=True, text=True)
        if result.returncode == 0:
            return label, out.read_bytes()
        print(f"({label} did not build: {result.stderr.strip().splitlines()[-1:]})")
    raise SystemExit("no Go function could be built")


def zip_of(files: dict[str, bytes], executable: str | None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o100755 if name == executable else 0o100644) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(lam: object, name: str, label: str, warm: int, cold: int) -> None:
    payload = json.dumps(EVENT).encode()

    def call() -> tuple[float, str]:
        started = time.perf_counter()
        resp = lam.invoke(FunctionName=name, Payload=payload, LogType="Tail")  # type: ignore[attr-defined]
        resp["Payload"].read()
        elapsed = (time.perf_counter() - started) * 1000
        if resp.get("FunctionError"):
            raise SystemExit(f"{label} failed: {resp}")
        return elapsed, base64.b64decode(resp["LogResult"]).decode()

    cold_trips: list[float] = []
    first_response: list[float] = []
    for _ in range(cold):
        POOL.close_all()  # next invoke starts a fresh process
        elapsed, log = call()
        cold_trips.append(elapsed)
        init = _INIT.search(log)
        duration = _DURATION.search(log)
        if init and duration:
            first_response.append(float(init[1]) + float(duration[1]))
    for _ in range(20):
        call()
    trips: list[float] = []
    handler: list[float] = []
    for _ in range(warm):
        elapsed, log = call()
        trips.append(elapsed)
        duration = _DURATION.search(log)
        if duration:
            handler.append(float(duration[1]))
    print(f"{label} warm p50: {statistics.median(trips):.1f} ms")
    print(f"{label} warm p95: {percentile(trips, 0.95):.1f} ms")
    print(f"{label} handler p50 (REPORT Duration): {statistics.median(handler):.2f} ms")
    print(f"{label} cold start p50 (process start to first response): "
          f"{statistics.median(first_response):.1f} ms")
    print(f"{label} cold invoke p50 (boto3 round trip incl. unzip + spawn): "
          f"{statistics.median(cold_trips):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=200, help="warm invokes per function")
    parser.add_argument("--cold", type=int, default=10, help="cold starts per function")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Emulator() as emu:
        source, go_binary = build_go(Path(tmp) / "bootstrap")
        kw = {"endpoint_url": emu.endpoint_url, "region_name": "us-east-1", "verify": emu.ca_bundle,
              "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        lam = boto3.client("lambda", **kw)
        iam = boto3.client("iam", **kw)
        role = iam.create_role(RoleName="bench", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]["Arn"]
        env = {"Variables": {"ENVIRONMENT": "bench"}}
        lam.create_function(FunctionName="bench-go", Runtime="provided.al2023", Role=role,
                            Handler="bootstrap", Environment=env,
                            Code={"ZipFile": zip_of({"bootstrap": go_binary}, "bootstrap")})
        lam.create_function(FunctionName="bench-py", Runtime="python3.12", Role=role, Handler="index.handler",
                            Code={"ZipFile": zip_of({"index.py": PYTHON_HANDLER.encode()}, None)},
                            Environment=env)
        print(f"go function: {source}; python: {Path(sys.executable).name} via pipeline/local/pyruntime.py")
        measure(lam, "bench-go", "go", args.warm, args.cold)
        measure(lam, "bench-py", "python", args.warm, args.cold)


if __name__ == "__main__":
    main()
