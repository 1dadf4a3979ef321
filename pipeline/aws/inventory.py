"""Read-only inventory for `sandbox gc`: the Lambda functions, S3 buckets, log groups and IAM roles of one
account/region, each with its tags, so gc can report those without an `owner` tag (it never deletes them).

Tags of functions, buckets and log groups come from one Resource Groups Tagging API listing
(`tag:GetResources`), which only returns resources that have (or had) tags, so what exists comes
from each service's own listing; IAM is not in that API here, so each role's tags are one
`iam:ListRoleTags`. AWS's own roles (service-linked, `/aws-service-role/`; SSO's, `/aws-reserved/`)
are skipped: nobody in the account can tag them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from pipeline.aws.retry import paginate
from pipeline.aws.sandbox import aws_error
from pipeline.aws.session import AccountSession

AWS_ROLE_PATHS = ("/aws-service-role/", "/aws-reserved/")
TAGGED_TYPES = ["lambda", "s3", "logs"]  # service-wide filters (the tagging API takes a service alone)


@dataclass(frozen=True)
class Resource:
    kind: str  # "lambda function", "s3 bucket", "log group", "iam role"
    name: str
    arn: str
    tags: dict[str, str]


class Inventory:
    def __init__(self, session: AccountSession, account: str, region: str, partition: str = "aws") -> None:
        self.session = session
        self.account = account
        self.region = region
        self.partition = partition

    def _call(self, service: str, what: str, read: Callable[[Any], list[Any]]) -> list[Any]:
        try:
            return read(self.session.client(service, self.region))
        except ClientError as exc:
            raise aws_error(exc, f"{what} (listing resources without an owner tag)") from None

    def tagged(self) -> dict[str, dict[str, str]]:
        """ARN -> tags of every function, bucket and log group the tagging API knows here."""
        mappings = self._call("resourcegroupstaggingapi", "tag:GetResources", lambda c: paginate(
            c, "get_resources", "ResourceTagMappingList", "PaginationToken", "PaginationToken",
            ResourceTypeFilters=TAGGED_TYPES))
        return {m["ResourceARN"]: {t["Key"]: t["Value"] for t in m.get("Tags", [])} for m in mappings}

    def resources(self) -> list[Resource]:
        """Every function, bucket (in this region), log group and role of the account, with its tags."""
        tags = self.tagged()
        found: list[Resource] = []
        for f in self._call("lambda", "lambda:ListFunctions", lambda c: paginate(
                c, "list_functions", "Functions", "Marker", "NextMarker")):
            found.append(Resource("lambda function", f["FunctionName"], f["FunctionArn"],
                                  tags.get(f["FunctionArn"], {})))
        for b in self._call("s3", "s3:ListAllMyBuckets", lambda c: paginate(
                c, "list_buckets", "Buckets", "ContinuationToken", "ContinuationToken", BucketRegion=self.region)):
            arn = f"arn:{self.partition}:s3:::{b['Name']}"
            found.append(Resource("s3 bucket", b["Name"], arn, tags.get(arn, {})))
        for g in self._call("logs", "logs:DescribeLogGroups", lambda c: paginate(
                c, "describe_log_groups", "logGroups", "nextToken", "nextToken")):
            arn = g.get("logGroupArn") or str(g.get("arn", "")).removesuffix(":*")
            found.append(Resource("log group", g["logGroupName"], arn, tags.get(arn, {})))
        return found + self.roles()

    def roles(self) -> list[Resource]:
        roles = self._call("iam", "iam:ListRoles", lambda c: paginate(c, "list_roles", "Roles", "Marker", "Marker"))
        found = []
        for r in roles:
            if str(r.get("Path", "/")).startswith(AWS_ROLE_PATHS):
                continue
            listed = self._call("iam", f"iam:ListRoleTags {r['RoleName']}", lambda c, name=r["RoleName"]: paginate(
                c, "list_role_tags", "Tags", "Marker", "Marker", RoleName=name))
            found.append(Resource("iam role", r["RoleName"], r["Arn"], {t["Key"]: t["Value"] for t in listed}))
        return found
