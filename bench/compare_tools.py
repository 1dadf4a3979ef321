"""The driver of bench/compare.py: one counting emulator process per timing profile (compare_emulator.py) and
the tools run against it as processes, each run measured as wall time plus the AWS calls it made.

Who acts: `pipeline bootstrap` as the organization's admin, `pipeline stage`/`promote` as the tooling account's
operator (as `pipeline demo` does), the AWS CLI and Sceptre as the admin's OrganizationAccountAccessRole in
their own account. Set-up (bootstrap, first deploys) runs under `instant` timing and is not measured.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
EMULATOR = Path(__file__).resolve().parent / "compare_emulator.py"
Entry = tuple[str, str, int]
Step = tuple[list[str], dict[str, str], Path]

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


@dataclass
class Measured:
    """One measured run: its wall time, the calls the emulator counted, (command, wall) of each process."""

    wall: float
    calls: list[Entry] = field(default_factory=list)
    steps: list[tuple[str, float]] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return sum(n for _, _, n in self.calls)

    def breakdown(self) -> str:
        by = Counter(f"{svc}:{op}" for svc, op, _ in self.calls)
        return ", ".join(f"{k} x{v}" if v > 1 else k for k, v in sorted(by.items(), key=lambda kv: (-kv[1], kv[0])))


def median_of(results: list[Measured]) -> Measured:
    ordered = sorted(results, key=lambda m: m.wall)
    return ordered[len(ordered) // 2]


class Bench:
    """One emulator process under `profile` x `scale`, and the environments the tools run with."""

    def __init__(self, work: Path, tools: Path | None, profile: str, scale: float) -> None:
        self.work, self.tools, self.profile, self.scale = work, tools, profile, scale
        work.mkdir(parents=True)
        self.base_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PIPELINE_EMULATOR_"))}
        port_file = work / "endpoint"
        self.server = subprocess.Popen([sys.executable, str(EMULATOR), str(port_file), profile, str(scale)],
                                       env={**self.base_env, "PIPELINE_EMULATOR_TLS": "on",
                                            "PIPELINE_EMULATOR_IAM": "on"},
                                       stdout=subprocess.DEVNULL, stderr=(work / "emulator.log").open("w"))
        deadline = time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text():
            if time.monotonic() > deadline or self.server.poll() is not None:
                raise SystemExit("the emulator did not start")
            time.sleep(0.05)
        where = json.loads(port_file.read_text())
        self.endpoint, self.ca_bundle = where["endpoint"], where["ca_bundle"]
        self.ssl = ssl.create_default_context(cafile=self.ca_bundle) if self.ca_bundle else None
        self.env = {**self.base_env, "AWS_ENDPOINT_URL": self.endpoint, "AWS_DEFAULT_REGION": "us-east-1",
                    **({"AWS_CA_BUNDLE": self.ca_bundle} if self.ca_bundle else {}),
                    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}  # the organization's admin
        sys.path.insert(0, str(REPO))
        from pipeline.local.authz import org

        self.operator_env = {**self.env, **org.credentials("operator")}

    def close(self) -> None:
        self.server.terminate()
        self.server.wait(timeout=30)

    def _bench(self, path: str, post: bool, data: bytes | None = None) -> Any:
        req = urllib.request.Request(self.endpoint + path, method="POST" if post else "GET", data=data)
        with urllib.request.urlopen(req, timeout=10, context=self.ssl) as resp:
            return json.loads(resp.read())

    def counted(self, reset: bool) -> list[Entry]:
        return [tuple(e) for e in self._bench("/_bench/calls", reset)]

    def timing(self, profile: str) -> None:
        self._bench("/_bench/timing", True, json.dumps({"profile": profile, "scale": self.scale}).encode())

    def setup(self, steps: list[Step]) -> None:
        """Unmeasured set-up under `instant` (bootstraps, first deploys), then back to the bench's profile, and
        its iam.propagation window waited out: the emulator applies the window in force to a role's age, and a
        real bootstrap's roles are long propagated when a promotion runs."""
        from pipeline.local import timing

        self.timing("instant")
        try:
            self.measure(steps)
        finally:
            self.timing(self.profile)
        time.sleep(timing.profile(self.profile, self.scale).window("iam.propagation"))

    def measure(self, steps: list[Step]) -> Measured:
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
                                           and "=" not in a and "." not in a and " " not in a)][:3]
            walls.append((" ".join(words), time.perf_counter() - began))
        wall = time.perf_counter() - start
        return Measured(wall, self.counted(reset=True), walls)

    def client(self, service: str, account: str) -> Any:
        """boto3 as the admin's OrganizationAccountAccessRole in `account` (outside the counts)."""
        import boto3

        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",
                            verify=self.ca_bundle or True, **self._role_keys(account))

    def _role_keys(self, account: str) -> dict[str, str]:
        """Assumed under `instant`: the emulator makes an account's OrganizationAccountAccessRole on first use, and
        under `aws` a new role is not assumable for iam.propagation; the bench's own keys are not measured."""
        import boto3

        self.timing("instant")
        try:
            sts = boto3.client("sts", endpoint_url=self.endpoint, region_name="us-east-1",
                               verify=self.ca_bundle or True, aws_access_key_id="testing",
                               aws_secret_access_key="testing")
            creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
                                    RoleSessionName="bench")["Credentials"]
        finally:
            self.timing(self.profile)
        return {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
                "aws_session_token": creds["SessionToken"]}

    def account_env(self, account: str) -> dict[str, str]:
        """Credentials acting in `account` as its administrator, as a user's shell would hold them."""
        keys = self._role_keys(account)
        self.counted(reset=True)
        return {**self.env, "AWS_ACCESS_KEY_ID": keys["aws_access_key_id"],
                "AWS_SECRET_ACCESS_KEY": keys["aws_secret_access_key"], "AWS_SESSION_TOKEN": keys["aws_session_token"]}

    def live_sha(self, account: str, function: str, qualifier: str | None = None) -> str:
        params = {"FunctionName": function, **({"Qualifier": qualifier} if qualifier else {})}
        sha = self.client("lambda", account).get_function_configuration(**params)["CodeSha256"]
        self.counted(reset=True)  # the bench's own check is nobody's call
        return str(sha)


