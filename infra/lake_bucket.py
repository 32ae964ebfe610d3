"""The lake bucket: private, TLS 1.2 or later only, SSE-KMS with the lake key only (and a bucket key),
versioned, expiring what is only kept for diagnosis or a while (error records, raw backups, Athena results,
old versions, what compaction superseded), and telling EventBridge of every object it stores (what registers
new partitions)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from glue import schema
from infra import iam
from infra.account import Account
from infra.athena_spec import RESULTS_ROOT
from infra.compaction_spec import superseded_expiry_rules
from infra.protection import data_options, renamed_from
from infra.settings import Settings

ABORT_MULTIPART_DAYS = 7


@dataclass(frozen=True)
class LakeBucketArgs:
    name_base: str  # the bucket's name before the account and region
    protect_data: bool
    error_retention_days: int
    backup_retention_days: int
    noncurrent_version_days: int
    results_retention_days: int
    superseded_expiry_days: int  # what compaction superseded (tagged by the compactor); 0: kept

    @classmethod
    def from_settings(cls, settings: Settings) -> LakeBucketArgs:
        return cls(
            name_base=settings.resource_name("lake"),
            protect_data=settings.protect_data,
            error_retention_days=settings.error_retention_days,
            backup_retention_days=settings.backup_retention_days,
            noncurrent_version_days=settings.noncurrent_version_days,
            results_retention_days=settings.athena_results_retention_days,
            superseded_expiry_days=settings.compaction_expiry_days,
        )

    def bucket_name(self, account: Account) -> str:
        """Bucket names are global: the account and region make the stack's name unique."""
        return f"{self.name_base}-{account.account_id}-{account.region}"


def bucket_name(settings: Settings, account: Account) -> str:
    """The stack's bucket name in ``account`` (what the embedded AWS creates, too)."""
    return LakeBucketArgs.from_settings(settings).bucket_name(account)


