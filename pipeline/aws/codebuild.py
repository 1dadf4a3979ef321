"""CodeBuild adapter: has a build ended? (BatchGetBuilds; used to tell a dead lock holder that ran in CI)."""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from pipeline.aws.session import AccountSession


@dataclass(frozen=True)
class BuildState:
    build_id: str
    status: str | None  # IN_PROGRESS, SUCCEEDED, FAILED, FAULT, TIMED_OUT, STOPPED
    complete: bool

    @property
    def ended(self) -> bool:
        return self.complete or self.status not in (None, "IN_PROGRESS")


def build_state(session: AccountSession, region: str, build_id: str) -> BuildState | None:
    """The build's status, or None when it cannot be known (not found here, or not allowed to look).

    An unknown build never makes a lock dead: only a build seen to have ended does.
    """
    try:
        resp = session.client("codebuild", region).batch_get_builds(ids=[build_id])
    except (ClientError, BotoCoreError):
        return None
    for build in resp.get("builds") or []:
        if build.get("id") == build_id:
            return BuildState(build_id, build.get("buildStatus"), bool(build.get("buildComplete")))
    return None
