"""Sufficient and minimal, by mutation: every Allow statement the templates render that a scenario of
test_least_privilege.py used is removed in turn on the emulator (mutation.py: every rendering of it, as
an admin, through the IAM/S3/KMS APIs), its proving scenario is rerun, and that run must fail with an
AccessDenied naming one of the actions the statement granted; then the statement is put back.

One emulator, two worlds: the scenarios run once as in the least-privilege test (which scenario proves
each statement, each scenario's exit codes and refusals), then again from a fresh bootstrap where, before
each scenario runs for real, every statement it proves first is removed and the scenario rerun without it.
A statement no scenario uses is listed as not mutated with its `# unused-ok:` reason.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest
from mutation import Live, removed
from test_least_privilege import SCENARIOS, _ci_promotion, logs, provers  # noqa: F401 - logs is a fixture

from pipeline.config.load import load_config
from pipeline.infra.render import render_all
from pipeline.local.iam.policy import action_matches
from pipeline.local.iamreport import grants_of, read_logs

pytestmark = [pytest.mark.emulator, pytest.mark.proof]


@dataclass
class Run:
    codes: list[int] = field(default_factory=list)
    output: str = ""
    error: str = ""  # the scenario's own failure (an assertion, a command that had to succeed)
    refused: set[tuple[str, str, str]] = field(default_factory=set)  # (principal, action, resource)


def _refusals(path: Path) -> set[tuple[str, str, str]]:
    rows = read_logs([path]) if path.exists() else []
    return {(r.get("principal", ""), r.get("action", ""), r.get("resource", "")) for r in rows
            if not r.get("allowed") and r.get("action")}


def run(world, name: str, artifacts, monkeypatch, log: Path) -> Run:
    """Scenario `name`, its commands' exit codes and output recorded, its decisions logged to `log`."""
    out, real = Run(), world.cli

    def cli(*args: str) -> tuple[int, str, str]:
        code, stdout, stderr = real(*args)
        out.codes.append(code)
        out.output += stdout + stderr
        return code, stdout, stderr

    monkeypatch.setenv("PIPELINE_EMULATOR_IAM_LOG", str(log))
    monkeypatch.setattr(world, "cli", cli)
    try:
        if SCENARIOS[name] is _ci_promotion:
            _ci_promotion(world, *artifacts, monkeypatch=monkeypatch)
        else:
            SCENARIOS[name](world, *artifacts)
    except Exception as exc:  # any failure of the scenario is its result
        out.error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    finally:
        monkeypatch.setattr(world, "cli", real)
        monkeypatch.delenv("PIPELINE_EMULATOR_IAM_LOG")
    out.refused = _refusals(log)
    return out


def judge(actions: tuple[str, ...], mutated: Run, baseline: Run) -> str:
    """'' when the mutated run failed with an AccessDenied of one of `actions`, else what happened."""
    new = sorted(r for r in mutated.refused - baseline.refused if action_matches(actions, r[1]))
    # a scenario that expects a command to fail (a broken release) fails otherwise when that command now
    # reports an AccessDenied of the action (the layer's message names it), which its baseline run did not
    said = any(f"perform: {a}" in mutated.output and f"perform: {a}" not in baseline.output for _, a, _ in new)
    failed = bool(mutated.error) or mutated.codes != baseline.codes or said
    if new and failed:
        return ""
    if not new:
        return f"no call refused for {', '.join(actions)}" + (f" (failed anyway: {mutated.error})" if failed else "")
    return f"{new[0][1]} refused, yet the scenario succeeded"


def fresh_world(world, aws, files: dict[Path, str], monkeypatch, log: Path) -> None:
    """The world fixture's start again: an emptied emulator, the same env files, tooling and envs bootstrapped."""
    aws.reset()
    boto3.DEFAULT_SESSION = None
    for path, text in files.items():
        path.write_text(text)
    monkeypatch.setenv("PIPELINE_EMULATOR_IAM_LOG", str(log))
    world.ok("bootstrap", "--tooling")
    world.bootstrap("dev", "test", "prod")
    monkeypatch.delenv("PIPELINE_EMULATOR_IAM_LOG")


