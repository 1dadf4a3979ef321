"""The emulator's clock: how long each asynchronous AWS state lasts and what one API call costs.

moto finishes every operation before it answers; AWS does not. The emulator's state machines
(Lambda's `Pending`/`InProgress`, CloudFormation's `*_IN_PROGRESS`, IAM propagation) take their
windows from here, and the latency layer its per-call delay, so one setting moves them together:

- `instant` (what the test suite runs): every window tiny but not zero, so each state is really
  passed through and every wait really polls; no per-call latency.
- `aws` (the default for `local up`, `--local` and `demo`): durations and latencies like AWS's.

Chosen by `PIPELINE_EMULATOR_TIMING=instant|aws` and `PIPELINE_EMULATOR_TIME_SCALE=<factor>` (every
window and latency multiplied by it; 0.1 runs the `aws` profile ten times faster and keeps every
transition), or `pipeline local up --timing ... --time-scale ...`.

Where the `aws` figures come from (none is an AWS guarantee; all vary by region, size and load):
- Lambda create -> Active, and code/config updates: "In most cases, this process is very fast"
  (docs.aws.amazon.com/lambda/latest/dg/functions-states.html; aws.amazon.com/blogs/compute/
  tracking-the-state-of-lambda-functions/); public deploy logs show a zip update `InProgress` for
  1-3 s (e.g. github.com/fujiwara/lambroll/pull/314) and a configuration update for about 1 s.
  VPC functions take 60-90 s (aws.amazon.com/blogs/compute/coming-soon-updated-lambda-states-
  lifecycle-for-vpc-networking): not modelled, the product's functions have no VPC.
- API round trip: 20-80 ms for a control-plane call from the same region; CloudFormation's and
  STS's calls are slower than S3's. The figures below are the middle of that range.
- CloudFormation per resource and IAM propagation: typical console event timings (a role or an
  S3 bucket a few seconds, a CodePipeline ~5 s) and IAM's documented "eventually consistent"
  propagation of a few seconds (docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html).
- An EventBridge schedule (`events.minute`, `events_scheduler`): a minute is a minute on AWS (a rate or a
  cron cannot say less than one minute, docs.aws.amazon.com/eventbridge/latest/userguide/
  eb-scheduled-rule-pattern.html); `instant` makes it 0.5 s so that rate(1 minute) fires twice a second.
- An HTTP API's own hop (`execute-api`, paid by requests to an API the emulator serves, `apigw_layer`):
  CloudWatch's `Latency` minus `IntegrationLatency` (docs.aws.amazon.com/apigateway/latest/developerguide/
  http-api-metrics.html); public write-ups put it at 10-30 ms for REST APIs and "somewhat less for HTTP
  APIs" (smplogs.com/patterns/apigateway/high-latency). 10 ms here; not measured on these machines.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from pipeline.errors import InputError

PROFILE_ENV = "PIPELINE_EMULATOR_TIMING"
SCALE_ENV = "PIPELINE_EMULATOR_TIME_SCALE"
PROFILES = ("instant", "aws")
DEFAULT_PROFILE = "aws"

# Named windows, in seconds before scaling. A name is looked up whole, then with its last dotted
# part cut off, so `cloudformation.create.AWS::IAM::Role` falls back to `cloudformation.create`.
_AWS_DURATIONS: dict[str, float] = {
    "lambda.create": 1.5,            # State Pending -> Active
    "lambda.update_code": 2.0,       # LastUpdateStatus InProgress -> Successful (zip from S3)
    "lambda.update_config": 1.0,     # the same for UpdateFunctionConfiguration
    "cloudformation.changeset": 2.0,  # CREATE_PENDING/CREATE_IN_PROGRESS -> CREATE_COMPLETE
    "cloudformation.create": 3.0,    # one resource's CREATE_IN_PROGRESS -> CREATE_COMPLETE
    "cloudformation.create.AWS::IAM::Role": 8.0,
    "cloudformation.create.AWS::S3::Bucket": 3.0,
    "cloudformation.create.AWS::Lambda::Function": 2.0,
    "cloudformation.create.AWS::CodePipeline::Pipeline": 5.0,
    "cloudformation.update": 2.0,
    # CloudFormation reports a function created or updated once Lambda has finished (Active / Successful):
    # these stay at least as long as lambda.create / lambda.update_code, in both profiles
    "cloudformation.update.AWS::Lambda::Function": 2.5,
    "cloudformation.delete": 2.0,
    "iam.propagation": 5.0,          # a new role cannot be assumed / passed for this long
    "events.minute": 60.0,           # one minute of an EventBridge schedule (rate(1 minute) fires this often)
}
_INSTANT_DURATIONS: dict[str, float] = {name: 0.02 for name in _AWS_DURATIONS}
_INSTANT_DURATIONS.update({"cloudformation.create": 0.005, "cloudformation.update": 0.005,
                           "cloudformation.delete": 0.005, "iam.propagation": 0.0,
                           "events.minute": 0.5})  # a schedule is seen firing in a test, not 50 times a second
# Per-call latency by signing service name ("default" for the rest).
_AWS_LATENCY: dict[str, float] = {"default": 0.04, "s3": 0.03, "sts": 0.05, "cloudformation": 0.08,
                                  "iam": 0.06, "execute-api": 0.01}


class TimingError(InputError):
    """A profile or scale that makes no sense (named in the message): exit 2."""


@dataclass(frozen=True)
class Timing:
    profile: str
    scale: float = 1.0
    durations: Mapping[str, float] = field(default_factory=dict)
    latencies: Mapping[str, float] = field(default_factory=dict)

    def window(self, name: str) -> float:
        """How long the state `name` lasts, in seconds, scaled. Unknown names are a bug: KeyError."""
        key = name
        while True:
            if key in self.durations:
                return self.durations[key] * self.scale
            if "." not in key:
                raise KeyError(f"no emulator duration named {name!r}")
            key = key.rsplit(".", 1)[0]

    def latency(self, service: str) -> float:
        """The delay one API call of `service` pays before it is answered, scaled (0 in `instant`)."""
        return self.latencies.get(service, self.latencies.get("default", 0.0)) * self.scale

    def describe(self) -> str:
        return f"{self.profile}" + (f" x{self.scale:g}" if self.scale != 1.0 else "")


def profile(name: str, scale: float = 1.0) -> Timing:
    if name not in PROFILES:
        raise TimingError(f"{PROFILE_ENV}: unknown emulator timing {name!r} (choose {' or '.join(PROFILES)})")
    if not scale > 0:
        raise TimingError(f"{SCALE_ENV}: the time scale must be a number > 0, got {scale!r}")
    if name == "aws":
        return Timing("aws", scale, MappingProxyType(dict(_AWS_DURATIONS)), MappingProxyType(dict(_AWS_LATENCY)))
    return Timing("instant", scale, MappingProxyType(dict(_INSTANT_DURATIONS)), MappingProxyType({}))


def from_env(environ: Mapping[str, str] | None = None, *, name: str | None = None,
             scale: float | None = None) -> Timing:
    """The timing chosen by explicit arguments (command-line options), else the environment, else `aws`."""
    environ = os.environ if environ is None else environ
    chosen = name or environ.get(PROFILE_ENV) or DEFAULT_PROFILE
    if scale is None:
        raw = environ.get(SCALE_ENV, "").strip()
        try:
            scale = float(raw) if raw else 1.0
        except ValueError:
            raise TimingError(f"{SCALE_ENV}: the time scale must be a number > 0, got {raw!r}") from None
    return profile(chosen.strip().lower(), scale)


# The timing the running emulator's layers read at each request (set by Emulator.start()).
_LOCK = threading.Lock()
_ACTIVE: Timing = profile("instant")


def active() -> Timing:
    return _ACTIVE


def activate(timing: Timing) -> None:
    global _ACTIVE
    with _LOCK:
        _ACTIVE = timing


@contextlib.contextmanager
def using(timing: Timing | None = None, **durations: float) -> Iterator[Timing]:
    """Run a block under another timing (tests that need a long window), then put the old one back.

    Keyword arguments override single windows in seconds, unscaled: `using(lambda_update_code=1.0)`
    (underscores before the first dot's place: `lambda_update_code` -> `lambda.update_code`).
    """
    before = active()
    chosen = timing or before
    if durations:
        merged = dict(chosen.durations)
        for key, seconds in durations.items():
            service, _, rest = key.partition("_")
            merged[f"{service}.{rest}"] = seconds / chosen.scale
        chosen = replace(chosen, durations=MappingProxyType(merged))
    activate(chosen)
    try:
        yield chosen
    finally:
        activate(before)


# -- the per-call latency layer (outermost: every AWS call pays it, the emulator's own endpoints do not)
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/(?P<service>[^/]+)/aws4_request")
_OWN_PATHS = ("/moto-api", "/_emulator")


def latency_layer(app: Any) -> Any:
    def layer(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(_OWN_PATHS):
            match = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
            delay = active().latency(match["service"] if match else "default")
            if delay > 0:
                time.sleep(delay)  # the modelled round trip itself, not a wait for some state
        return app(environ, start_response)

    return layer
