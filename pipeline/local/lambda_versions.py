"""Lambda's version numbers and version deletion as AWS has them: patched into moto's backend in place.

moto 5.2 numbers a new version `len(versions) + 1`, so once a version is deleted the next publish
reuses a number (delete v1 of v1..v4 and the next one is "4" again; AWS never reuses a number: the
ledger names versions by number, so a reused one would make an old record point at new bytes). It
also deletes a version that an alias points at or routes a weight to; AWS refuses that with a 409
ResourceConflictException. `install()` is idempotent.
"""

from __future__ import annotations

import copy
from typing import Any

_INSTALLED = False


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.awslambda.exceptions import LambdaClientError
    from moto.awslambda.models import LambdaStorage

    original_delete = LambdaStorage.del_function

    class ReferencedVersion(LambdaClientError):
        code = 409

        def __init__(self, version: str, aliases: list[str]) -> None:
            super().__init__("ResourceConflictException", f"Unable to delete version because the following "
                                                          f"aliases reference it: {aliases}")

    def publish_version(self: Any, name_or_arn: str, description: str = "") -> Any:
        function = self.get_function_by_name_or_arn_forbid_qualifier(name_or_arn)
        group = self._functions.get(function.function_name)
        if not group or not group["latest"]:
            return None
        versions = group["versions"]
        if versions and not function.code_or_config_updated:
            return versions[-1]  # nothing changed: AWS answers the newest version (as moto does)
        function.code_or_config_updated = False
        number = max([int(group.get("highest", 0))] + [int(v.version) for v in versions]) + 1
        group["highest"] = number
        fn = copy.copy(group["latest"])
        fn.set_version(number)
        if description:
            fn.description = description
        versions.append(fn)
        self._arns[fn.function_arn] = fn
        return fn

    def del_function(self: Any, name_or_arn: str, qualifier: str | None = None) -> None:
        ref = name_or_arn.split(":function:")[-1] if name_or_arn.startswith("arn:") else name_or_arn
        if ":" in ref:
            ref, qualifier = ref.split(":", 1)
        if qualifier and qualifier.isdigit():
            function = self.get_function_by_name_or_arn_with_qualifier(ref, qualifier)  # 404 when it is gone
            aliases = self._get_function_aliases(function.function_name)
            using = sorted(name for name, alias in aliases.items() if str(alias.function_version) == qualifier
                           or qualifier in ((alias.routing_config or {}).get("AdditionalVersionWeights") or {}))
            if using:
                raise ReferencedVersion(qualifier, using)
        original_delete(self, name_or_arn, qualifier)

    LambdaStorage.publish_version = publish_version  # type: ignore[method-assign]
    LambdaStorage.del_function = del_function  # type: ignore[method-assign]
    _INSTALLED = True
