"""The Lambda adapter: read the live alias, deploy code, move the alias, invoke, list and delete versions.

The fast path touches only code, versions and the alias: infrastructure stays with
CloudFormation. Lambda is asynchronous: a new function is `Pending` before `Active`, an update
leaves `LastUpdateStatus: InProgress` before `Successful`, and either can end `Failed`. After each
write this adapter waits for the function to be ready, polling under a deadline (never a fixed sleep) as
core/waits.py says; a 409 "update in progress" is retried by `aws/retry.py`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from pipeline.artifact.manifest import hex_sha256
from pipeline.aws.errors import error_code, error_message
from pipeline.aws.session import AccountSession
from pipeline.core import waits
from pipeline.core.smoke import Invocation
from pipeline.errors import PipelineError


@dataclass(frozen=True)
class FunctionVersion:
    version: str
    code_sha256: str
    runtime: str | None
    handler: str | None
    last_update: str | None = None
    architectures: tuple[str, ...] = ()
    state: str | None = None         # Pending | Active | Inactive | Failed (None: not reported)
    reason: str | None = None        # StateReason, or LastUpdateStatusReason while not Successful

    @property
    def ready(self) -> bool:
        """Lambda has finished creating and updating it (what the next write or invoke needs)."""
        return self.state in (None, "Active", "Inactive") and self.last_update in (None, "Successful")

    @property
    def failed(self) -> str | None:
        """What failed, in Lambda's words, or None."""
        if self.state == "Failed":
            return f"Lambda reports the function Failed: {self.reason or 'no reason given'}"
        if self.last_update == "Failed":
            return f"the update failed: {self.reason or 'no reason given'}"
        return None


class FunctionNotFound(PipelineError):
    pass


