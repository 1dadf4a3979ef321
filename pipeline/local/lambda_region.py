"""Lambda loads code only from an S3 bucket in the function's own region: make moto refuse the rest.

moto 5.2 reads the code object wherever the bucket is ("FIXME: does not validate bucket region"),
so a cross-region promotion passed here and failed on AWS at UpdateFunctionCode. AWS answers
CreateFunction and UpdateFunctionCode (and so a CloudFormation AWS::Lambda::Function) with an
InvalidParameterValueException carrying S3's PermanentRedirect; this patch does the same, in
moto's backend so the API and CloudFormation paths both hit it. `install()` is idempotent.
"""

from __future__ import annotations

from typing import Any

_INSTALLED = False


def redirect_message(bucket_region: str) -> str:
    """AWS's wording for a code bucket in another region than the function."""
    return ("Error occurred while GetObject. S3 Error Code: PermanentRedirect. S3 Error Message: "
            f"The bucket is in this region: {bucket_region}. Please use this region to retry the request")


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.awslambda.exceptions import InvalidParameterValueException
    from moto.awslambda.models import LambdaFunction
    from moto.s3.exceptions import MissingBucket
    from moto.s3.models import s3_backends

    original = LambdaFunction._set_function_code

    def _set_function_code(self: Any, updated_spec: dict[str, Any]) -> None:
        if "ZipFile" not in updated_spec and "ImageUri" not in updated_spec and "S3Bucket" in updated_spec \
                and not updated_spec.get("DryRun"):
            try:
                bucket = s3_backends[self.account_id][self.partition].get_bucket(updated_spec["S3Bucket"])
            except MissingBucket:
                bucket = None  # moto's own NoSuchBucket answer follows
            if bucket is not None and bucket.region_name != self.region:
                raise InvalidParameterValueException(redirect_message(bucket.region_name))
        original(self, updated_spec)

    LambdaFunction._set_function_code = _set_function_code  # type: ignore[method-assign]
    _INSTALLED = True
