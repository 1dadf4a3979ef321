"""Read what a function runs right now (one GetFunction: configuration and tags)."""

from __future__ import annotations

from botocore.exceptions import ClientError

from pipeline.aws.errors import error_code, error_message
from pipeline.aws.session import AccountSession
from pipeline.core.bootstrap import LiveFunction
from pipeline.errors import PipelineError


def read_live_function(session: AccountSession, region: str, name: str) -> LiveFunction | None:
    """The live `$LATEST` configuration and tags of `name`, or None when it does not exist.

    GetFunction returns the tags too (when the caller may lambda:ListTags), so one call suffices.
    """
    try:
        resp = session.client("lambda", region).get_function(FunctionName=name)
    except ClientError as exc:
        code = error_code(exc)
        if code == "ResourceNotFoundException":
            return None
        raise PipelineError(f"function {name} in {session.account}/{region}: get_function: {code}: "
                            f"{error_message(exc)}") from None
    config = resp["Configuration"]
    return LiveFunction(name=config["FunctionName"], arn=config["FunctionArn"], runtime=config.get("Runtime", ""),
                        handler=config.get("Handler", ""), code_sha256=config.get("CodeSha256", ""),
                        memory=int(config.get("MemorySize", 0)),
                        architecture=(config.get("Architectures") or ["x86_64"])[0],
                        tags=dict(resp.get("Tags") or {}))
