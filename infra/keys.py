"""The lake's customer-managed KMS key: one key for S3 objects and Kinesis records, so access to
the data at rest is granted, audited and revoked in one place."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra.protection import data_options
from infra.settings import Settings


class LakeKey(pulumi.ComponentResource):
    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eventlake:index:LakeKey", name, None, opts)
        self.key = aws.kms.Key(
            name,
            aws.kms.KeyArgs(
                description=f"{settings.name_prefix} event lake: S3 objects and Kinesis records",
                enable_key_rotation=True,
                deletion_window_in_days=settings.kms_deletion_window_days,
            ),
            # Losing the key loses every object it encrypted: protect it like the bucket.
            opts=data_options(settings, self),
        )
        self.alias = aws.kms.Alias(
            f"{name}-alias",
            aws.kms.AliasArgs(name=f"alias/{settings.resource_name('lake')}", target_key_id=self.key.key_id),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn: pulumi.Output[str] = self.key.arn
        self.register_outputs({"arn": self.arn})
