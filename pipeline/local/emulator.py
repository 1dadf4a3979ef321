"""Start and stop moto's server on 127.0.0.1, with our own WSGI layers in front of it.

moto keeps all state in this process's memory, so the emulator lives as long as the
process that started it (`pipeline local up` keeps one in the foreground for other shells).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, MutableMapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.local.timing import Timing

# Credentials the emulator accepts; moto maps unknown keys to account 123456789012.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}
DEFAULT_REGION = "us-east-1"
# Variables that would point boto3 at something else than the emulator's fake base identity.
_CLEARED = ("AWS_CA_BUNDLE", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
            "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI")

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# Each layer wraps moto's app (or the layer below it); the Lambda runtime registers one.
_LAYERS: list[Callable[[WsgiApp], WsgiApp]] = []


def register_layer(layer: Callable[[WsgiApp], WsgiApp]) -> None:
    """Add a WSGI middleware in front of moto (used to fill moto's gaps)."""
    if layer not in _LAYERS:
        _LAYERS.append(layer)


def _load_layers() -> None:
    # The invoke layer runs Lambda code for real (moto alone would need Docker); Lambda's states
    # (Pending, InProgress, 409 during an update) sit in front of it. Registration order is wrapping
    # order: the first registered is innermost. The latency layer, and outside it the
    # execute-api layer (HTTP APIs: no signed AWS calls), are added in start().
    from pipeline.local import cfn_faults, consistency, invoke, lambda_layer, lambda_states

    invoke.register()
    lambda_states.install()
    register_layer(lambda_layer.state_layer)
    on_reset(lambda_states.reset)
    register_layer(consistency.layer)  # IAM propagation, atomic S3 conditional writes (/_emulator/s3/conflict)
    on_reset(consistency.reset)
    register_layer(cfn_faults.layer)  # POST /_emulator/cfn/fail: injected CloudFormation failures
    on_reset(cfn_faults.clear)
    from pipeline.local import events_bus, events_control, events_scheduler

    register_layer(events_control.layer)  # /_emulator/events: fire a scheduled rule now, its deliveries
    on_reset(events_scheduler.reset)
    on_reset(events_bus.reset)  # S3's events not yet delivered are dropped
    from pipeline.local import codebuild_builds, codebuild_image, codebuild_layer

    register_layer(codebuild_layer.layer)  # StartBuild runs the buildspec for real (moto's builds run nothing)
    on_reset(codebuild_builds.reset)
    on_shutdown(codebuild_builds.reset)
    on_shutdown(codebuild_image.remove)
    from pipeline.local import codepipeline_layer, codepipeline_runs

    register_layer(codepipeline_layer.layer)  # executions run for real: stages, builds, approvals (moto runs none)
    on_reset(codepipeline_runs.reset)
    on_shutdown(codepipeline_runs.reset)
    # Registered last, so it wraps the layers above: every call is authorized before they run.
    # Agreed order, outermost first: latency, authz, the Lambda/CloudFormation state layers, moto.
    from pipeline.local.authz import layer as authz

    register_layer(authz.layer)


def _patch_moto() -> None:
    # moto runs in this process: fill its CloudFormation gaps in place (each install is idempotent).
    from pipeline.local import (
        apigw_layer,
        cfn_alarms,
        cfn_apigw,
        cfn_bucket,
        cfn_fixes,
        cfn_providers,
        cfn_roles,
        cfn_states,
        events_control,
        events_s3,
        lambda_region,
        lambda_versions,
    )

    cfn_fixes.install()
    cfn_bucket.install()  # a stack's bucket gets its versioning
    cfn_alarms.install()
    cfn_providers.install()
    cfn_apigw.install()  # HTTP APIs and Lambda permissions (after cfn_providers: it rebuilds moto's registry too)
    apigw_layer.install()  # an API's ApiEndpoint is where the emulator serves it
    cfn_roles.install()
    cfn_states.install_all()  # CloudFormation's state machine, on top of the fixes above
    lambda_region.install()  # Lambda loads code only from a bucket in its own region
    lambda_versions.install()  # version numbers never reused; a version an alias references is not deleted
    events_control.install()  # PutRule refuses a schedule EventBridge refuses (AWS::Events::Rule is moto's model)
    events_s3.install()  # an object created in a bucket with EventBridge notifications is an event on the bus
    # moto warns for every resource type its CloudFormation drops (bucket policies, CodePipeline,
    # CodeBuild: known gaps, see shared/notes/emulator-facts.md); the warnings tell a user nothing.
    import logging
    import warnings

    warnings.filterwarnings("ignore", message=r"Tried to parse AWS::\S+ but it's not supported")
    logging.getLogger("moto").addFilter(
        lambda record: not record.getMessage().startswith("No Moto CloudFormation support for"))


class Emulator:
    """moto server on a free loopback port. Use as a context manager or start()/stop()."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, timing: Timing | None = None) -> None:
        self.host = host
        self.port = port
        self.timing = timing  # None: from the environment (PIPELINE_EMULATOR_TIMING, default aws)
        # HTTPS by default (aws:SecureTransport is true only over TLS); PIPELINE_EMULATOR_TLS=off for plain HTTP.
        self.tls = os.environ.get("PIPELINE_EMULATOR_TLS", "on").lower() != "off"
        self.ca_bundle: str | None = None
        self._tls_dir: str | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._saved_env: dict[str, str | None] = {}

    @property
    def endpoint_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def start(self) -> Emulator:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import WSGIRequestHandler, make_server

        class QuietHandler(WSGIRequestHandler):
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                pass

        from pipeline.local import timing

        self.timing = self.timing or timing.from_env()
        timing.activate(self.timing)
        _load_layers()
        _patch_moto()
        from pipeline.local.authz import org

        org.ensure_operator()  # the tooling account's operator (not an admin), again after every reset
        on_reset(org.ensure_operator)
        app: WsgiApp = DomainDispatcherApplication(create_backend_app)
        for layer in _LAYERS:
            app = layer(app)
        app = timing.latency_layer(app)  # every AWS call pays the modelled round trip
        from pipeline.local import apigw_layer

        app = apigw_layer.layer(app)  # outermost: requests to an HTTP API are no signed AWS calls
        ssl_context = None
        if self.tls:
            from pipeline.local import tls

            ssl_context, bundle = tls.make()
            self.ca_bundle, self._tls_dir = str(bundle), str(bundle.parent)
        self._server = make_server(self.host, self.port, app, threaded=True, request_handler=QuietHandler,
                                   ssl_context=ssl_context)
        self.port = self._server.server_port
        apigw_layer.serve_at(self.endpoint_url)
        from pipeline.local import execrole

        execrole.serve_at(self.endpoint_url, self.ca_bundle)  # what a function's process is pointed at
        self._thread = threading.Thread(target=self._server.serve_forever, name="emulator", daemon=True)
        self._thread.start()
        from pipeline.local import events_scheduler

        events_scheduler.start()  # EventBridge's scheduled rules fire for as long as the emulator runs
        return self

    def stop(self) -> None:
        from pipeline.local import events_scheduler

        if self._server is not None:  # (a second stop() changes nothing)
            events_scheduler.stop()  # before the pool closes: no run starts on a sandbox being torn down
        for hook in list(_SHUTDOWN_HOOKS):
            hook()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.restore_environment()
        from pipeline.local import apigw_layer, execrole

        execrole.unserve(self.endpoint_url)
        apigw_layer.unserve(self.endpoint_url)
        if self._tls_dir:
            import shutil

            shutil.rmtree(self._tls_dir, ignore_errors=True)
            self._tls_dir = None

    def ssl_context(self) -> Any:
        """What a client of the emulator's own endpoints (urllib) trusts: its CA; None over plain HTTP."""
        if not self.ca_bundle:
            return None
        import ssl

        return ssl.create_default_context(cafile=self.ca_bundle)

    def reset(self) -> None:
        """Wipe every account's state (and moto's STS keys: re-assume roles after this)."""
        reset_state()  # the server runs in this process: the same reset its /moto-api/reset endpoint does

    def environment(self, who: str = "admin") -> dict[str, str]:
        """The variables a shell (or this process) needs to talk to the emulator, with the keys of `who`:
        "admin" (the organization's management account, FAKE_CREDENTIALS) or "operator" (the tooling
        account's operator user, who may assume the promoter role and follow and approve pipelines)."""
        from pipeline.local.authz import org

        env = {"AWS_ENDPOINT_URL": self.endpoint_url, **(FAKE_CREDENTIALS if who == "admin" else org.credentials(who))}
        if self.ca_bundle:  # the emulator's own CA: clients verify its certificate like any other
            env["AWS_CA_BUNDLE"] = self.ca_bundle
        env["AWS_DEFAULT_REGION"] = os.environ.get("AWS_DEFAULT_REGION", DEFAULT_REGION)
        return env

    def export_environment(self, environ: MutableMapping[str, str]) -> None:
        """Point boto3 in `environ` (normally os.environ) at the emulator; undone by stop()."""
        for key in (*self.environment(), *_CLEARED):
            if key not in self._saved_env:
                self._saved_env[key] = environ.get(key)
        for key in _CLEARED:
            environ.pop(key, None)
        environ.update(self.environment())
        self._environ = environ

    def restore_environment(self) -> None:
        environ = getattr(self, "_environ", None)
        if environ is None:
            return
        for key, value in self._saved_env.items():
            if value is None:
                environ.pop(key, None)
            else:
                environ[key] = value
        self._saved_env.clear()
        self._environ = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


# Hooks other emulator modules register (e.g. stop warm Lambda processes).
_SHUTDOWN_HOOKS: list[Callable[[], None]] = []
_RESET_HOOKS: list[Callable[[], None]] = []


def on_shutdown(hook: Callable[[], None]) -> None:
    if hook not in _SHUTDOWN_HOOKS:
        _SHUTDOWN_HOOKS.append(hook)


def on_reset(hook: Callable[[], None]) -> None:
    if hook not in _RESET_HOOKS:
        _RESET_HOOKS.append(hook)


def reset_state() -> None:
    """Wipe every account's state held in this process (moto's backends and the layers' own): `Emulator.reset`,
    and a process that runs several emulators one after another (bench/authz.py runs the demo, which starts its
    own, several times)."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
    for hook in list(_RESET_HOOKS):
        hook()
