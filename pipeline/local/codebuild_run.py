"""One CodeBuild build, run for real: the project's service role, its source, the buildspec, its log.

What CodeBuild itself does is done here as CodeBuild does it, through signed calls to the emulator's own
endpoint with a session of the project's service role (assumed as codebuild.amazonaws.com, whose trust the
role must grant), so the IAM layer decides each one and the IAM report counts them: CreateLogStream and
PutLogEvents of the build's log (`codebuild_log`: streamed while a phase runs), GetObject of an S3 source,
ssm:GetParameters of PARAMETER_STORE variables, PutObject of a pipeline action's output artifacts
(`codebuild_artifacts`, in UPLOAD_ARTIFACTS, when the build succeeded). The buildspec runs in the product's
own BuildspecRunner (the one `pipeline buildspec run` uses), in the emulated image (`codebuild_image`), with
the role's keys, the emulator's endpoint and CA, the project's variables, then StartBuild's overrides, then
CODEBUILD_*; the buildspec's exported variables become the build's. A call the role may not make fails the
build in that phase, with the AccessDenied line in the log and the phase's context. A build still running when
its TimeoutInMinutes (times the emulator's time scale, `timeout_s`) passes is stopped and ends TIMED_OUT
(BUILD_TIMED_OUT). Not modelled: secondary sources, artifacts of builds CodePipeline did not start, reports,
cache, VPC, the queued timeout, Secrets Manager variables.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any

from pipeline.local import codebuild_image, execrole
from pipeline.local.codebuild_builds import Build
from pipeline.local.codebuild_log import BuildLog

_RESOLVED_SOURCE = "resolvedSourceVersion"


class BuildFailure(Exception):
    """The build ends FAILED in the phase in progress, with CodeBuild's status code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def run(build: Build, overrides: list[dict[str, str]], project: dict[str, Any],
        pipeline: dict[str, Any] | None) -> None:
    """The build from QUEUED to COMPLETED (in the caller's thread: the layer starts one per build)."""
    log = BuildLog(build)
    work = Path(tempfile.mkdtemp(prefix="codebuild-"))
    watchdog = threading.Timer(timeout_s(build), _time_out, args=(build,))
    watchdog.daemon = True
    watchdog.start()
    try:
        build.enter("QUEUED")
        build.enter("PROVISIONING")
        session = execrole.service_session(build.service_role, "codebuild.amazonaws.com", build.uuid, build.region,
                                           source_account=build.account)
        if session is None:
            raise BuildFailure("CLIENT_ERROR", f"CodeBuild is not authorized to perform: sts:AssumeRole on "
                                               f"{build.service_role}")
        clients = ServiceClients(session.environment(), build.region)
        _open_log(log, clients)
        build.enter("DOWNLOAD_SOURCE")
        src = _download_source(build, clients, work, pipeline)
        env = _environment(build, session.environment(), project, overrides, clients)
        _run_buildspec(build, log, src, env, project, clients, pipeline)
    except BuildFailure as failure:
        log.line(f"[Container] {failure}")
        build.fail("FAILED", failure.code, str(failure))
        build.finish("FAILED")
    except Exception as exc:  # any emulator fault ends the build FAILED, said in its log
        log.line(f"[Container] build failed in the emulator: {type(exc).__name__}: {exc}")
        build.fail("FAILED", "CLIENT_ERROR", f"{type(exc).__name__}: {exc}")
        build.finish("FAILED")
    finally:
        watchdog.cancel()
        log.send()
        shutil.rmtree(work, ignore_errors=True)


def timeout_s(build: Build) -> float:
    """The build's TimeoutInMinutes in seconds, times the emulator's time scale. Not the profile's minute
    (`events.minute`): a build's commands run at real speed, so `instant` must not cut them short."""
    from pipeline.local import timing

    return build.timeout_minutes * 60.0 * timing.active().scale