class FunctionAdapter:
    def __init__(self, session: AccountSession, region: str, name: str,
                 sleep: Callable[[float], None] = time.sleep, fix: str = "") -> None:
        self.name = name
        self.fix = fix  # the command that creates the function (`pipeline bootstrap --env dev`), for errors
        self.region = region
        self.account = session.account
        self.client = session.client("lambda", region)
        self.sleep = sleep
        self.last_wait: str | None = None  # the states the last wait went through, for progress lines

    def where(self) -> str:
        return f"function {self.name} in {self.account}/{self.region}"

    def version(self, qualifier: str | None = None) -> FunctionVersion | None:
        """The configuration behind `qualifier` (alias, version or $LATEST); None when it does not exist."""
        params: dict[str, Any] = {"FunctionName": self.name}
        if qualifier:
            params["Qualifier"] = qualifier
        try:
            resp = self.client.get_function_configuration(**params)
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise self._error(exc, "get_function_configuration") from None
        return _version(resp)

    def require(self) -> FunctionVersion:
        found = self.version()
        if found is None:
            raise FunctionNotFound(f"{self.where()} not found" + (f": run `{self.fix}` first" if self.fix else ""))
        return found

    def switch_runtime(self, runtime: str, handler: str) -> None:
        try:
            changed = _version(self.client.update_function_configuration(FunctionName=self.name, Runtime=runtime,
                                                                         Handler=handler))
        except ClientError as exc:
            raise self._error(exc, "update_function_configuration") from None
        if not changed.ready:
            self.wait_updated(None)

    def deploy(self, bucket: str, key: str, object_version: str | None, architecture: str,
               expected: float | None = None) -> FunctionVersion:
        """Update code from S3 and publish a version in one call; wait only if Lambda is still updating
        (`expected`: how long this function's last code update took, which times the polls)."""
        params: dict[str, Any] = {"FunctionName": self.name, "S3Bucket": bucket, "S3Key": key, "Publish": True,
                                  "Architectures": [architecture]}
        if object_version:
            params["S3ObjectVersion"] = object_version
        try:
            published = _version(self.client.update_function_code(**params))
        except ClientError as exc:
            raise self._error(exc, "update_function_code") from None
        if not published.ready:
            settled = self.wait_updated(published.version, expected=expected)
            if settled.code_sha256 != published.code_sha256:  # both answers must name the same bytes
                raise PipelineError(f"{self.where()}: version {published.version} answered CodeSha256 "
                                    f"{published.code_sha256} to the update and {settled.code_sha256} once ready")
            published = settled
        return published

    def wait_updated(self, qualifier: str | None, timeout: float = 300.0,
                     expected: float | None = None) -> FunctionVersion:
        """Poll until `qualifier` is Active and its last update Successful; Failed is an error naming why.
        How often: core/waits.py (growing; timed around `expected` when the last update's duration is known)."""
        started = time.monotonic()
        delay, deadline, seen, polls = 0.0, started + timeout, [], 0
        while True:
            current = self.version(qualifier)
            polls += 1
            if current is None:
                raise FunctionNotFound(f"{self.where()} disappeared while updating")
            state = current.last_update if current.state in (None, "Active") else current.state
            if not seen or seen[-1] != state:
                seen.append(str(state or "Active"))
            if current.failed:
                what = f" version {current.version}" if qualifier else ""
                raise PipelineError(f"{self.where()}{what}: {current.failed}")
            if current.ready:
                self.last_wait = (f"waited {' -> '.join(seen)} {time.monotonic() - started:.2f}s, "
                                  f"{polls} poll{'s' if polls > 1 else ''}")
                return current
            if time.monotonic() > deadline:
                raise PipelineError(f"{self.where()}: still {current.state}/{current.last_update} after "
                                    f"{timeout:.0f}s")
            delay = waits.next_delay(time.monotonic() - started, delay, expected)
            self.sleep(delay)

    def publish_version(self) -> str:
        """Publish `$LATEST` (once Lambda is done creating or updating it) and return the version's number;
        Lambda answers the existing version when `$LATEST` has not changed since it was published."""
        if not self.require().ready:
            self.wait_updated(None)
        try:
            published = _version(self.client.publish_version(FunctionName=self.name))
        except ClientError as exc:
            raise self._error(exc, "publish_version") from None
        if not published.ready:
            self.wait_updated(published.version)
        return published.version

    def point_alias(self, alias: str, version: str, *, extra: tuple[str, float] | None = None,
                    exists: bool = True) -> None:
        """`alias` -> `version`, optionally sending a weight to an `extra` version (canary)."""
        routing = {"AdditionalVersionWeights": {extra[0]: extra[1]}} if extra else {"AdditionalVersionWeights": {}}
        if not exists:
            try:
                self.client.create_alias(FunctionName=self.name, Name=alias, FunctionVersion=version,
                                         **({"RoutingConfig": routing} if extra else {}))
                return
            except ClientError as exc:
                # A retried create whose first answer was lost finds the alias it made: move it instead.
                if error_code(exc) not in ("ResourceConflictException", "ConflictException"):
                    raise self._error(exc, "create_alias") from None
        try:
            self.client.update_alias(FunctionName=self.name, Name=alias, FunctionVersion=version,
                                     RoutingConfig=routing)
        except ClientError as exc:
            raise self._error(exc, "update_alias") from None

    def delete_alias(self, alias: str) -> None:
        try:
            self.client.delete_alias(FunctionName=self.name, Name=alias)
        except ClientError as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise self._error(exc, "delete_alias") from None

    def alias_weights(self, alias: str) -> dict[str, float] | None:
        """The alias's extra version weights (a canary split: {version: share}); None when there is no alias."""
        try:
            resp = self.client.get_alias(FunctionName=self.name, Name=alias)
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise self._error(exc, "get_alias") from None
        weights = (resp.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        return {str(v): float(w) for v, w in weights.items()}

    def alias_version(self, alias: str) -> str | None:
        try:
            return str(self.client.get_alias(FunctionName=self.name, Name=alias)["FunctionVersion"])
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise self._error(exc, "get_alias") from None

    def versions(self) -> list[str]:
        """Every published version's number (all pages of ListVersionsByFunction; `$LATEST` left out)."""
        try:
            pages = self.client.get_paginator("list_versions_by_function").paginate(FunctionName=self.name)
            return [str(v["Version"]) for page in pages for v in page.get("Versions", [])
                    if v.get("Version") != "$LATEST"]
        except ClientError as exc:
            raise self._error(exc, "list_versions_by_function") from None

    def aliases(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """Every alias: name -> (its version, the versions its routing weights add). All pages of ListAliases."""
        try:
            pages = self.client.get_paginator("list_aliases").paginate(FunctionName=self.name)
            found = [a for page in pages for a in page.get("Aliases", [])]
        except ClientError as exc:
            raise self._error(exc, "list_aliases") from None
        return {str(a["Name"]): (str(a["FunctionVersion"]), tuple(str(v) for v in (
            (a.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}))) for a in found}

    def delete_version(self, version: str) -> None:
        """DeleteFunction with a Qualifier: that version only (Lambda refuses one an alias references)."""
        if not version.isdigit():  # never the function itself, never $LATEST
            raise PipelineError(f"{self.where()}: refusing to delete {version!r}: not a published version")
        try:
            self.client.delete_function(FunctionName=self.name, Qualifier=version)
        except ClientError as exc:
            if error_code(exc) != "ResourceNotFoundException":  # gone already: what we wanted
                raise self._error(exc, f"delete_function {version}") from None

    def invoke(self, qualifier: str, event: dict[str, Any]) -> Invocation:
        start = time.perf_counter()
        try:
            resp = self.client.invoke(FunctionName=self.name, Qualifier=qualifier, Payload=json.dumps(event).encode())
        except ClientError as exc:
            raise self._error(exc, f"invoke {qualifier}") from None
        payload = resp["Payload"].read()
        duration = (time.perf_counter() - start) * 1000
        return Invocation(payload, duration, resp.get("FunctionError"), resp.get("ExecutedVersion"))

    def _error(self, exc: ClientError, action: str) -> PipelineError:
        if error_code(exc) == "ResourceConflictException" and "following state: Failed" in error_message(exc):
            current = self.version()  # Lambda's 409 does not say why: the configuration does
            if current is not None and current.failed:
                return PipelineError(f"{self.where()}: {action} refused: {current.failed}")
        return PipelineError(f"{self.where()}: {action}: {error_code(exc)}: {error_message(exc)}")


def _version(resp: dict[str, Any]) -> FunctionVersion:
    # CodeSha256 is what every decision rests on (no-op, drift, the deploy check): never guess it.
    code_sha256 = resp["CodeSha256"]
    if not _is_sha256_b64(code_sha256):
        raise PipelineError(f"AWS answered lambda with CodeSha256 {str(code_sha256)[:60]!r}, which is not a base64 "
                            "sha256 (a malformed or partial response)")
    state, last_update = resp.get("State"), resp.get("LastUpdateStatus")
    reason = resp.get("StateReason") if state != "Active" else resp.get("LastUpdateStatusReason")
    return FunctionVersion(str(resp.get("Version", "$LATEST")), code_sha256, resp.get("Runtime"),
                           resp.get("Handler"), last_update, tuple(resp.get("Architectures", ())), state, reason)


def _is_sha256_b64(value: Any) -> bool:
    return isinstance(value, str) and hex_sha256(value) is not None
