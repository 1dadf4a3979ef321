"""S3's events to EventBridge: an object created in a bucket with `EventBridgeConfiguration` is an event.

moto's S3 already knows when to notify (PutObject, CopyObject, CompleteMultipartUpload, each once) and
whether the bucket has EventBridge notifications on, but its EventBridge message is not AWS's (detail.reason
`ObjectCreated`, `eTag`, every rule of every bus run synchronously inside the upload). `install()` puts this
module's `publish` in its place: the event in AWS's shape (docs.aws.amazon.com/AmazonS3/latest/userguide/
ev-events.html: detail.bucket.name, detail.object.key/size/etag/version-id/sequencer, detail.reason
PutObject | CopyObject | CompleteMultipartUpload, request-id, requester) goes to the bucket owner's default
bus in the bucket's region (`events_bus`), which delivers in its own thread: an upload never waits for, nor
fails by, a delivery. A bucket without the configuration sends nothing, as on AWS. `install()` also makes
CloudFormation's `AWS::S3::Bucket` apply `NotificationConfiguration.EventBridgeConfiguration` (moto drops it).
"""

from __future__ import annotations

import itertools
import time
import uuid
from typing import Any

_INSTALLED: dict[str, bool] = {}
_REASONS = {"s3:ObjectCreated:Put": "PutObject", "s3:ObjectCreated:Post": "POST Object",
            "s3:ObjectCreated:Copy": "CopyObject",
            "s3:ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload"}
_SEQUENCE = itertools.count(1)


def install() -> None:
    """Replace moto's S3 -> EventBridge message and fill the CloudFormation gap (idempotent)."""
    if _INSTALLED.get("s3"):
        return
    from moto.s3 import notifications

    notifications._send_event_bridge_message = _from_moto  # type: ignore[assignment]
    _cloudformation_notifications()
    _INSTALLED["s3"] = True


def _from_moto(account_id: str, bucket: Any, event_name: Any, key: Any) -> None:
    try:
        found = event(account_id, bucket, event_name, key)
    except Exception:  # an event never fails the upload (S3 delivers to EventBridge asynchronously)
        return
    if found is not None:
        from pipeline.local import events_bus

        events_bus.put(account_id, bucket.region_name, found)


def event(account_id: str, bucket: Any, event_name: Any, key: Any) -> dict[str, Any] | None:
    """S3's EventBridge event for `event_name` on `key`; None for an event this emulator does not send."""
    event_name = getattr(event_name, "value", event_name)
    reason = _REASONS.get(event_name)
    if reason is None or key is None:
        return None  # deletions, restores, tags, ACLs: not sent here
    obj: dict[str, Any] = {"key": key.name, "size": key.size, "etag": str(key.etag).strip('"')}
    if getattr(key, "version_id", None) not in (None, "null"):
        obj["version-id"] = key.version_id  # only a versioned bucket's objects have one
    obj["sequencer"] = f"{int(time.time() * 1000):012X}{next(_SEQUENCE):04X}"
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Object Created", "source": "aws.s3",
            "account": account_id, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "region": bucket.region_name, "resources": [f"arn:aws:s3:::{bucket.name}"],
            "detail": {"version": "0", "bucket": {"name": bucket.name}, "object": obj,
                       "request-id": uuid.uuid4().hex[:16].upper(), "requester": account_id,
                       "source-ip-address": "127.0.0.1", "reason": reason}}


def _cloudformation_notifications() -> None:
    from moto.s3.models import FakeBucket, s3_backends

    create = FakeBucket.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    update = FakeBucket.update_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def apply(bucket: Any, properties: dict[str, Any], account_id: str) -> None:
        config = (properties.get("NotificationConfiguration") or {}).get("EventBridgeConfiguration") or {}
        enabled = str(config.get("EventBridgeEnabled", "false")).lower() == "true"
        current = bucket.notification_configuration
        if enabled == (current is not None and current.event_bridge is not None):
            return
        from moto.utilities.utils import get_partition

        backend = s3_backends[account_id][get_partition(bucket.region_name)]
        backend.put_bucket_notification_configuration(bucket.name, {"EventBridgeConfiguration": {}} if enabled
                                                      else {})

    def created(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str,
                **kwargs: Any) -> Any:
        bucket = create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        apply(bucket, cloudformation_json.get("Properties") or {}, account_id)
        return bucket

    def updated(cls: Any, original_resource: Any, new_resource_name: str, cloudformation_json: Any,
                account_id: str, region_name: str) -> Any:
        bucket = update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)
        apply(bucket, cloudformation_json.get("Properties") or {}, account_id)
        return bucket

    FakeBucket.create_from_cloudformation_json = classmethod(created)  # type: ignore[method-assign,assignment]
    FakeBucket.update_from_cloudformation_json = classmethod(updated)  # type: ignore[method-assign,assignment]