def _time_out(build: Build) -> None:
    """The timeout passed before the build completed: it ends TIMED_OUT (its commands are stopped)."""
    if build.ended is None:
        build.timed_out = build.stop_requested = True
        if build.runner is not None:
            build.runner.stop()


class ServiceClients:
    """boto3 clients of a service's session (CodeBuild's, CodePipeline's) on the emulator's own endpoint."""

    def __init__(self, keys: dict[str, str], region: str) -> None:
        import boto3

        served = execrole.endpoint_environment()
        self._session = boto3.session.Session(
            aws_access_key_id=keys["AWS_ACCESS_KEY_ID"], aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=keys["AWS_SESSION_TOKEN"], region_name=region)
        self._endpoint = served.get("AWS_ENDPOINT_URL")
        self._verify: Any = served.get("AWS_CA_BUNDLE", True)
        self._lock = threading.Lock()

    def client(self, service: str) -> Any:
        with self._lock:  # a boto3 Session is not thread-safe; parallel pipeline actions share this one
            return self._session.client(service, endpoint_url=self._endpoint, verify=self._verify)


def _denied(exc: Exception) -> BuildFailure:
    return BuildFailure("CLIENT_ERROR", str(exc))


def _open_log(log: BuildLog, clients: ServiceClients) -> None:
    if not log.build.log_group:
        return
    from botocore.exceptions import ClientError

    logs = clients.client("logs")
    try:
        try:
            logs.create_log_group(logGroupName=log.build.log_group)
        except logs.exceptions.ResourceAlreadyExistsException:
            pass
        logs.create_log_stream(logGroupName=log.build.log_group, logStreamName=log.build.uuid)
    except ClientError as exc:
        raise _denied(exc) from None
    log.client = logs


def _download_source(build: Build, clients: ServiceClients, work: Path, pipeline: dict[str, Any] | None) -> Path:
    """The primary source unpacked as the working directory: CodePipeline's input artifact or an S3 zip."""
    from botocore.exceptions import ClientError

    src = work / "src"
    src.mkdir()
    if build.source.get("type") == "NO_SOURCE":
        return src
    if pipeline is not None:
        artifacts = pipeline.get("inputArtifacts") or []
        if not artifacts:
            raise BuildFailure("CLIENT_ERROR", "CodePipeline gave the build no input artifact")
        bucket, key = artifacts[0]["bucket"], artifacts[0]["key"]
    elif build.source.get("type") == "S3":
        bucket, _, key = str(build.source.get("location", "")).partition("/")
    else:
        raise BuildFailure("CLIENT_ERROR", f"source type {build.source.get('type')}: the emulator's CodeBuild runs "
                                           "S3 and CODEPIPELINE sources only")
    try:
        answer = clients.client("s3").get_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        raise _denied(exc) from None
    build.source_version = answer.get("VersionId") or answer.get("ETag", "").strip('"')
    with zipfile.ZipFile(io.BytesIO(answer["Body"].read())) as archive:
        archive.extractall(src)
    return src


