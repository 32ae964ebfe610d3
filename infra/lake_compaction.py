"""Compaction on AWS: an EventBridge schedule invokes the ``lake_compactor`` Lambda, which rewrites each
closed hour partition into one large Parquet copy with an Athena UNLOAD in the stack's workgroup and switches
the partition to it with one Glue ``UpdatePartition``; the compactor's source table (the events table's
columns, partitions at the original folders) lets that statement read exactly the listed original objects.

Rendered from ``CompactionSpec``. Nothing here deletes data: after a switch the compactor tags what the copy
superseded (originals, older copies), and the lake bucket's lifecycle rules (``infra/lake_bucket.py``, from
``compaction_spec.superseded_expiry_rules``) expire tagged objects after ``compactionExpiryDays``.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from infra import iam
from infra.account import Account
from infra.catalog import Catalog, CatalogSpec, table_args
from infra.compaction_spec import HANDLER, LAMBDA_PACKAGE, CompactionSpec
from infra.stdlib_lambda import args_of, events_may_invoke, stdlib_lambda

TARGET_ID = "lake-compactor"


class LakeCompaction(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        spec: CompactionSpec,
        catalog_spec: CatalogSpec,
        account: Account,
        *,
        bucket_name: pulumi.Input[str],
        bucket_arn: pulumi.Input[str],
        key_arn: pulumi.Input[str],
        catalog: Catalog,
        workgroup_name: pulumi.Input[str],
        workgroup_arn: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("eventlake:index:LakeCompaction", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        # The events table's storage and partition keys under the source table's name.
        self.source_table = aws.glue.CatalogTable(
            f"{name}-source-table",
            table_args(
                catalog_spec,
                name=spec.source_table,
                database_name=catalog.database_name,
                bucket_name=bucket_name,
                description="Objects as Firehose landed them; read only by the compactor",
            ),
            opts=child,
        )
        self.queue = aws.sqs.Queue(
            f"{name}-failed",
            aws.sqs.QueueArgs(
                name=spec.queue_name,
                kms_master_key_id=key_arn,
                message_retention_seconds=spec.dead_letter_retention_seconds,
            ),
            opts=child,
        )
        parts = stdlib_lambda(
            name,
            args_of(
                spec, package=LAMBDA_PACKAGE, handler=HANDLER, reserved_concurrency=spec.reserved_concurrency
            ),
            account,
            parent=self,
            key_arn=key_arn,
            policy=lambda log_group_arn: pulumi.Output.all(
                log_group_arn=log_group_arn,
                workgroup_arn=workgroup_arn,
                glue_database_arn=catalog.database.arn,
                glue_table_arn=catalog.table.arn,
                source_table_arn=self.source_table.arn,
                bucket_arn=bucket_arn,
                key_arn=key_arn,
                failure_queue_arn=self.queue.arn,
            ).apply(
                lambda a: json.dumps(
                    iam.compactor_policy(
                        **a,
                        glue_catalog_arn=account.glue_catalog_arn,
                        data_root=spec.data_root,
                        compacted_root=spec.compacted_root,
                        results_root=spec.results_root,
                        s3_host=account.service_host("s3"),
                        sqs_host=account.service_host("sqs"),
                    )
                )
            ),
            environment=pulumi.Output.all(
                database=catalog.database_name,
                table=catalog.table_name,
                bucket=bucket_name,
                workgroup=workgroup_name,
            ).apply(lambda a: spec.environment(**a)),
        )
        self.log_group, self.role, self.policy = parts.log_group, parts.role, parts.policy
        self.function = parts.function
        # A scheduled run that fails is not retried (the next run takes up every partition it left), but kept:
        # its event goes to the failure queue, whose alarm pages (infra/alarm_spec.py).
        aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-async",
            aws.lambda_.FunctionEventInvokeConfigArgs(
                function_name=self.function.name,
                maximum_retry_attempts=0,
                destination_config=aws.lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
                    on_failure=aws.lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs(
                        destination=self.queue.arn
                    )
                ),
            ),
            # Lambda checks that the function's role may send to the destination.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.policy]),
        )
        self.rule = aws.cloudwatch.EventRule(
            f"{name}-schedule",
            aws.cloudwatch.EventRuleArgs(
                name=spec.rule_name,
                description="Compact the lake's closed partitions",
                schedule_expression=spec.schedule,
            ),
            opts=child,
        )
        queue_policy = aws.sqs.QueuePolicy(
            f"{name}-failed-policy",
            aws.sqs.QueuePolicyArgs(
                queue_url=self.queue.url,
                policy=pulumi.Output.all(self.queue.arn, self.rule.arn).apply(
                    lambda a: json.dumps(iam.dead_letter_queue_policy(a[0], a[1]))
                ),
            ),
            opts=child,
        )
        permission = events_may_invoke(name, self.function, self.rule, parent=self)
        # A schedule EventBridge could not deliver (throttled, no permission) ends in the same queue.
        self.target = aws.cloudwatch.EventTarget(
            f"{name}-target",
            aws.cloudwatch.EventTargetArgs(
                rule=self.rule.name,
                target_id=TARGET_ID,
                arn=self.function.arn,
                dead_letter_config=aws.cloudwatch.EventTargetDeadLetterConfigArgs(arn=self.queue.arn),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permission, queue_policy]),
        )
        self.name: pulumi.Output[str] = self.function.name
        self.register_outputs({"name": self.name, "rule": self.rule.arn})
