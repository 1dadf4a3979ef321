"""A seeded fault injector for every AWS call the product makes (botocore event hooks).

Faults come in two timings, as they do on a real network:

- `before`: the request never reaches the service (throttled, 500, connection refused/reset,
  read timeout): nothing happened server-side.
- `after`: the service carried the request out, then the answer was lost (connection reset,
  read timeout, 500). The client cannot tell this from `before`; a retry repeats a call that
  already took effect. This is what finds non-idempotent writes.
- `html`: a 5xx whose body is an HTML page (a proxy or load balancer answered, not the
  service): botocore cannot parse it and raises ResponseParserError.
- `body`: the connection breaks while a streamed answer (S3 GetObject's Body, Lambda Invoke's
  Payload) is being read: the call "succeeded", reading its body raises. (On calls without a
  streamed answer it is a connection reset after the call.)

Use `FaultInjector(rate=0.2, seed=7).install(monkeypatch)` in a test (every SessionFactory made
afterwards gets the hooks), or pass `injector.hooks()` as `event_hooks` yourself. Counters say
what was injected; `retries` counts the retries the product's policy made.
"""

from __future__ import annotations

import io
import random
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError
from botocore.parsers import ResponseParserError
from botocore.response import StreamingBody
from urllib3.exceptions import ProtocolError

KINDS = ("throttling", "internal", "reset", "refused", "timeout", "body", "html")
# Which kinds can also strike after the service did the work (the answer is what got lost).
AFTER_KINDS = frozenset({"internal", "reset", "timeout", "body", "html"})
ENDPOINT = "https://aws.invalid"


def fault(kind: str, operation: str) -> Exception:
    """The exception botocore would raise for `kind` on `operation`."""
    if kind == "throttling":
        return ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded (injected)"},
                            "ResponseMetadata": {"HTTPStatusCode": 400}}, operation)
    if kind == "internal":
        return ClientError({"Error": {"Code": "InternalError", "Message": "We encountered an internal error "
                                      "(injected)"}, "ResponseMetadata": {"HTTPStatusCode": 500}}, operation)
    if kind == "reset":
        return ConnectionClosedError(endpoint_url=ENDPOINT)
    if kind == "refused":
        return EndpointConnectionError(endpoint_url=ENDPOINT)
    if kind == "timeout":
        return ReadTimeoutError(endpoint_url=ENDPOINT)
    if kind == "body":
        return ConnectionClosedError(endpoint_url=ENDPOINT)
    if kind == "html":
        return ResponseParserError("Unable to parse response (syntax error: line 1, column 0), invalid XML "
                                   "received. Further retries may succeed:\nb'<!doctype html>\\n<title>502 Bad "
                                   "Gateway</title>' (injected)")
    raise ValueError(f"unknown fault kind {kind!r}")


def client_error(code: str, status: int, operation: str, message: str = "injected") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       operation)


@dataclass
class FaultInjector:
    """Raise a fault on `rate` of all calls (every service unless `services` names some), seeded.

    `after_share` of the faults whose kind allows it strike after the call reached the service.
    `only` limits injection to operation names (e.g. {"PutObject"}), `skip` lets that many matching
    calls through first, `limit` stops after that many faults; `enabled` switches it off.
    """

    rate: float = 0.2
    seed: int = 0
    kinds: tuple[str, ...] = KINDS
    after_share: float = 0.5
    services: frozenset[str] | None = None
    only: frozenset[str] | None = None
    skip: int = 0
    limit: int | None = None
    enabled: bool = True
    attempts: int = 0
    injected: Counter = field(default_factory=Counter)  # (timing, kind) -> n
    by_operation: Counter = field(default_factory=Counter)  # "service:Operation" -> n
    retries: int = 0  # retry attempts the product's RetryPolicy made (see retry_policy())
    backoff_seconds: float = 0.0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self._pending_after: set[int] = set()

    # -- botocore hooks --------------------------------------------------------------------------
    def hooks(self) -> list[tuple[str, object]]:
        return [("before-call", self.before_call), ("after-call", self.after_call)]

    def before_call(self, model, context, **_kwargs) -> None:
        service, name = model.service_model.service_name, model.name
        with self._lock:
            self.attempts += 1
            if not self._applies(service, name) or self._rng.random() >= self.rate:
                return
            kind = self._rng.choice(self.kinds)
            after = kind in AFTER_KINDS and self._rng.random() < self.after_share
            self.injected[("after" if after else "before", kind)] += 1
            self.by_operation[f"{service}:{name}"] += 1
        if after:
            context["inject_after"] = kind
            return
        raise fault(kind, name)

    def after_call(self, model, context, parsed=None, **_kwargs) -> None:
        kind = context.pop("inject_after", None)
        if kind is None:
            return
        member = _streaming_member(model)
        if kind == "body" and member and isinstance(parsed, dict) and member in parsed:
            parsed[member] = broken_body()
            return
        raise fault(kind, model.name)

    def _applies(self, service: str, name: str) -> bool:
        if not self.enabled or (self.limit is not None and self.total >= self.limit):
            return False
        if self.services is not None and service not in self.services:
            return False
        if self.only is not None and name not in self.only:
            return False
        if self.skip > 0:
            self.skip -= 1
            return False
        return True

    def retry_policy(self, **overrides: object) -> object:
        """The product's default RetryPolicy, counting each retry and the time it waited."""
        from pipeline.aws.retry import RetryPolicy

        def sleep(seconds: float) -> None:
            with self._lock:
                self.retries += 1
                self.backoff_seconds += seconds
            time.sleep(seconds)

        return RetryPolicy(sleep=sleep, **overrides)

    # -- installation ------------------------------------------------------------------------------
    def install(self, monkeypatch, retry: object | None = None) -> FaultInjector:
        """Give every SessionFactory made from now on these hooks and a counting retry policy."""
        install_hooks(monkeypatch, self.hooks(), retry=retry or self.retry_policy())
        return self

    @property
    def total(self) -> int:
        return sum(self.injected.values())

    def summary(self) -> str:
        parts = ", ".join(f"{t}/{k} x{n}" for (t, k), n in sorted(self.injected.items()))
        return (f"{self.total} faults in {self.attempts} attempts ({parts}); {self.retries} retries, "
                f"{self.backoff_seconds:.1f}s backoff")


class _BrokenStream(io.RawIOBase):
    def read(self, amt: int | None = -1) -> bytes:
        raise ProtocolError("Connection broken: IncompleteRead(0 bytes read, 120 more expected) (injected)")


def broken_body() -> StreamingBody:
    """A streamed answer whose connection breaks on the first read (botocore: ResponseStreamingError)."""
    return StreamingBody(_BrokenStream(), 120)


def _streaming_member(model) -> str | None:
    shape = model.output_shape
    if shape is None or not model.has_streaming_output:
        return None
    return shape.serialization.get("payload")


def install_hooks(monkeypatch, hooks: Iterable[tuple[str, object]], retry: object | None = None) -> None:
    """Patch SessionFactory so every factory made afterwards registers `hooks` on its clients."""
    from pipeline.aws import session as session_module

    original = session_module.SessionFactory.__init__
    extra = list(hooks)

    def patched(self, *args, **kwargs):
        kwargs["event_hooks"] = [*(kwargs.get("event_hooks") or []), *extra]
        if retry is not None:
            kwargs["retry"] = retry
        original(self, *args, **kwargs)

    monkeypatch.setattr(session_module.SessionFactory, "__init__", patched)
