"""AWS::S3::Bucket properties moto's CloudFormation drops, applied as CloudFormation applies them.

moto 5.2 creates a stack's bucket with its encryption and tags only: `VersioningConfiguration` and
`NotificationConfiguration.EventBridgeConfiguration` are ignored, so the tooling stack's artifact bucket
was unversioned (an upload had no version id to tie a pipeline execution to) and sent no events to
EventBridge (no upload started the pipeline). Here both are set on create and on an in-place update; a
property removed from the template is undone as CloudFormation does (versioning only suspends: a
versioned bucket never becomes unversioned). `install()` is idempotent.
"""

from __future__ import annotations

from typing import Any

_INSTALLED = False


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.s3.models import FakeBucket

    created = FakeBucket.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    updated = FakeBucket.update_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str,
               **kwargs: Any) -> Any:
        bucket = created(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        apply(bucket, cloudformation_json.get("Properties") or {})
        return bucket

    def update(cls: Any, original_resource: Any, new_resource_name: str, cloudformation_json: Any,
               account_id: str, region_name: str) -> Any:
        bucket = updated(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)
        apply(bucket, cloudformation_json.get("Properties") or {})
        return bucket

    FakeBucket.create_from_cloudformation_json = classmethod(create)  # type: ignore[method-assign,assignment]
    FakeBucket.update_from_cloudformation_json = classmethod(update)  # type: ignore[method-assign,assignment]
    _INSTALLED = True


def apply(bucket: Any, properties: dict[str, Any]) -> None:
    """The template's versioning and EventBridge notifications on `bucket`."""
    versioning = (properties.get("VersioningConfiguration") or {}).get("Status")
    if versioning in ("Enabled", "Suspended"):
        bucket.versioning_status = versioning
    elif bucket.versioning_status == "Enabled":
        bucket.versioning_status = "Suspended"
    bridge = ((properties.get("NotificationConfiguration") or {}).get("EventBridgeConfiguration") or {})
    enabled = str(bridge.get("EventBridgeEnabled", "false")).lower() == "true"
    if enabled:
        bucket.set_notification_configuration({"EventBridgeConfiguration": {}})
    elif bucket.notification_configuration is not None and bucket.notification_configuration.event_bridge is not None:
        bucket.set_notification_configuration(None)
