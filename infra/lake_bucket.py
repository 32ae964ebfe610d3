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

from aws_contract import limits
from glue import schema
from infra import iam
from infra.account import Account
from infra.athena_spec import RESULTS_ROOT
from infra.compaction_spec import compaction_lifecycle_rules
from infra.protection import data_options, renamed_from
from infra.settings import Settings, reads, settings_args

ABORT_MULTIPART_DAYS = 7
GLACIER_IR = "GLACIER_IR"  # S3's storage class name for Glacier Instant Retrieval


@dataclass(frozen=True)
class LakeBucketArgs:
    name_base: str  # the bucket's name before the account and region
    protect_data: bool = reads("protect_data")
    error_retention_days: int = reads("error_retention_days")
    backup_retention_days: int = reads("backup_retention_days")
    # raw/ objects to S3 Glacier Instant Retrieval after this many days; 0: never
    backup_archive_days: int = reads("backup_archive_days")
    noncurrent_version_days: int = reads("noncurrent_version_days")
    results_retention_days: int = reads("athena_results_retention_days")
    # What compaction superseded (tagged by the compactor) expires after this many days; 0: kept.
    superseded_expiry_days: int = reads("compaction_expiry_days")
    compacts: bool = reads("compacts")  # the compactor runs (its batches' staging folder expires)
    # S3 server access logs of the lake bucket into a bucket of their own (kept this many days); "" none.
    access_log_bucket_base: str
    access_log_retention_days: int = reads("access_log_retention_days")

    @classmethod
    def from_settings(cls, settings: Settings) -> LakeBucketArgs:
        return settings_args(
            cls,
            settings,
            name_base=settings.resource_name("lake"),
            access_log_bucket_base=settings.resource_name("logs") if settings.access_logging else "",
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
        self.access_logs = (
            AccessLogBucket(args.access_log_bucket_base, args, account, lake=self.bucket, opts=child)
            if args.access_log_bucket_base
            else None
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
        *([archive_backup_rule(args.backup_archive_days)] if args.backup_archive_days else []),
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
        *(
            pulumi_lifecycle_rule(r)
            for r in compaction_lifecycle_rules(
                args.compacts, args.superseded_expiry_days, args.noncurrent_version_days
            )
        ),
    ]


def archive_backup_rule(days: int) -> aws.s3.BucketLifecycleConfigurationRuleArgs:
    """``raw/`` objects to S3 Glacier Instant Retrieval ``days`` after they were written
    (``backupArchiveDays``): the backup is read only to replay, and Instant Retrieval serves a GET in
    milliseconds like Standard at a fifth of its storage price (plus $0.03 a GB read). Only objects above its
    128 KB minimum billable size move (smaller ones would be billed as 128 KB and pay a transition request
    each); the expiry rule still removes every ``raw/`` object after ``backupRetentionDays`` (within Instant
    Retrieval's 90-day minimum an object is billed the rest: ``eventlake sizing`` prices that)."""
    return aws.s3.BucketLifecycleConfigurationRuleArgs(
        id="archive-raw-backup",
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(
            and_=aws.s3.BucketLifecycleConfigurationRuleFilterAndArgs(
                prefix=schema.BACKUP_ROOT, object_size_greater_than=limits.S3_GLACIER_IR_MIN_BILLABLE_BYTES
            )
        ),
        transitions=[
            aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(days=days, storage_class=GLACIER_IR)
        ],
    )


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


# Server access logs: the log bucket's default encryption must be SSE-S3, not the lake key. AWS: "You can use
# default bucket encryption on the target bucket only if you use server-side encryption with Amazon S3
# managed keys (SSE-S3) ... Default server-side encryption with AWS Key Management Service (AWS KMS) keys
# (SSE-KMS) is not supported" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/
# enable-server-access-logging.html, which also rules out Object Lock and a default retention on it).
# Delivery is granted by a bucket policy to logging.s3.amazonaws.com, not ACLs (object ownership enforced).
ACCESS_LOG_ENCRYPTION = "AES256"
# One folder per logged bucket, logs by the day the request was made (Athena can partition on it).
ACCESS_LOG_DATE_SOURCE = "EventTime"


def access_log_prefix(bucket_name: str) -> str:
    return f"{bucket_name}/"


class AccessLogBucket(pulumi.ComponentResource):
    """Every request to the lake bucket (who, what, which key, the answer), for an audit of who read, tagged
    or deleted what: S3 server access logs, into a bucket of their own that is private, encrypted, versioned,
    expiring logs after ``accessLogRetentionDays``, and that only S3's logging service may write to, and only
    for the lake bucket of this account. Server access logs, not CloudTrail data events: AWS bills only their
    storage (README, Who may write and read)."""

    def __init__(
        self,
        name: str,
        args: LakeBucketArgs,
        account: Account,
        *,
        lake: aws.s3.Bucket,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("eventlake:index:AccessLogBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = aws.s3.Bucket(
            name,
            aws.s3.BucketArgs(
                bucket=f"{args.access_log_bucket_base}-{account.account_id}-{account.region}",
                force_destroy=not args.protect_data,
            ),
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
                            sse_algorithm=ACCESS_LOG_ENCRYPTION
                        ),
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
            f"{name}-policy",
            aws.s3.BucketPolicyArgs(
                bucket=bucket_id,
                policy=pulumi.Output.all(self.bucket.arn, lake.arn, lake.bucket).apply(
                    lambda a: json.dumps(
                        iam.access_log_bucket_policy(
                            log_bucket_arn=a[0],
                            source_bucket_arn=a[1],
                            prefix=access_log_prefix(a[2]),
                            account_id=account.account_id,
                        )
                    )
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access]),
        )
        rule = aws.s3.BucketLifecycleConfigurationRuleArgs
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            aws.s3.BucketLifecycleConfigurationArgs(
                bucket=bucket_id,
                rules=[
                    rule(
                        id="expire-access-logs",
                        status="Enabled",
                        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(),
                        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                            days=args.access_log_retention_days
                        ),
                        noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                            noncurrent_days=args.noncurrent_version_days
                        ),
                        abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                            days_after_initiation=ABORT_MULTIPART_DAYS
                        ),
                    )
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )
        # Logging starts once S3 may deliver there, and the logs are private and encrypted.
        self.logging = aws.s3.BucketLogging(
            f"{name}-logging",
            aws.s3.BucketLoggingInitArgs(
                bucket=lake.id,
                target_bucket=bucket_id,
                target_prefix=lake.bucket.apply(access_log_prefix),
                target_object_key_format=aws.s3.BucketLoggingTargetObjectKeyFormatArgs(
                    partitioned_prefix=aws.s3.BucketLoggingTargetObjectKeyFormatPartitionedPrefixArgs(
                        partition_date_source=ACCESS_LOG_DATE_SOURCE
                    )
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy, ownership, encryption, versioning]),
        )
        self.name: pulumi.Output[str] = self.bucket.bucket
        self.arn: pulumi.Output[str] = self.bucket.arn
        self.register_outputs({"name": self.name, "arn": self.arn})
