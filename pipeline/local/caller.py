"""Who is calling and where: the account and region moto itself would act in for a request.

The invoke layer runs in front of moto, so it must derive these exactly as moto's
`BaseResponse` does, or an invoke would look in a different account than `create_function` used.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from urllib.parse import parse_qs

_HOST_REGION = re.compile(r"\.(?P<region>[^.]+)\.amazonaws\.com")
DEFAULT_REGION = "us-east-1"


def access_key(headers: Mapping[str, str], query_string: str) -> str:
    from moto.core.responses import BaseResponse

    match = BaseResponse.access_key_regex.search(headers.get("Authorization", ""))
    if match:
        return match.group("access_key")
    keys = parse_qs(query_string).get("AWSAccessKeyId")
    return keys[0] if keys else "AKIAEXAMPLE"


def account(headers: Mapping[str, str], query_string: str) -> str:
    """Same priorities as moto: MOTO_ACCOUNT_ID, x-moto-account-id, the access key's account."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if headers.get("x-moto-account-id"):
        return headers["x-moto-account-id"]
    from moto.iam.models import get_account_id_from

    return get_account_id_from(access_key(headers, query_string))


def region(headers: Mapping[str, str], host: str) -> str:
    """From the host name (lambda.<region>.amazonaws.com) or else the SigV4 credential scope."""
    match = _HOST_REGION.search(host)
    if match:
        return match.group("region")
    auth = headers.get("Authorization", "")
    if "AWS4" in auth:
        scope = auth.split(",")[0].split("/")
        if len(scope) > 2:
            return scope[2]
    return DEFAULT_REGION
