"""Removing one Allow statement from a live policy on the emulator, and putting it back: what the mutation
test (test_policy_mutation.py) does to each statement the templates render, as an administrator would,
through the IAM, S3 and KMS APIs (the layer reads the changed document on the next call).

A template statement is one `Grant.key`; it is removed from every rendering of it (dev, test and prod's
deploy role alike), so no other copy of it can stand in for the one removed.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from helpers import client

from pipeline.infra.render import Rendered
from pipeline.local.iamreport import Grant

NOBODY = {"Sid": "Mutated", "Effect": "Allow", "Principal": {"Service": "nobody.invalid"}, "Action": "sts:AssumeRole"}


@dataclass(frozen=True)
class Live:
    """Where one rendered statement lives on the emulator."""

    grant: Grant
    rendered: Rendered

    @property
    def kind(self) -> str:
        return self.grant.source[2]


def _without(document: Any, label: str) -> dict[str, Any]:
    doc = _load(document)
    raw = doc["Statement"]
    items = [raw] if isinstance(raw, dict) else list(raw)
    kept = [st for i, st in enumerate(items) if str(st.get("Sid") or f"#{i}") != label]
    if len(kept) != len(items) - 1:
        raise AssertionError(f"statement {label} is not in the live document: {json.dumps(doc)[:400]}")
    # a policy needs a statement (IAM refuses an empty one): a sole statement gives way to one nobody matches
    return {**doc, "Statement": kept or [NOBODY]}


def _load(document: Any) -> dict[str, Any]:
    """A document as IAM, S3 or KMS answered it: a map, JSON, URL-encoded JSON, or (moto's GetRolePolicy of a
    role CloudFormation made) the Python text of a map."""
    if not isinstance(document, str):
        return dict(document)
    text = unquote(document) if document.lstrip().startswith("%7B") else document
    try:
        return json.loads(text)
    except ValueError:
        return ast.literal_eval(text)


def _dump(document: Any) -> str:
    return json.dumps(_load(document))


def _role(live: Live) -> str:
    return live.grant.policy.split()[1].split("/", 1)[1]


def _key_id(live: Live) -> str:
    cfn = client("cloudformation", live.rendered.account, live.rendered.region)
    return cfn.describe_stack_resource(StackName=live.rendered.stack_name,
                                       LogicalResourceId=live.grant.source[1])["StackResourceDetail"][
        "PhysicalResourceId"]


def remove(live: Live) -> Any:
    """Drop the statement from the live document; returns what `restore` needs."""
    account, region, label = live.rendered.account, live.rendered.region, live.grant.statement
    if live.kind.startswith("inline "):
        iam, name = client("iam", account), live.kind[len("inline "):]
        old = iam.get_role_policy(RoleName=_role(live), PolicyName=name)["PolicyDocument"]
        iam.put_role_policy(RoleName=_role(live), PolicyName=name, PolicyDocument=json.dumps(_without(old, label)))
        return old
    if live.kind == "trust policy":
        iam = client("iam", account)
        old = iam.get_role(RoleName=_role(live))["Role"]["AssumeRolePolicyDocument"]
        iam.update_assume_role_policy(RoleName=_role(live), PolicyDocument=json.dumps(_without(old, label)))
        return old
    if live.kind == "bucket policy":
        bucket = live.grant.policy.split()[1]
        s3 = client("s3", account, region)
        old = s3.get_bucket_policy(Bucket=bucket)["Policy"]
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(_without(old, label)))
        return old
    if live.kind == "key policy":
        kms, key = client("kms", account, region), _key_id(live)
        old = kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"]
        kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(_without(old, label)))
        return key, old
    if live.kind == "policy":
        iam = client("iam", account)
        arn = f"arn:aws:iam::{account}:{live.grant.policy.split()[1]}"
        old = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        doc = iam.get_policy_version(PolicyArn=arn, VersionId=old)["PolicyVersion"]["Document"]
        new = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(_without(doc, label)),
                                        SetAsDefault=True)["PolicyVersion"]["VersionId"]
        return arn, old, new
    raise AssertionError(f"no way to mutate a {live.kind}: {live.grant.policy}")


def restore(live: Live, saved: Any) -> None:
    account, region = live.rendered.account, live.rendered.region
    if live.kind.startswith("inline "):
        client("iam", account).put_role_policy(RoleName=_role(live), PolicyName=live.kind[len("inline "):],
                                               PolicyDocument=_dump(saved))
    elif live.kind == "trust policy":
        client("iam", account).update_assume_role_policy(RoleName=_role(live), PolicyDocument=_dump(saved))
    elif live.kind == "bucket policy":
        client("s3", account, region).put_bucket_policy(Bucket=live.grant.policy.split()[1], Policy=_dump(saved))
    elif live.kind == "key policy":
        client("kms", account, region).put_key_policy(KeyId=saved[0], PolicyName="default", Policy=_dump(saved[1]))
    elif live.kind == "policy":
        arn, old, new = saved
        iam = client("iam", account)
        iam.set_default_policy_version(PolicyArn=arn, VersionId=old)
        iam.delete_policy_version(PolicyArn=arn, VersionId=new)


@contextmanager
def removed(lives: list[Live]) -> Iterator[None]:
    """Every rendering of one template statement removed for the duration of the block, then restored."""
    saved, seen = [], set()
    try:
        for live in lives:
            # one IAM document per account, whichever region's stack rendered it; buckets and keys are regional
            where = (live.grant.policy, live.rendered.region if live.kind in ("bucket policy", "key policy") else "")
            if where in seen:
                continue
            seen.add(where)
            saved.append((live, remove(live)))
        yield
    finally:
        for live, old in reversed(saved):
            restore(live, old)