class LakeBucket(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        args: LakeBucketArgs,
        account: Account,
        key_arn: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("eventlake:index:LakeBucket", name, None, renamed_from("eventlake:index:Lake", opts))
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = aws.s3.Bucket(
            name,
            aws.s3.BucketArgs(bucket=args.bucket_name(account), force_destroy=not args.protect_data),
            opts=data_options(args.protect_data, self),
        )
        bucket_id = self.bucket.id
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            aws.s3.BucketPublicAccessBlockArgs(
                bucket=bucket_id,
                block_public_acls=True,
                block_public_policy=True,
                ignore_public_acls=True,
                restrict_public_buckets=True,
            ),
            opts=child,
        )
        ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            aws.s3.BucketOwnershipControlsArgs(
                bucket=bucket_id,
                rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            ),
            opts=child,
        )
        encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            aws.s3.BucketServerSideEncryptionConfigurationInitArgs(
                bucket=bucket_id,
                rules=[
                    aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                        apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                            sse_algorithm="aws:kms", kms_master_key_id=key_arn
                        ),
                        # One data key per bucket instead of per object: far fewer KMS calls.
                        bucket_key_enabled=True,
                    )
                ],
            ),
            opts=child,
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            aws.s3.BucketVersioningInitArgs(
                bucket=bucket_id,
                versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            ),
            opts=child,
        )
        policy = aws.s3.BucketPolicy(
            f"{name}-tls-only",
            aws.s3.BucketPolicyArgs(
                bucket=bucket_id,
                policy=pulumi.Output.all(self.bucket.arn, key_arn).apply(
                    lambda a: json.dumps(iam.lake_bucket_policy(a[0], a[1]))
                ),
            ),
            # A policy put before the public access block exists can race with it.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access]),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            aws.s3.BucketLifecycleConfigurationArgs(bucket=bucket_id, rules=lifecycle_rules(args)),
            # Noncurrent-version rules only mean something once versioning is on.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )
        # Every object event goes to EventBridge, where rules pick what they need (partition registration).
        # This is the bucket's one notification configuration: S3 keeps a single one per bucket.
        self.notifications = aws.s3.BucketNotification(
            f"{name}-eventbridge",
            aws.s3.BucketNotificationArgs(bucket=bucket_id, eventbridge=True),
            opts=child,
        )
        # Firehose must not write before objects are encrypted and the bucket locked down.
        self.ready: list[pulumi.Resource] = [public_access, ownership, encryption, versioning, policy]
        self.name: pulumi.Output[str] = self.bucket.bucket
        self.arn: pulumi.Output[str] = self.bucket.arn
        self.register_outputs({"name": self.name, "arn": self.arn})


def lifecycle_rules(args: LakeBucketArgs) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    rule = aws.s3.BucketLifecycleConfigurationRuleArgs
    prefix = aws.s3.BucketLifecycleConfigurationRuleFilterArgs
    expire = aws.s3.BucketLifecycleConfigurationRuleExpirationArgs
    return [
        rule(
            id="expire-errors",
            status="Enabled",
            filter=prefix(prefix=schema.ERROR_ROOT),
            expiration=expire(days=args.error_retention_days),
        ),
        rule(
            # What `eventlake reprocess` archived after re-sending it: kept as long as errors are, for audit.
            id="expire-errors-archive",
            status="Enabled",
            filter=prefix(prefix=schema.ERROR_ARCHIVE_ROOT),
            expiration=expire(days=args.error_retention_days),
        ),
        rule(
            id="expire-raw-backup",
            status="Enabled",
            filter=prefix(prefix=schema.BACKUP_ROOT),
            expiration=expire(days=args.backup_retention_days),
        ),
        rule(
            id="expire-athena-results",
            status="Enabled",
            filter=prefix(prefix=RESULTS_ROOT),
            expiration=expire(days=args.results_retention_days),
        ),
        rule(
            id="expire-noncurrent-versions",
            status="Enabled",
            filter=prefix(),
            noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=args.noncurrent_version_days
            ),
        ),
        rule(
            id="abort-incomplete-uploads",
            status="Enabled",
            filter=prefix(),
            abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=ABORT_MULTIPART_DAYS
            ),
        ),
        *(pulumi_lifecycle_rule(r) for r in superseded_expiry_rules(args.superseded_expiry_days)),
    ]


def pulumi_lifecycle_rule(rule: dict[str, Any]) -> aws.s3.BucketLifecycleConfigurationRuleArgs:
    """An S3 API ``LifecycleRule`` (the shape the local runner puts on the embedded bucket) as pulumi-aws
    args; only the elements this project's rules use, anything else is refused rather than dropped."""
    known = {"ID", "Status", "Filter", "Expiration", "NoncurrentVersionExpiration"}
    if set(rule) - known:
        raise ValueError(f"lifecycle rule elements not rendered: {sorted(set(rule) - known)}")
    spec = rule["Filter"]
    if "And" in spec:
        both = spec["And"]
        tags = {t["Key"]: t["Value"] for t in both.get("Tags", [])}
        filter_args = aws.s3.BucketLifecycleConfigurationRuleFilterArgs(
            and_=aws.s3.BucketLifecycleConfigurationRuleFilterAndArgs(prefix=both.get("Prefix"), tags=tags)
        )
    else:
        filter_args = aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=spec.get("Prefix"))
    expiration = rule.get("Expiration")
    noncurrent = rule.get("NoncurrentVersionExpiration")
    return aws.s3.BucketLifecycleConfigurationRuleArgs(
        id=rule["ID"],
        status=rule["Status"],
        filter=filter_args,
        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
            days=expiration.get("Days"),
            expired_object_delete_marker=expiration.get("ExpiredObjectDeleteMarker"),
        )
        if expiration
        else None,
        noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
            noncurrent_days=noncurrent["NoncurrentDays"]
        )
        if noncurrent
        else None,
    )