def test_removing_any_used_statement_fails_its_scenario_with_access_denied(
        logs, aws, world, monkeypatch, tmp_path, built, built2, crash_artifact, capsys):  # noqa: F811
    files = {p: p.read_text() for p in world.envdir.glob("*.yml")}
    artifacts = (built, built2, crash_artifact)
    monkeypatch.delenv("PIPELINE_EMULATOR_IAM_LOG")
    baseline = {"bootstrap": Run(refused=_refusals(logs["bootstrap"]))}
    for name in SCENARIOS:
        logs[name] = tmp_path / f"iam-{name}.jsonl"
        baseline[name] = run(world, name, artifacts, monkeypatch, logs[name])
        assert not baseline[name].error, f"{name} (unmutated): {baseline[name].error}"
    config = load_config(world.envdir)
    proven = provers(config, logs)
    lives: dict[tuple[str, str, str, str], list[Live]] = defaultdict(list)
    for rendered in render_all(config):
        for grant in grants_of(rendered):
            lives[grant.key].append(Live(grant, rendered))
    by_scenario: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
    rows, unmutated = [], []
    for key, names in proven.items():
        reason = next((live.grant.reason for live in lives[key] if live.grant.reason), "")
        chosen = next((n for n in names if n != "bootstrap"), "")
        if chosen:
            by_scenario[chosen].append(key)
        elif names:  # proven by the bootstrap only: its roles do not exist before it runs
            rows.append((key, "bootstrap", "not mutated: proven by the bootstrap alone"))
        else:
            unmutated.append((key, reason or "NO REASON"))

    fresh_world(world, aws, files, monkeypatch, tmp_path / "iam-bootstrap-again.jsonl")
    for name in SCENARIOS:
        for key in by_scenario.get(name, ()):
            actions = tuple(dict.fromkeys(a for live in lives[key] for a in live.grant.actions))
            with removed(lives[key]):
                mutated = run(world, name, artifacts, monkeypatch, tmp_path / f"mut-{len(rows)}.jsonl")
            problem = judge(actions, mutated, baseline[name])
            denied = sorted({r[1] for r in mutated.refused - baseline[name].refused if action_matches(actions, r[1])})
            rows.append((key, name, problem or f"failed: AccessDenied {', '.join(denied)}"))
        real = run(world, name, artifacts, monkeypatch, tmp_path / f"iam-{name}-again.jsonl")
        assert not real.error, f"{name}, every statement back, after its mutated runs: {real.error}"

    # the control: a statement no scenario uses, removed, must survive the judge (it can tell "nothing changed")
    control = next(k for k, _ in unmutated if k[0] == "tooling.yml.j2" and k[2].startswith("inline "))
    with removed(lives[control]):
        unused = run(world, "read-only", artifacts, monkeypatch, tmp_path / "mut-control.jsonl")
    assert judge(lives[control][0].grant.actions, unused, baseline["read-only"]), control

    table = [f"{k[0]} {k[1]} {k[2]} {k[3]}: {scenario}: {result}" for k, scenario, result in rows]
    table += [f"{k[0]} {k[1]} {k[2]} {k[3]}: not mutated (no scenario uses it): {reason}" for k, reason in unmutated]
    report = tmp_path / "mutations.txt"
    report.write_text("\n".join(table) + "\n")
    with capsys.disabled():
        print(f"\npolicy mutation ({len(rows)} proven statements, {len(unmutated)} unused):\n" + "\n".join(table))
    survivors = [line for line, (_, _, result) in zip(table, rows, strict=False) if not result.startswith("failed:")]
    assert not survivors, "removing these statements did not fail their scenario:\n" + "\n".join(survivors)
    assert not [u for u in unmutated if u[1] == "NO REASON"], unmutated
    assert rows, "no statement was mutated"
