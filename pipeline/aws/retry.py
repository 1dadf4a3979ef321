"""Which AWS failures are worth retrying, and the tenacity policy that retries them.

Throttling, 5xx and connection trouble are retried with exponential backoff and full jitter;
AccessDenied, validation errors and every other 4xx fail at once (retrying cannot fix them).
One 4xx is a wait, not an error: Lambda's 409 ResourceConflictException while the function is
still `Pending` or "An update is in progress" ends by itself, so it is retried (growing interval,
at most `conflict_cap` apart) until `conflict_timeout` seconds have passed. S3's 409
ConditionalRequestConflict (a conditional write met a conflicting operation: nothing was written)
is retried like a transient failure, as the PutObject API reference says to; the retry's condition
is judged again, so it either writes or gets the 412 of whoever won.

IAM is eventually consistent: a role created seconds ago may be refused (STS AccessDenied; Lambda's
"The role defined for the function cannot be assumed by Lambda."). Only the caller knows a role is
new, so `FreshRoleWait` is applied by it, around the first use: retried, growing, until `timeout`.
"""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.parsers import ResponseParserError
from botocore.response import StreamingBody
from tenacity import RetryCallState, Retrying, retry_if_exception, wait_random_exponential

from pipeline.aws.answers import MalformedAnswer, wrap
from pipeline.aws.errors import error_code, error_message, http_status

log = logging.getLogger("pipeline.aws")
T = TypeVar("T")

THROTTLING_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
    "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException",
})
TRANSIENT_CODES = frozenset({"InternalError", "InternalFailure", "ServiceUnavailable", "RequestTimeout",
                             "RequestTimeoutException", "ServiceException",
                             # S3: "On a 409 failure you should retry the upload" (PutObject, IfNoneMatch/IfMatch)
                             "ConditionalRequestConflict"})
LAMBDA_ROLE_NOT_READY = "The role defined for the function cannot be assumed by Lambda"


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, ClientError):
        code, status = error_code(exc), http_status(exc)
        return code in THROTTLING_CODES or code in TRANSIENT_CODES or status >= 500 or status == 429
    # A 5xx page from a proxy or load balancer (HTML, not the service's XML/JSON) cannot be parsed:
    # botocore raises ResponseParserError ("Further retries may succeed") instead of a ClientError.
    return isinstance(exc, (BotoConnectionError, HTTPClientError, ResponseParserError))


# Lambda's words for a conflict that ends by itself (a Failed function's 409 does not: not retried).
_PASSING_CONFLICTS = ("An update is in progress for resource", "The function is currently in the following "
                      "state: Pending")


def is_passing_conflict(exc: BaseException | None) -> bool:
    return (isinstance(exc, ClientError) and error_code(exc) == "ResourceConflictException"
            and any(words in error_message(exc) for words in _PASSING_CONFLICTS))


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8
    base_delay: float = 0.1
    max_delay: float = 5.0
    sleep: Callable[[float], None] | None = None
    conflict_first: float = 0.05
    conflict_cap: float = 1.0
    conflict_timeout: float = 300.0

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        extra = {"sleep": self.sleep} if self.sleep is not None else {}
        transient = wait_random_exponential(multiplier=self.base_delay, max=self.max_delay)
        conflicts = [0]  # attempts that met a passing conflict: they do not use up `attempts`

        def wait(state: RetryCallState) -> float:  # tenacity asks wait, then stop, once per failed attempt
            if is_passing_conflict(state.outcome.exception() if state.outcome else None):
                conflicts[0] += 1
                return min(self.conflict_first * 1.5 ** (conflicts[0] - 1), self.conflict_cap)
            return float(transient(state))

        def stop(state: RetryCallState) -> bool:
            if is_passing_conflict(state.outcome.exception() if state.outcome else None):
                return (state.seconds_since_start or 0.0) >= self.conflict_timeout
            return state.attempt_number - conflicts[0] >= self.attempts

        retrying = Retrying(
            retry=retry_if_exception(lambda exc: is_retryable(exc) or is_passing_conflict(exc)),
            wait=wait,
            stop=stop,
            reraise=True,
            before_sleep=_log_retry,
            **extra,
        )
        return retrying(fn, *args, **kwargs)