def _environment(build: Build, keys: dict[str, str], project: dict[str, Any], overrides: list[dict[str, str]],
                 clients: ServiceClients) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(the image's and the service's variables, the project's, StartBuild's overrides)."""
    base = {**codebuild_image.environment(), **keys, **execrole.endpoint_environment(),
            "AWS_REGION": build.region, "AWS_DEFAULT_REGION": build.region}
    declared = list((project.get("environment") or {}).get("environmentVariables") or [])
    return base, _values(declared, clients), _values(overrides, clients)


def _values(variables: list[dict[str, str]], clients: ServiceClients) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in variables:
        kind = item.get("type", "PLAINTEXT")
        if kind == "PLAINTEXT":
            out[item["name"]] = str(item.get("value", ""))
        elif kind == "PARAMETER_STORE":
            out[item["name"]] = _parameter(clients, str(item.get("value", "")))
        else:
            raise BuildFailure("CLIENT_ERROR", f"environment variable {item['name']}: type {kind} is not run by the "
                                               "emulator's CodeBuild")
    return out


def _parameter(clients: ServiceClients, name: str) -> str:
    from botocore.exceptions import ClientError

    try:
        answer = clients.client("ssm").get_parameters(Names=[name], WithDecryption=True)
    except ClientError as exc:
        raise _denied(exc) from None
    found = answer.get("Parameters") or []
    if not found:
        raise BuildFailure("CLIENT_ERROR", f"parameter does not exist: {name}")
    return str(found[0]["Value"])


def _run_buildspec(build: Build, log: BuildLog, src: Path, env: tuple[dict[str, str], dict[str, str], dict[str, str]],
                   project: dict[str, Any], clients: ServiceClients, pipeline: dict[str, Any] | None) -> None:
    from pipeline.core.buildspec import build_environment, codebuild_variables, parse_buildspec
    from pipeline.engine.buildspec_run import BuildspecRunner
    from pipeline.errors import InputError

    name = str((project.get("source") or {}).get("buildspec") or "buildspec.yml")
    path = src / name
    try:  # a buildspec given inline (buildspecOverride may hold the YAML itself) or the file in the source
        text = name if "\n" in name else path.read_text()
        spec = parse_buildspec(text, "buildspecOverride" if "\n" in name else name)
    except OSError:
        raise BuildFailure("YAML_FILE_ERROR", f"YAML_FILE_ERROR: stat {path}: no such file or directory") from None
    except InputError as exc:
        raise BuildFailure("YAML_FILE_ERROR", f"YAML_FILE_ERROR: {exc}") from None
    base, declared, overrides = env
    codebuild = codebuild_variables(build_id=build.id, build_number=build.number, src_dir=str(src),
                                    initiator=build.initiator, start_ms=int(build.started * 1000),
                                    source_version=build.source_version)
    codebuild.update(CODEBUILD_BUILD_ARN=build.arn, CODEBUILD_BUILD_IMAGE=codebuild_image.IMAGE_NAME,
                     CODEBUILD_LOG_PATH=build.uuid)
    try:
        environment = build_environment(base, spec, declared, overrides, codebuild)
    except InputError as exc:
        raise BuildFailure("CLIENT_ERROR", str(exc)) from None

    def progress(line: str) -> None:
        log.line(line)
        if line.startswith("[Container] Entering phase "):
            log.send()
            build.enter(line.rsplit(" ", 1)[-1])
        elif line.startswith("[Container] Phase context status code: ") and not build.stop_requested:
            # (a command StopBuild or the timeout ended is no command failure: the phase ends STOPPED / TIMED_OUT)
            code, _, message = line.removeprefix("[Container] Phase context status code: ").partition(" Message: ")
            build.fail("FAILED", code, message)

    runner = BuildspecRunner(spec, environment, src, stream=log, progress=progress, own_group=True)
    build.runner = runner
    if build.stop_requested:
        runner.stop()
    with log.streaming():
        result = runner.run()
    build.runner = None
    if runner.stopped:
        status, code, message = (("TIMED_OUT", "BUILD_TIMED_OUT", "Build has timed out. ") if build.timed_out
                                 else ("STOPPED", "BUILD_STOPPED", "Build was stopped"))
        log.line(f"[Container] {message.strip()}")
        build.fail(status, code, message)
        build.finish(status)
        return
    build.enter("UPLOAD_ARTIFACTS")
    outputs = list((pipeline or {}).get("outputArtifacts") or [])
    if result.ok and outputs:
        from pipeline.local import codebuild_artifacts

        try:
            for url in codebuild_artifacts.upload(clients.client("s3"), text, src, outputs):
                log.line(f"[Container] Uploaded the output artifact to {url}")
        except codebuild_artifacts.ArtifactFailure as failure:
            log.line(f"[Container] Phase context status code: {failure.code} Message: {failure}")
            build.fail("FAILED", failure.code, str(failure))
            build.finish("FAILED")
            return
    build.enter("FINALIZING")
    build.exported = dict(result.exported)
    build.finish("SUCCEEDED" if result.ok else "FAILED")
