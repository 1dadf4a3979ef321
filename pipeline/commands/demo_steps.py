"""The steps of `pipeline demo`: each a real verb run in this process on the demo's copy of the configuration,
printed with the keys it ran with and every principal that made calls (the emulator's authorization layer
counts them), and the IAM report at the end (calls authorized and denied per principal)."""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

from pipeline.commands.context import Context
from pipeline.errors import PipelineError


class Demo:
    """The demo's steps: each a real verb run in this process on the demo's copy of the configuration."""

    def __init__(self, ctx: Context, args: argparse.Namespace, config_dir: Path, work: Path) -> None:
        self.ctx = ctx
        self.args = args
        self.work = work
        self.base = argparse.Namespace(**{**vars(args), "config_dir": str(config_dir), "local": False})
        self.acted: list[dict[str, object]] = []

    def say(self, text: str) -> None:
        self.ctx.out.progress(text)

    def context(self, command: str) -> Context:
        """A fresh context on the demo's configuration, its sessions made from the keys held now."""
        return Context(argparse.Namespace(**{**vars(self.base), "command": command}))

    def step(self, title: str, module: ModuleType, argv: list[str], expect: int = 0, verb: str = "") -> int:
        verb = verb or module.__name__.rsplit(".", 1)[-1]
        self.say(f"\n== {title}: pipeline {verb} {' '.join(argv)}")
        parser = argparse.ArgumentParser()
        module.configure(parser)
        merged = argparse.Namespace(**{**vars(self.base), "command": verb, **vars(parser.parse_args(argv))})
        before = calls_by_principal()
        keys = acting_as()
        if keys:
            self.say(f"   as {keys}")
        try:
            code = module.run(merged)
        except PipelineError as exc:
            code = exc.exit_code
            self.say(f"   -> exit {code}: {exc.message}")
        if keys:
            principals = calls_by_principal(since=before)
            for arn, count in principals.items():
                self.say(f"   {count:4d} calls by {arn}")
            self.acted.append({"step": title, "as": keys, "principals": principals})
        if code != expect:
            raise PipelineError(f"demo step {title!r} exited {code}, expected {expect}")
        return code


def acting_as() -> str:
    """The ARN of the keys this process holds now: the emulator's admin or its operator."""
    from pipeline.local.authz import org

    key = os.environ.get("AWS_ACCESS_KEY_ID")
    return {org.ADMIN_KEY: f"arn:aws:iam::{org.ADMIN_ACCOUNT}:user/admin", org.OPERATOR_KEY: org.OPERATOR_ARN}.get(
        key or "", "")


def calls_by_principal(since: dict[str, int] | None = None) -> dict[str, int]:
    """Calls the emulator authorized per principal ARN (all so far, or since an earlier snapshot)."""
    from pipeline.local.authz import layer

    now = dict(layer.PRINCIPALS)
    if since is None:
        return now
    return {arn: n - since.get(arn, 0) for arn, n in sorted(now.items()) if n > since.get(arn, 0)}


def iam_report() -> dict[str, Any]:
    """Every call the emulator's authorization layer decided in this process: authorized and denied, per
    principal (the functions' execution roles included: they call S3 as themselves)."""
    from pipeline.local.authz import layer

    calls, denied = dict(layer.PRINCIPALS), dict(layer.DENIED)
    principals = {arn: {"authorized": n - denied.get(arn, 0), "denied": denied.get(arn, 0)}
                  for arn, n in sorted(calls.items())}
    return {"authorized": sum(p["authorized"] for p in principals.values()),
            "denied": sum(p["denied"] for p in principals.values()), "principals": principals}


def demo_config(source: Path, work: Path, ctx: Context, *, in_repository: bool = False) -> Path:
    """A copy of `source`, with freeze windows lifted so the demo runs on any day of the week and `go_dir`
    made absolute (it is relative to the folder holding the original). `in_repository`: the copy goes to
    `work/repository/environments`, beside the Go module the repository holds, so `go_dir` stays as written."""
    import yaml

    target = work / ("repository" if in_repository else "") / "environments"
    shutil.copytree(source, target)
    for path in sorted(target.glob("*.yml")):
        data = yaml.safe_load(path.read_text())
        if not isinstance(data, dict):
            continue
        changed = False
        gates = data.get("gates")
        if isinstance(gates, dict) and gates.get("freeze"):
            ctx.out.progress(f"demo: lifting {path.name} freeze windows {gates['freeze']} for this run")
            gates["freeze"], changed = [], True
        if path.name == "pipeline.yml" and not in_repository:  # go_dir is relative to the original's folder
            data["go_dir"], changed = str((source.parent / str(data.get("go_dir") or "go-function")).resolve()), True
        if changed:
            path.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


def digest_of(zip_path: Path) -> str:
    """The sha256 of a built artifact, from its manifest."""
    from pipeline.artifact.manifest import Manifest, manifest_path_for

    return Manifest.load(manifest_path_for(zip_path)).sha256
