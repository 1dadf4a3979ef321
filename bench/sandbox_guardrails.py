"""The AWS calls `pipeline sandbox up` makes, by service:operation, and what each guardrail costs in calls
(`bench/sandbox.py --calls`). Figures, not pass/fail: on the embedded emulator with IAM enforced.

Attribution: at each call (botocore `before-call`) the Python stack is walked from the innermost frame;
the first frame in GUARDRAILS names the guardrail that made the call, else it is the sandbox's own.
A call both guardrails need is the first asker's (GetRole: the boundary check with require_boundary,
the owner tag's role path without it; the answer is cached for the rest of the command). The emulator's
timing profile defaults to `instant` here (PIPELINE_EMULATOR_TIMING), so no wait adds status polls:
on AWS, CloudFormation and Lambda waits add DescribeStacks/DescribeStackEvents/GetFunction polls.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"  # the emulator's base credentials
# (file, function) on the stack -> the guardrail whose code path it is
GUARDRAILS = {
    ("sandbox_guard.py", "check_boundary"): "boundary check",
    ("sandbox_guard.py", "ensure_budget"): "cost budget",
    ("sandbox_guard.py", "deploy_lock"): "deploy lock",
    ("sandbox_account.py", "owner"): "owner tag (role path)",
    ("sandbox.py", "tag_function"): "owner tag (tag repair)",
}
OWN = "sandbox itself"


def attribute() -> str:
    frame = sys._getframe(1)
    while frame is not None:
        found = GUARDRAILS.get((Path(frame.f_code.co_filename).name, frame.f_code.co_name))
        if found:
            return found
        frame = frame.f_back  # type: ignore[assignment]
    return OWN


def guardrail_calls(repo: Path) -> int:
    from pipeline.aws import session as session_module
    from pipeline.cli import main as cli
    from pipeline.local.emulator import Emulator

    calls: list[tuple[str, str]] = []  # (service:operation, guardrail)
    original = session_module.SessionFactory.__init__

    def hook(model: Any, **kwargs: Any) -> None:
        service = str(kwargs.get("event_name", "before-call.?.?")).split(".")[1]
        calls.append((f"{service}:{model.name}", attribute()))

    def counting(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs["event_hooks"] = [*(kwargs.get("event_hooks") or []), ("before-call", hook)]
        original(self, *args, **kwargs)

    session_module.SessionFactory.__init__ = counting  # type: ignore[method-assign]
    work = Path(tempfile.mkdtemp(prefix="bench-sandbox-calls-"))
    shutil.copytree(repo / "environments", work / "environments")
    sandbox_yml = work / "environments" / "sandbox.yml"
    plain = sandbox_yml.read_text()
    os.chdir(work)

    def run(*args: str) -> None:
        calls.clear()
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli(["--output", "json", "sandbox", *args])
        if code != 0:
            raise SystemExit(f"sandbox {' '.join(args)} exited {code}: {err.getvalue()[-500:]}")

    # instant: no Pending/IN_PROGRESS polls, so the counts are the calls themselves (any profile may be set)
    os.environ.setdefault("PIPELINE_EMULATOR_TIMING", "instant")
    with Emulator() as emulator:
        emulator.export_environment(os.environ)
        admin = session_module.SessionFactory(region="us-east-1").base()
        sandbox_yml.write_text(plain + "require_boundary: true\nbudget_emails: [dev@example.com]\n")
        run("boundary", "--apply")  # the organization admin, once
        boundary = f"arn:aws:iam::{ACCOUNT}:policy/greeter-sandbox-boundary"
        for role, kw in (("dev-bounded", {"PermissionsBoundary": boundary}), ("dev-plain", {})):
            _developer_role(admin.client("iam"), role, kw)
        _act_as(admin, "dev-bounded")
        report("up, require_boundary: true, 4 budget alerts (create)", run, calls, "up", "--user", "bounded")
        report("up, require_boundary: true (again, nothing changed)", run, calls, "up", "--user", "bounded")
        sandbox_yml.write_text(plain)
        _act_as(admin, "dev-plain")
        report("up, defaults: no require_boundary, no alerts (create)", run, calls, "up", "--user", "plain")
        report("up, defaults (again, nothing changed)", run, calls, "up", "--user", "plain")
    shutil.rmtree(work, ignore_errors=True)
    return 0


def report(title: str, run: Any, calls: list[tuple[str, str]], *args: str) -> None:
    run(*args)
    print(f"\n{title}: {len(calls)} calls")
    by_op = Counter(op for op, _ in calls)
    owners: dict[str, Counter[str]] = {}
    for op, guard in calls:
        owners.setdefault(op, Counter())[guard] += 1
    for op, count in sorted(by_op.items()):
        shares = ", ".join(f"{g} {n}" for g, n in sorted(owners[op].items()))
        print(f"  {op:48} {count:3}  ({shares})")
    per_guard = Counter(guard for _, guard in calls)
    print("  per guardrail: " + ", ".join(f"{g} {per_guard.get(g, 0)}" for g in
                                           [*dict.fromkeys(GUARDRAILS.values()), OWN]))


def _developer_role(iam: Any, role: str, kw: dict[str, str]) -> None:
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]}
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust), **kw)
    iam.put_role_policy(RoleName=role, PolicyName="developer", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))


def _act_as(admin: Any, role: str) -> None:
    """Export `role`'s credentials as AWS_* (each `sandbox` command reads them like a developer's shell)."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        os.environ.pop(key, None)
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    creds = admin.client("sts").assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}",
                                            RoleSessionName=role)["Credentials"]
    os.environ.update(AWS_ACCESS_KEY_ID=creds["AccessKeyId"], AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
                      AWS_SESSION_TOKEN=creds["SessionToken"])
