"""CloudWatch alarm states for the alarms gate (one DescribeAlarms call per check)."""

from __future__ import annotations

from botocore.exceptions import ClientError

from pipeline.aws.errors import error_code, error_message
from pipeline.aws.session import AccountSession
from pipeline.errors import PipelineError


def alarm_states(session: AccountSession, region: str, names: list[str]) -> dict[str, str | None]:
    """name -> StateValue (OK / ALARM / INSUFFICIENT_DATA), None for an alarm that does not exist."""
    if not names:
        return {}
    try:
        resp = session.client("cloudwatch", region).describe_alarms(AlarmNames=names)
    except ClientError as exc:
        raise PipelineError(f"alarms in {session.account}/{region}: {error_code(exc)}: {error_message(exc)}") \
            from None
    found = {a["AlarmName"]: a["StateValue"] for a in resp.get("MetricAlarms", []) + resp.get("CompositeAlarms", [])}
    return {name: found.get(name) for name in names}
