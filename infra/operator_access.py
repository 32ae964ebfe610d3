"""The operator policy: a managed policy an operator's own role or user attaches to run ``eventlake
reprocess`` (``iam.operator_policy``): put records back on the stream, read, rewrite, archive and delete
error objects, read the raw backup and, with dedupe, release claims in the claims table."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from glue import schema
from infra import iam
from infra.account import Account
from infra.processors import processor_for
from infra.settings import Settings


@dataclass(frozen=True)
class OperatorAccessArgs:
    policy_name: str
    error_root: str
    backup_root: str
    archive_root: str
    table_prefixes: tuple[str, ...]  # the table's partition folders, read to leave stored records unsent

    @classmethod
    def from_settings(cls, settings: Settings) -> OperatorAccessArgs:
        return cls(
            policy_name=settings.resource_name("operators"),
            error_root=schema.ERROR_ROOT,
            backup_root=schema.BACKUP_ROOT,
            archive_root=schema.ERROR_ARCHIVE_ROOT,
            table_prefixes=processor_for(settings).table_prefixes,
        )


class OperatorAccess(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        args: OperatorAccessArgs,
        account: Account,
        *,
        stream_arn: pulumi.Input[str],
        bucket_arn: pulumi.Input[str],
        claims_table_arn: pulumi.Input[str] | None,
        key_arn: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("eventlake:index:OperatorAccess", name, None, opts)
        self.policy = aws.iam.Policy(
            f"{name}-operator-policy",
            aws.iam.PolicyArgs(
                name=args.policy_name,
                description="Reprocess the lake's error objects (eventlake reprocess)",
                policy=pulumi.Output.all(
                    stream_arn=stream_arn,
                    bucket_arn=bucket_arn,
                    claims_table_arn=claims_table_arn,
                    key_arn=key_arn,
                ).apply(
                    lambda a: json.dumps(
                        iam.operator_policy(
                            stream_arn=a["stream_arn"],
                            bucket_arn=a["bucket_arn"],
                            error_root=args.error_root,
                            backup_root=args.backup_root,
                            archive_root=args.archive_root,
                            claims_table_arn=a["claims_table_arn"],
                            key_arn=a["key_arn"],
                            s3_host=account.service_host("s3"),
                            kinesis_host=account.service_host("kinesis"),
                            dynamodb_host=account.service_host("dynamodb"),
                            table_prefixes=args.table_prefixes,
                        )
                    )
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn: pulumi.Output[str] = self.policy.arn
        self.register_outputs({"arn": self.arn})
