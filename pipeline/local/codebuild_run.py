"""One CodeBuild build, run for real: the project's service role, its source, the buildspec, its log.

What CodeBuild itself does is done here as CodeBuild does it, through signed calls to the emulator's own
endpoint with a session of the project's service role (assumed as codebuild.amazonaws.com, whose trust the
role must grant), so the IAM layer decides each one and the IAM report counts them: CreateLogStream and
PutLogEvents of the build's log (`<group>/<build uuid>`), GetObject of an S3 source, ssm:GetParameters of
PARAMETER_STORE variables. The buildspec runs in the product's own BuildspecRunner (the one `pipeline
buildspec run` uses), in the emulated image (`codebuild_image`), with the role's keys, the emulator's
endpoint and CA, the project's variables, then StartBuild's overrides, then CODEBUILD_*; the buildspec's
exported variables become the build's. A call the role may not make fails the build in that phase, with
the AccessDenied line in the log and the phase's context. Not modelled: secondary sources, the buildspec's
`artifacts` upload, reports, cache, VPC, timeouts (TimeoutInMinutes), Secrets Manager variables.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

from pipeline.local import codebuild_image, execrole
from pipeline.local.codebuild_builds import Build

_RESOLVED_SOURCE = "resolvedSourceVersion"


class BuildFailure(Exception):
    """The build ends FAILED in the phase in progress, with CodeBuild's status code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class BuildLog(io.TextIOBase):
    """The build's output, line by line, kept and sent to CloudWatch Logs at each phase's end."""

    def __init__(self, build: Build) -> None:
        self.build = build
        self.client: Any = None
        self._partial = ""
        self._pending: list[dict[str, Any]] = []
        self.lines: list[str] = []
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._partial += text
            *done, self._partial = self._partial.split("\n")
            for line in done:
                self.lines.append(line)
                self._pending.append({"timestamp": int(time.time() * 1000), "message": line})
        return len(text)

    def line(self, text: str) -> None:
        self.write(text.rstrip("\n") + "\n")

    def send(self) -> None:
        """PutLogEvents of what is pending (as the service role); a refusal is said in the log itself."""
        with self._lock:
            events, self._pending = self._pending, []
        if not events or self.client is None or not self.build.log_group:
            return
        from botocore.exceptions import ClientError

        try:
            self.client.put_log_events(logGroupName=self.build.log_group, logStreamName=self.build.uuid,
                                       logEvents=events)
        except ClientError as exc:
            self.lines.append(f"[Container] could not write the log: {exc}")


def run(build: Build, overrides: list[dict[str, str]], project: dict[str, Any],
        pipeline: dict[str, Any] | None) -> None:
    """The build from QUEUED to COMPLETED (in the caller's thread: the layer starts one per build)."""
    log = BuildLog(build)
    work = Path(tempfile.mkdtemp(prefix="codebuild-"))
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
        _run_buildspec(build, log, src, env, project)
    except BuildFailure as failure:
        log.line(f"[Container] {failure}")
        build.fail("FAILED", failure.code, str(failure))
        build.finish("FAILED")
    except Exception as exc:  # any emulator fault ends the build FAILED, said in its log
        log.line(f"[Container] build failed in the emulator: {type(exc).__name__}: {exc}")
        build.fail("FAILED", "CLIENT_ERROR", f"{type(exc).__name__}: {exc}")
        build.finish("FAILED")
    finally:
        log.send()
        shutil.rmtree(work, ignore_errors=True)


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
                   project: dict[str, Any]) -> None:
    from pipeline.core.buildspec import build_environment, codebuild_variables, parse_buildspec
    from pipeline.engine.buildspec_run import BuildspecRunner
    from pipeline.errors import InputError

    name = str((project.get("source") or {}).get("buildspec") or "buildspec.yml")
    path = src / name
    try:  # a buildspec given inline (buildspecOverride may hold the YAML itself) or the file in the source
        spec = parse_buildspec(name, "buildspecOverride") if "\n" in name else parse_buildspec(path.read_text(), name)
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
        elif line.startswith("[Container] Phase context status code: "):
            code, _, message = line.removeprefix("[Container] Phase context status code: ").partition(" Message: ")
            build.fail("FAILED", code, message)

    runner = BuildspecRunner(spec, environment, src, stream=log, progress=progress, own_group=True)
    build.runner = runner
    if build.stop_requested:
        runner.stop()
    result = runner.run()
    build.runner = None
    if runner.stopped:
        build.fail("STOPPED", "BUILD_STOPPED", "Build was stopped")
        build.finish("STOPPED")
        return
    build.enter("UPLOAD_ARTIFACTS")
    build.enter("FINALIZING")
    build.exported = dict(result.exported)
    build.finish("SUCCEEDED" if result.ok else "FAILED")