def is_unpropagated_role(exc: BaseException | None) -> bool:
    """What AWS answers for a role it has not propagated yet (also for a role that is wrong: bounded wait)."""
    if not isinstance(exc, ClientError):
        return False
    code = error_code(exc)
    return ((code in ("AccessDenied", "AccessDeniedException") and "sts:AssumeRole" in error_message(exc))
            or (code == "InvalidParameterValueException" and LAMBDA_ROLE_NOT_READY in error_message(exc)))


@dataclass(frozen=True)
class FreshRoleWait:
    """Retry the first use of a role created moments ago until IAM has propagated it (or `timeout`).

    IAM: "changes ... take time to become visible" (docs.aws.amazon.com/IAM/latest/UserGuide/
    troubleshoot_general.html); usually a few seconds. Intervals grow from `first` by 1.5x up to `cap`;
    `pending` says which failures mean "not yet" (default: `is_unpropagated_role`); any other raises at once.
    """

    timeout: float = 60.0
    first: float = 0.25
    cap: float = 4.0
    sleep: Callable[[float], None] | None = None

    def call(self, fn: Callable[[], T], pending: Callable[[BaseException], bool] = is_unpropagated_role) -> T:
        extra = {"sleep": self.sleep} if self.sleep is not None else {}

        def wait(state: RetryCallState) -> float:
            return min(self.first * 1.5 ** (state.attempt_number - 1), self.cap)

        def stop(state: RetryCallState) -> bool:  # waited (slept) or spent, whichever is more
            return max(state.idle_for, state.seconds_since_start or 0.0) >= self.timeout

        retrying = Retrying(retry=retry_if_exception(pending), wait=wait, stop=stop, reraise=True,
                            before_sleep=_log_retry, **extra)
        return retrying(fn)


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    name = getattr(state.fn, "__name__", "call")
    log.info("retrying %s after %s (attempt %d)", name, type(exc).__name__, state.attempt_number)


class RetryingClient:
    """A boto3 client whose API methods go through a RetryPolicy; everything else passes through."""

    def __init__(self, client: Any, policy: RetryPolicy) -> None:
        self._client = client
        self._policy = policy

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name in self._client.meta.method_to_api_mapping:
            attr = _reading_streams(attr)
            what = f"{self._client.meta.service_model.service_name} {self._client.meta.method_to_api_mapping[name]}"

            def call(*args: Any, **kwargs: Any) -> Any:
                return wrap(self._policy.call(attr, *args, **kwargs), what)

            call.__name__ = name
            return call
        return attr

    @property
    def raw(self) -> Any:
        """The underlying boto3 client (for waiters, paginators and Stubber)."""
        return self._client


def _reading_streams(method: Callable[..., Any]) -> Callable[..., Any]:
    """`method`, with any streamed answer (S3 Body, Lambda Payload) read before it returns.

    A connection that breaks while the body is read raises from `.read()`, after the call
    returned: outside the retry. Reading inside it makes that a retried call like any other;
    the caller gets the bytes in an in-memory StreamingBody (our answers are small).
    """

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        response = method(*args, **kwargs)
        if isinstance(response, dict):
            for key, value in response.items():
                if isinstance(value, StreamingBody):
                    data = value.read()
                    response[key] = StreamingBody(io.BytesIO(data), len(data))
        return response

    return call


def paginate(client: Any, method: str, result_key: str, token_in: str, token_out: str,
             **params: Any) -> list[Any]:
    """All items of a paginated call, each page through the client's retry policy.

    (botocore's paginators call the raw client, so a throttled second page would not be retried.)
    """
    items: list[Any] = []
    seen: set[str] = set()
    while True:
        page = getattr(client, method)(**params)
        items += page.get(result_key, [])
        token = page.get(token_out)
        if not token or not page.get("IsTruncated", True):
            return items
        if token in seen:  # a service that hands back a token it gave before would keep us here forever
            raise MalformedAnswer(f"AWS answered {method} with a continuation token it already gave: stopping")
        seen.add(token)
        params[token_in] = token


def list_objects(client: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
    return paginate(client, "list_objects_v2", "Contents", "ContinuationToken", "NextContinuationToken",
                    Bucket=bucket, Prefix=prefix)
