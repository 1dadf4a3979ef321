"""AWS calls the sandbox guardrails make in the sandbox account: its cost budget (AWS Budgets, a global
API answered in us-east-1), the caller role's permissions boundary (IAM GetRole), and the deploy
lock (an S3 conditional write in the sandbox bucket)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from pipeline.aws.errors import error_code, http_status
from pipeline.aws.sandbox import aws_error
from pipeline.aws.session import AccountSession
from pipeline.core.sandbox_guard import BudgetSpec, notification_key

BUDGETS_REGION = "us-east-1"


class LockTaken(Exception):
    """The lock object already exists (the conditional put lost)."""


class GuardAWS:
    def __init__(self, session: AccountSession, account: str, region: str) -> None:
        self.session = session
        self.account = account
        self.region = region

    # -- the budget -------------------------------------------------------------------------
    def _budgets(self) -> Any:
        return self.session.client("budgets", BUDGETS_REGION)

    def budget(self, name: str) -> dict[str, Any] | None:
        try:
            return dict(self._budgets().describe_budget(AccountId=self.account, BudgetName=name)["Budget"])
        except ClientError as exc:
            if error_code(exc) in ("NotFoundException", "NotFound"):
                return None
            raise aws_error(exc, f"budget {name}") from None

    def notifications(self, name: str) -> list[dict[str, Any]]:
        try:
            resp = self._budgets().describe_notifications_for_budget(AccountId=self.account, BudgetName=name)
        except ClientError as exc:
            raise aws_error(exc, f"budget {name}: describe_notifications_for_budget") from None
        return list(resp.get("Notifications", []))

    def create_budget(self, spec: BudgetSpec, tags: dict[str, str]) -> None:
        """The budget with all its notifications in one call (tags where the API takes them)."""
        subscribers = spec.subscribers()
        params: dict[str, Any] = {
            "AccountId": self.account, "Budget": spec.budget(),
            "NotificationsWithSubscribers": [{"Notification": n, "Subscribers": subscribers}
                                             for n in spec.notifications()],
            "ResourceTags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())],
        }
        try:
            self._budgets().create_budget(**params)
        except ClientError as exc:
            raise aws_error(exc, f"budget {spec.name}: create_budget") from None

    def add_missing_notifications(self, spec: BudgetSpec, found: list[dict[str, Any]]) -> int:
        have = {notification_key(n) for n in found}
        added = 0
        for n in spec.notifications():
            if notification_key(n) in have:
                continue
            try:
                self._budgets().create_notification(AccountId=self.account, BudgetName=spec.name, Notification=n,
                                                    Subscribers=spec.subscribers())
            except ClientError as exc:
                raise aws_error(exc, f"budget {spec.name}: create_notification") from None
            added += 1
        return added

    def delete_budget(self, name: str) -> bool:
        try:
            self._budgets().delete_budget(AccountId=self.account, BudgetName=name)
        except ClientError as exc:
            if error_code(exc) in ("NotFoundException", "NotFound"):
                return False
            raise aws_error(exc, f"budget {name}: delete_budget") from None
        return True

    # -- the caller's boundary --------------------------------------------------------------
    def role(self, role: str) -> dict[str, Any] | None:
        """`role` as GetRole answers it (its Arn with path, its boundary); None when IAM refuses to say."""
        try:
            return dict(self.session.client("iam", self.region).get_role(RoleName=role)["Role"])
        except ClientError as exc:
            if error_code(exc) in ("AccessDenied", "AccessDeniedException", "NoSuchEntity"):
                return None
            raise aws_error(exc, f"role {role}: get_role") from None

    def put_boundary(self, name: str, document: str) -> str:
        """Create the managed policy, or make `document` its default version (oldest spare dropped at 5)."""
        iam = self.session.client("iam", self.region)
        arn = f"arn:aws:iam::{self.account}:policy/{name}"
        try:
            try:
                policy = iam.get_policy(PolicyArn=arn)["Policy"]
            except ClientError as exc:
                if error_code(exc) != "NoSuchEntity":
                    raise
                iam.create_policy(PolicyName=name, PolicyDocument=document,
                                  Description="permissions boundary of sandbox developers' roles (pipeline)")
                return f"created {arn}"
            current = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]
            found = current["Document"]
            found = json.loads(unquote(found)) if isinstance(found, str) else found
            if json.dumps(found, sort_keys=True) == document:
                return f"{arn} unchanged"
            versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
            spare = sorted((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
            if len(versions) >= 5 and spare:
                iam.delete_policy_version(PolicyArn=arn, VersionId=spare[0]["VersionId"])
            iam.create_policy_version(PolicyArn=arn, PolicyDocument=document, SetAsDefault=True)
        except ClientError as exc:
            raise aws_error(exc, f"policy {arn}") from None
        return f"updated {arn}"

    # -- the deploy lock --------------------------------------------------------------------
    def put_lock(self, bucket: str, key: str, body: bytes) -> None:
        """Create the lock object only if none exists (If-None-Match: *)."""
        try:
            self.session.client("s3", self.region).put_object(Bucket=bucket, Key=key, Body=body, IfNoneMatch="*",
                                                              ContentType="application/json")
        except ClientError as exc:
            # 412 only: a 409 ConditionalRequestConflict (retried by the client already) wrote nothing
            # and does not mean someone holds the lock
            if http_status(exc) == 412 or error_code(exc) == "PreconditionFailed":
                raise LockTaken() from None
            raise aws_error(exc, f"s3://{bucket}/{key}") from None

    def read_lock(self, bucket: str, key: str) -> tuple[dict[str, Any], str] | None:
        """(its JSON, its ETag), or None when there is no lock."""
        try:
            resp = self.session.client("s3", self.region).get_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if http_status(exc) == 404:
                return None
            raise aws_error(exc, f"s3://{bucket}/{key}") from None
        try:
            body = json.loads(resp["Body"].read())
        except ValueError:
            body = {}
        return (body if isinstance(body, dict) else {}), str(resp.get("ETag", ""))

    def delete_lock(self, bucket: str, key: str) -> None:
        try:
            self.session.client("s3", self.region).delete_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if http_status(exc) != 404:
                raise aws_error(exc, f"s3://{bucket}/{key}") from None
