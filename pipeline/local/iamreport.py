"""Least privilege by use: every Allow statement the product's templates render, each of its actions with
how often the emulator's authorization layer let a call through because of it (its decision logs,
PIPELINE_EMULATOR_IAM_LOG, of a demo or a test run), and the grants nothing used.

A statement may carry its reason for a grant no scenario exercises: a comment line
`# unused-ok: <reason>` right above its `- Sid:` line in the template. Such grants are listed apart.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.config.merged import PipelineConfig
from pipeline.infra.cfnyaml import load_template
from pipeline.infra.render import Rendered, render_all
from pipeline.local.iam.policy import action_matches

TEMPLATE_FILES = {"tooling": "tooling.yml.j2", "replica": "tooling.yml.j2", "pipeline": "pipeline.yml.j2",
                  "target": "target.yml.j2", "function": "function.yml.j2"}
_REASON = re.compile(r"^\s*#\s*unused-ok:\s*(?P<reason>.+?)\s*$")
_RESOURCE = re.compile(r"^  (?P<logical>[A-Za-z0-9]+):\s*$")  # a resource under `Resources:`
_SID = re.compile(r"^\s*-\s*Sid:\s*(?P<sid>[^\s#]+)\s*(#.*)?$")


@dataclass
class Grant:
    policy: str  # normalized owner, e.g. "111111111111 role/pipeline-deploy inline deploy"
    statement: str
    actions: tuple[str, ...]
    template: str
    reason: str = ""
    uses: Counter[str] = field(default_factory=Counter)
    source: tuple[str, str, str] = ("", "", "")  # (template file, logical id, document): one template statement

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (*self.source, self.statement)

    def unused(self) -> list[str]:
        return [a for a in self.actions if not self.uses[a]]


def owner_of_log_name(name: str) -> str:
    """The policy name the layer logs (`arn:aws:iam::1:role/r (inline p)`) as a report key."""
    arn, _, what = name.partition(" (")
    what = what.rstrip(")")
    parts = arn.split(":")
    account = parts[4] if len(parts) > 4 else ""
    resource = parts[5] if len(parts) > 5 else arn
    if arn.startswith("arn:aws:s3:::"):
        return f"bucket {arn[len('arn:aws:s3:::'):]} bucket policy"
    if ":kms:" in arn:
        return f"{account} key key policy"
    if what == "boundary" or resource.startswith("policy/"):
        return f"{account} {resource}"
    return f"{account} {resource} {what}"


def _reasons(body: str) -> dict[tuple[str, str], str]:
    """(resource logical id, Sid) -> the `# unused-ok:` reason written right above that statement."""
    reasons, pending, logical = {}, "", ""
    for line in body.splitlines():
        top = _RESOURCE.match(line)
        if top:
            logical = top.group("logical")
        found = _REASON.match(line)
        if found:
            pending = found.group("reason")
            continue
        sid = _SID.match(line)
        if sid and pending:
            reasons[(logical, sid.group("sid"))] = pending
        if line.strip():
            pending = ""
    return reasons


def _resolve(value: Any, names: dict[str, str]) -> str:
    if isinstance(value, dict) and "Ref" in value:
        return names.get(value["Ref"], value["Ref"])
    return str(value)


def _statements(document: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    raw = document.get("Statement") if isinstance(document, dict) else None
    items = [raw] if isinstance(raw, dict) else list(raw or [])
    for i, st in enumerate(items):
        if isinstance(st, dict) and st.get("Effect") == "Allow":
            yield str(st.get("Sid") or f"#{i}"), st


def grants_of(rendered: Rendered) -> list[Grant]:
    template = load_template(rendered.body)
    resources = template.get("Resources") or {}
    names = {logical: str((r.get("Properties") or {}).get("BucketName") or (r.get("Properties") or {}).get(
        "RoleName") or logical) for logical, r in resources.items() if isinstance(r, dict)}
    reasons = _reasons(rendered.body)
    account, label = rendered.account, f"{rendered.kind}:{rendered.stack_name}"
    out: list[Grant] = []
    for logical, resource in resources.items():
        props = resource.get("Properties") or {} if isinstance(resource, dict) else {}
        rtype = resource.get("Type", "") if isinstance(resource, dict) else ""
        docs: list[tuple[str, str, Any]] = []
        if rtype == "AWS::IAM::Role":
            role = f"{account} role/{_resolve(props.get('RoleName', logical), names)}"
            docs.append((f"{role} trust policy", "trust policy", props.get("AssumeRolePolicyDocument")))
            docs += [(f"{role} inline {p.get('PolicyName')}", f"inline {p.get('PolicyName')}", p.get("PolicyDocument"))
                     for p in props.get("Policies") or []]
        elif rtype == "AWS::IAM::ManagedPolicy":
            docs.append((f"{account} policy/{_resolve(props.get('ManagedPolicyName', logical), names)}", "policy",
                         props.get("PolicyDocument")))
        elif rtype == "AWS::S3::BucketPolicy":
            docs.append((f"bucket {_resolve(props.get('Bucket'), names)} bucket policy", "bucket policy",
                         props.get("PolicyDocument")))
        elif rtype == "AWS::KMS::Key":
            docs.append((f"{account} key key policy", "key policy", props.get("KeyPolicy")))
        for owner, kind, document in docs:
            for sid, st in _statements(document):
                actions = st.get("Action") or ()
                actions = (actions,) if isinstance(actions, str) else tuple(actions)
                out.append(Grant(owner, sid, actions, label, reasons.get((logical, sid), ""),
                                 source=(TEMPLATE_FILES.get(rendered.kind, rendered.kind), logical, kind)))
    return out


def unused_in_templates(grants: list[Grant]) -> list[dict[str, Any]]:
    """Each template statement's actions that no rendering of it used (the same statement rendered for dev,
    test and prod is one grant of the template), and the reason written above it, if any."""
    merged: dict[tuple[str, str, str, str], tuple[list[str], Counter[str], str]] = {}
    for grant in grants:
        actions, uses, reason = merged.setdefault(grant.key, ([], Counter(), ""))
        actions += [a for a in grant.actions if a not in actions]
        uses.update(grant.uses)
        merged[grant.key] = (actions, uses, reason or grant.reason)
    return [{"template": k[0], "resource": k[1], "document": k[2], "statement": k[3], "action": a, "reason": r}
            for k, (actions, uses, r) in merged.items() for a in actions if not uses[a]]


def read_logs(paths: Iterable[Path]) -> list[dict[str, Any]]:
    rows = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append(json.loads(line))
    return rows


def count_uses(grants: list[Grant], rows: list[dict[str, Any]]) -> None:
    index: dict[tuple[str, str], list[Grant]] = {}
    for grant in grants:
        index.setdefault((grant.policy, grant.statement), []).append(grant)
    for row in rows:
        if not row.get("allowed"):
            continue
        for hit in row.get("matched") or ():
            for grant in index.get((owner_of_log_name(hit["policy"]), hit["statement"]), ()):
                for action in grant.actions:
                    if action_matches([action], row["action"]):
                        grant.uses[action] += 1


def report(config: PipelineConfig, logs: Iterable[Path]) -> dict[str, Any]:
    grants: list[Grant] = []
    for rendered in render_all(config):
        grants += grants_of(rendered)
    rows = read_logs(logs)
    count_uses(grants, rows)
    denied = Counter((r.get("principal_arn") or r.get("principal"), r.get("action") or r.get("operation"),
                      r.get("reason", "")) for r in rows if not r.get("allowed"))
    used_by: dict[str, set[str]] = {}
    for row in rows:
        if row.get("allowed") and row.get("action"):
            used_by.setdefault(row.get("principal_arn") or row.get("principal", ""), set()).add(row["action"])
    return {
        "calls": len(rows),
        "statements": [{"policy": g.policy, "statement": g.statement, "template": g.template,
                        "uses": {a: g.uses[a] for a in g.actions}, "reason": g.reason} for g in grants],
        "unused": [{"policy": g.policy, "statement": g.statement, "action": a, "template": g.template}
                   for g in grants if not g.reason for a in g.unused()],
        "unused_with_reason": [{"policy": g.policy, "statement": g.statement, "action": a, "reason": g.reason}
                               for g in grants if g.reason for a in g.unused()],
        "template_unused": [u for u in unused_in_templates(grants) if not u["reason"]],
        "wildcard_actions": sorted({a for g in grants for a in g.actions if "*" in a or "?" in a}),
        "used_by_principal": {k: sorted(v) for k, v in sorted(used_by.items())},
        "denied": [{"principal": k[0], "action": k[1], "reason": k[2], "count": n} for k, n in denied.most_common()],
    }
