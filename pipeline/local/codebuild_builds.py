"""The emulator's CodeBuild builds: what StartBuild started and BatchGetBuilds shows, in AWS's shapes.

moto's StartBuild records a build whose phases all "succeed" at once and runs nothing. Here a build is
the record a running build (`codebuild_run`) updates as it goes: buildStatus IN_PROGRESS until it ends
SUCCEEDED, FAILED, STOPPED or TIMED_OUT; the phases CodeBuild lists (SUBMITTED ... COMPLETED) with their start and
end times, status and contexts (the failing command's COMMAND_EXECUTION_ERROR); currentPhase; the
build's CloudWatch Logs group and stream; `exportedEnvironmentVariables`. Builds are kept per account and
region, numbered per project from 1, and forgotten on an emulator reset.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

# CodeBuild's phases in order; the four buildspec phases are run by the product's BuildspecRunner.
PHASES = ("SUBMITTED", "QUEUED", "PROVISIONING", "DOWNLOAD_SOURCE", "INSTALL", "PRE_BUILD", "BUILD",
          "POST_BUILD", "UPLOAD_ARTIFACTS", "FINALIZING", "COMPLETED")
_LOCK = threading.Lock()
_BUILDS: dict[tuple[str, str], dict[str, Build]] = {}
_NUMBERS: dict[tuple[str, str, str], int] = {}


@dataclass
class Build:
    account: str
    region: str
    project: str
    uuid: str
    number: int
    initiator: str
    service_role: str
    source: dict[str, Any]
    environment: dict[str, Any]
    log_group: str | None
    timeout_minutes: int = 60  # the project's TimeoutInMinutes (or StartBuild's override)
    queued_timeout_minutes: int = 480
    started: float = field(default_factory=time.time)
    ended: float | None = None
    status: str = "IN_PROGRESS"
    phases: list[dict[str, Any]] = field(default_factory=list)
    exported: dict[str, str] = field(default_factory=dict)
    source_version: str | None = None
    runner: Any = None  # the BuildspecRunner while commands run (StopBuild stops it)
    stop_requested: bool = False
    timed_out: bool = False  # its TimeoutInMinutes passed (`codebuild_run`): it ends TIMED_OUT

    @property
    def id(self) -> str:
        return f"{self.project}:{self.uuid}"

    @property
    def arn(self) -> str:
        return f"arn:aws:codebuild:{self.region}:{self.account}:build/{self.id}"

    def enter(self, phase: str) -> None:
        """Close the phase in progress (SUCCEEDED unless it was set) and start `phase`."""
        now = time.time()
        with _LOCK:
            self._close(now, None, None)
            self.phases.append({"phaseType": phase, "startTime": now})

    def fail(self, status: str, code: str, message: str) -> None:
        """The phase in progress ended `status` (FAILED, STOPPED...) with CodeBuild's context."""
        with _LOCK:
            self._close(time.time(), status, {"statusCode": code, "message": message})

    def _close(self, now: float, status: str | None, context: dict[str, str] | None) -> None:
        if not self.phases or "endTime" in self.phases[-1] or self.phases[-1]["phaseType"] == "COMPLETED":
            return
        open_phase = self.phases[-1]
        open_phase.update(endTime=now, durationInSeconds=int(now - open_phase["startTime"]),
                          phaseStatus=status or open_phase.get("phaseStatus") or "SUCCEEDED")
        if context:
            open_phase["contexts"] = [context]

    def finish(self, status: str) -> None:
        self.enter("COMPLETED")
        with _LOCK:
            self.status, self.ended = status, time.time()

    def to_api(self) -> dict[str, Any]:
        with _LOCK:
            phases = [dict(p) for p in self.phases]
            current = phases[-1]["phaseType"] if phases else "SUBMITTED"
            out: dict[str, Any] = {
                "id": self.id, "arn": self.arn, "buildNumber": self.number, "startTime": self.started,
                "currentPhase": current, "buildStatus": self.status, "projectName": self.project,
                "phases": phases, "source": self.source, "secondarySources": [], "artifacts": {"location": ""},
                "environment": self.environment, "serviceRole": self.service_role, "initiator": self.initiator,
                "timeoutInMinutes": self.timeout_minutes,
                "queuedTimeoutInMinutes": self.queued_timeout_minutes, "buildComplete": self.ended is not None,
                "exportedEnvironmentVariables": [{"name": k, "value": v} for k, v in self.exported.items()],
                "encryptionKey": f"arn:aws:kms:{self.region}:{self.account}:alias/aws/s3",
            }
            if self.ended is not None:
                out["endTime"] = self.ended
            if self.source_version:
                out["resolvedSourceVersion"] = self.source_version
            if self.log_group:
                out["logs"] = {"groupName": self.log_group, "streamName": self.uuid,
                               "cloudWatchLogs": {"status": "ENABLED", "groupName": self.log_group}}
            return out


def add(build: Build) -> None:
    with _LOCK:
        _BUILDS.setdefault((build.account, build.region), {})[build.id] = build


def next_number(account: str, region: str, project: str) -> int:
    with _LOCK:
        key = (account, region, project)
        _NUMBERS[key] = _NUMBERS.get(key, 0) + 1
        return _NUMBERS[key]


def get(account: str, region: str, build_id: str) -> Build | None:
    with _LOCK:
        return _BUILDS.get((account, region), {}).get(build_id)


def of_project(account: str, region: str, project: str | None) -> list[Build]:
    """Newest first, as ListBuildsForProject (sortOrder DESCENDING) and ListBuilds answer."""
    with _LOCK:
        builds = list(_BUILDS.get((account, region), {}).values())
    return sorted((b for b in builds if project is None or b.project == project), key=lambda b: -b.started)


def running() -> list[Build]:
    with _LOCK:
        return [b for region in _BUILDS.values() for b in region.values() if b.ended is None]


def reset() -> None:
    for build in running():
        build.stop_requested = True
        if build.runner is not None:
            build.runner.stop()
    with _LOCK:
        _BUILDS.clear()
        _NUMBERS.clear()
