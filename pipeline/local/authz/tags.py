"""The tags a request asks to create, as IAM's `aws:RequestTag/<key>` and `aws:TagKeys` condition keys.

A policy (the sandbox boundary, for one) can deny creating a resource without an `owner` tag; AWS
judges that from the request's own tags, so the emulator must read them from every form the
product's calls send them in: query lists (`Tags.member.N.Key`, CloudFormation and IAM), a JSON
map (Lambda `Tags`, CloudWatch Logs and SQS `tags`), a JSON list of `{Key, Value}` (Budgets
`ResourceTags`, most JSON services) and S3's `x-amz-tagging` header.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

_QUERY = re.compile(r"^(?:Tags|ResourceTags)\.member\.(\d+)\.(Key|Value)$")


def request_tags(params: Mapping[str, Any], headers: Mapping[str, str]) -> dict[str, str]:
    tags: dict[str, str] = {}
    pairs: dict[str, dict[str, str]] = {}
    for name, value in params.items():
        found = _QUERY.match(str(name))
        if found:
            pairs.setdefault(found.group(1), {})[found.group(2)] = str(value)
    tags.update({p["Key"]: p.get("Value", "") for p in pairs.values() if "Key" in p})
    for name in ("Tags", "ResourceTags", "tags"):  # `tags`: CloudWatch Logs, SQS (JSON maps)
        value = params.get(name)
        if isinstance(value, Mapping):
            tags.update({str(k): str(v) for k, v in value.items()})
        elif isinstance(value, list):
            tags.update({str(t["Key"]): str(t.get("Value", "")) for t in value
                         if isinstance(t, Mapping) and "Key" in t})
    header = next((v for k, v in headers.items() if k.lower() == "x-amz-tagging"), None)
    if header:
        tags.update(dict(parse_qsl(header, keep_blank_values=True)))
    return tags


def condition_keys(tags: Mapping[str, str]) -> dict[str, list[str]]:
    """`aws:RequestTag/<key>` per tag and `aws:TagKeys`; nothing when the request names no tag (Null is true)."""
    if not tags:
        return {}
    keys: dict[str, list[str]] = {f"aws:RequestTag/{k}": [v] for k, v in tags.items()}
    keys["aws:TagKeys"] = sorted(tags)
    return keys
