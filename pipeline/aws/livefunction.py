"""Read what a function runs right now: GetFunction (configuration, tags) and, once promoted, the live alias."""

from __future__ import annotations

from collections.abc import Callable

from botocore.exceptions import ClientError

from pipeline.aws.errors import error_code, error_message
from pipeline.aws.session import AccountSession
from pipeline.core.bootstrap import LiveFunction
from pipeline.core.function import GO_RUNTIME, LIVE_ALIAS
from pipeline.errors import PipelineError


def read_live_function(session: AccountSession, region: str, name: str, *,
                       follow_alias: bool = False) -> LiveFunction | None:
    """What `name` runs, its configuration and tags, or None when it does not exist.

    GetFunction gives `$LATEST` and the tags (when the caller may lambda:ListTags). Once promoted, what
    serves traffic is the `live` alias's version, not `$LATEST` (after a rollback `$LATEST` still holds
    the newer code): with `follow_alias`, one more call reads that version, and its code is the code
    reported (`bootstrap` and `doctor`; a sandbox reads `$LATEST`).
    """
    resp = _found(lambda: session.client("lambda", region).get_function(FunctionName=name),
                  f"function {name} in {session.account}/{region}: get_function")
    if resp is None:
        return None
    config = resp["Configuration"]
    latest = config.get("CodeSha256", "")
    alias = _alias(session, region, name) if follow_alias and config.get("Runtime") == GO_RUNTIME else None
    running = alias or config  # what serves traffic: the live alias's version once there is one
    return LiveFunction(name=config["FunctionName"], arn=config["FunctionArn"], runtime=running.get("Runtime", ""),
                        handler=running.get("Handler", ""), code_sha256=running.get("CodeSha256", ""),
                        memory=int(config.get("MemorySize", 0)),
                        architecture=(config.get("Architectures") or ["x86_64"])[0],
                        tags=dict(resp.get("Tags") or {}),
                        alias_version=str(alias["Version"]) if alias else None,
                        latest_code_sha256=latest if alias and alias.get("CodeSha256") != latest else None)


def _alias(session: AccountSession, region: str, name: str) -> dict | None:
    """The configuration of the version the live alias points at (None: no alias yet)."""
    return _found(lambda: session.client("lambda", region).get_function_configuration(
        FunctionName=name, Qualifier=LIVE_ALIAS),
        f"function {name}:{LIVE_ALIAS} in {session.account}/{region}: get_function_configuration")


def _found(read: Callable[[], dict], what: str) -> dict | None:
    """Lambda's answer to `read`, None when it says ResourceNotFoundException; any other error is one line."""
    try:
        return dict(read())
    except ClientError as exc:
        code = error_code(exc)
        if code == "ResourceNotFoundException":
            return None
        raise PipelineError(f"{what}: {code}: {error_message(exc)}") from None
