"""AWS::S3::Bucket properties moto's CloudFormation drops, applied as CloudFormation applies them.

moto 5.2 creates a stack's bucket with its encryption and tags only: `VersioningConfiguration` is
ignored, so the tooling stack's artifact bucket was unversioned and an upload of the pipeline's source had
no version id to tie the execution it starts to. Here it is set on create and on an in-place update; removed
from the template, versioning is suspended as CloudFormation does (a versioned bucket never becomes
unversioned). `NotificationConfiguration.EventBridgeConfiguration` is events_s3's. `install()` is idempotent.
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
    """The template's versioning on `bucket`."""
    versioning = (properties.get("VersioningConfiguration") or {}).get("Status")
    if versioning in ("Enabled", "Suspended"):
        bucket.versioning_status = versioning
    elif bucket.versioning_status == "Enabled":
        bucket.versioning_status = "Suspended"