def build(work: Path, count: int) -> list[tuple[Path, Any]]:
    """`count` real builds of the Go function (distinct versions, so each is a code change)."""
    sys.path.insert(0, str(REPO))
    from pipeline.artifact.build import build_artifact

    out = []
    for i in range(count):
        dist = work / f"dist-{i}"
        manifest = build_artifact(REPO / "go-function", dist, "greeter", "x86_64", f"compare-{i}", run_tests=False)
        out.append((dist / f"{manifest.stem}.zip", manifest))
    return out


def cloudformation_side(bench: Bench, artifacts: list[tuple[Path, Any]], runs: int, account: str,
                        sceptre: bool) -> list[Measured]:
    """(b) `aws s3 cp` + `aws cloudformation deploy`, or (c) `aws s3 cp` + `sceptre launch`, `runs` code changes."""
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

    def upload(zip_path: Path, manifest: Any) -> Step:
        return [aws, "s3", "cp", str(zip_path), f"s3://{bucket}/greeter/{manifest.sha256}.zip"], env, cwd

    def deploy(manifest: Any) -> Step:
        key = f"greeter/{manifest.sha256}.zip"
        if sceptre:
            return [sceptre_bin, "--var", f"code_key={key}", "launch", "-y", "dev/function.yaml"], env, cwd
        return [aws, "cloudformation", "deploy", "--template-file", "function.yml", "--stack-name", "greeter-compare",
                "--capabilities", "CAPABILITY_IAM", "--parameter-overrides", f"CodeBucket={bucket}",
                f"CodeKey={key}"], env, cwd

    bench.setup([([aws, "s3", "mb", f"s3://{bucket}"], env, cwd), upload(*artifacts[0]), deploy(artifacts[0][1])])
    results = []
    for zip_path, manifest in artifacts[1:runs + 1]:
        results.append(bench.measure([upload(zip_path, manifest), deploy(manifest)]))
        assert bench.live_sha(account, "greeter-compare") == manifest.code_sha256
    return results
