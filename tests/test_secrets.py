"""No credential in any output: base keys from the environment, STS-issued keys, secrets and session tokens.

The demo runs as a process (as `make demo` does) with real-looking credentials in its environment, under
`-v`, in text and in JSON. Error paths run under `-v` (tracebacks printed) against the test emulator, whose
STS backend is read afterwards for every key it issued.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from helpers import REPO

from pipeline.cli import main

BASE = {
    "AWS_ACCESS_KEY_ID": "AKIA" + "Q7RJ2WKX9TZ4MLPB",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKE",
    "AWS_SESSION_TOKEN": "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD6Fakesessiontokenforthetest0123",
}
assert len(BASE["AWS_SECRET_ACCESS_KEY"]) == 40
PATTERNS = {
    "access key id": re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"),
    "moto session token": re.compile(r"FQoGZXIvYXdz"),
    "AWS session token": re.compile(r"IQoJb3JpZ2lu"),
    "secret next to 'secret'": re.compile(r"(?i)secret[\w\"' :=-]{0,20}[A-Za-z0-9/+]{40}"),
}


def leaks(text: str, extra: list[str] = ()) -> list[str]:
    found = [f"{name}: {m.group(0)[:24]}..." for name, rx in PATTERNS.items() for m in rx.finditer(text)]
    found += [f"base credential {k}" for k, v in BASE.items() if v in text]
    found += [f"STS-issued value {v[:8]}..." for v in extra if v in text]
    return found


def issued_credentials() -> list[str]:
    """Every access key id, secret and session token the test emulator's STS handed out."""
    from moto.sts.models import sts_backends

    values = []
    for account in list(sts_backends.keys()):
        for partition in ("aws",):
            for role in sts_backends[account][partition].assumed_roles:
                values += [role.access_key_id, role.secret_access_key, role.session_token]
    return values


@pytest.mark.parametrize("output", ["text", "json"])
def test_the_demo_prints_no_credential(output, tmp_path):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **BASE}
    args = [sys.executable, "-m", "pipeline", "-v", "--output", output, "demo", "--skip-tests",
            "--dist", str(tmp_path / "dist")]
    result = subprocess.run(args, cwd=REPO, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "promote" in result.stdout + result.stderr  # it did run the flow
    assert leaks(result.stdout + result.stderr) == []


def _operator_keys(envdir) -> dict[str, str]:
    """An IAM user of the management account with its own access key (AKIA..., as real as BASE's), named in
    tooling.operators, and the tooling stack bootstrapped: its keys may assume the promoter."""
    import boto3

    iam = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing").client("iam")
    iam.create_user(UserName="operator")
    iam.put_user_policy(UserName="operator", PolicyName="promote", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="operator")["AccessKey"]
    pipeline_yml = envdir / "pipeline.yml"
    text = pipeline_yml.read_text()
    assert '"arn:aws:iam::123456789012:user/admin"]' in text  # the operators list this replaces the last of
    pipeline_yml.write_text(text.replace('"arn:aws:iam::123456789012:user/admin"]',
                                         '"arn:aws:iam::123456789012:user/operator"]'))
    assert main(["--config-dir", str(envdir), "bootstrap", "--tooling"]) == 0
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def test_error_paths_under_verbose_print_no_credential(aws, envdir):
    """Base keys reach the emulator's STS and assumed-role keys are issued; the command then fails
    (no env bootstrapped) with a traceback. Neither kind of key shows, in text or JSON."""
    base = _operator_keys(envdir)
    env = {k: v for k, v in os.environ.items() if k != "AWS_SESSION_TOKEN"} | base
    outputs = []
    for argv in (["-v", "status"], ["-v", "--output", "json", "promote", "--to", "dev"],
                 ["-v", "--output", "json", "history"], ["-v", "accounts"]):
        result = subprocess.run([sys.executable, "-m", "pipeline", *argv], cwd=envdir.parent, capture_output=True,
                                text=True, env=env, timeout=120)
        outputs.append((argv, result))
    assert any(r.returncode != 0 and "Traceback" in r.stderr for _, r in outputs), "no error path was taken"
    issued = issued_credentials()
    assert len(issued) >= 12, "the emulator issued no STS credentials: the test would prove nothing"
    for argv, result in outputs:
        assert leaks(result.stdout + result.stderr, issued + list(base.values())) == [], argv


def test_an_error_quoting_credentials_is_redacted(envdir, monkeypatch, capsys):
    """Some library's exception text carries the credentials: message, JSON document and -v traceback are masked."""
    for key, value in BASE.items():
        monkeypatch.setenv(key, value)
    sts_key, sts_secret = "ASIA" + "ZX3KQ8RTW2PLM4NB", "h4Xo9Lk2Pq8Rs7Tu6Vw5Xy4Za3Bc2De1Fg0Hi9Jk"
    from pipeline.commands import status

    def boom(args):
        raise RuntimeError(f"signing failed for {BASE['AWS_ACCESS_KEY_ID']} with secret={BASE['AWS_SECRET_ACCESS_KEY']}"
                           f" token {BASE['AWS_SESSION_TOKEN']}; assumed {sts_key} secret: {sts_secret} "
                           "FQoGZXIvYXdzEBYaDqEvabUH+X3FSo+eGGQecNjy9FkRw0x3mGXyq7NXOCD")

    monkeypatch.setattr(status, "run", boom)
    assert main(["-v", "--output", "json", "status"]) == 1
    out = capsys.readouterr()
    assert "Traceback" in out.err and "signing failed" in out.err
    document = json.loads(out.out)
    assert "signing failed" in document["error"]
    assert leaks(out.out + out.err, [sts_key, sts_secret]) == [], out.err
