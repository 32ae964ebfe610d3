"""The lake's customer-managed KMS key: one key for S3 objects and Kinesis records, so access to
the data at rest is granted, audited and revoked in one place."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra import iam
from infra.account import Account
from infra.protection import data_options
from infra.settings import Settings


@dataclass(frozen=True)
class LakeKeyArgs:
    name_prefix: str
    alias_name: str  # without the ``alias/`` prefix
    deletion_window_days: int
    protect_data: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> LakeKeyArgs:
        return cls(
            name_prefix=settings.name_prefix,
            alias_name=settings.resource_name("lake"),
            deletion_window_days=settings.kms_deletion_window_days,
            protect_data=settings.protect_data,
        )


class LakeKey(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: LakeKeyArgs, account: Account, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("eventlake:index:LakeKey", name, None, opts)
        self.key = aws.kms.Key(
            name,
            aws.kms.KeyArgs(
                description=f"{args.name_prefix} event lake: S3 objects and Kinesis records",
                enable_key_rotation=True,
                deletion_window_in_days=args.deletion_window_days,
                # AWS's default policy plus EventBridge for the partition registrar's dead-letter queue.
                policy=json.dumps(iam.lake_key_policy(account.root_arn)),
            ),
            # Losing the key loses every object it encrypted: protect it like the bucket.
            opts=data_options(args.protect_data, self),
        )
        self.alias = aws.kms.Alias(
            f"{name}-alias",
            aws.kms.AliasArgs(name=f"alias/{args.alias_name}", target_key_id=self.key.key_id),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn: pulumi.Output[str] = self.key.arn
        self.register_outputs({"arn": self.arn})
