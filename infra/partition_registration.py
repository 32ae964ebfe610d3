"""Partition registration: an EventBridge rule on the lake bucket's ``Object Created`` events under the data
prefix invokes the ``partition_registrar`` Lambda, which adds the object's partition to the Glue table, so
Athena sees new data within seconds of Firehose writing it (no crawler, no ``MSCK REPAIR TABLE``).

Events that cannot be delivered (EventBridge's retries) or processed (Lambda's asynchronous retries) end in
one SQS queue, encrypted with the lake key, for inspection and replay. Rendered from ``RegistrationSpec``.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from infra import iam
from infra.account import Account
from infra.catalog import Catalog
from infra.registration_spec import ENV_DATABASE, ENV_TABLE, HANDLER, LAMBDA_PACKAGE, RegistrationSpec
from infra.stdlib_lambda import args_of, events_may_invoke, stdlib_lambda

TARGET_ID = "partition-registrar"


class PartitionRegistration(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        spec: RegistrationSpec,
        account: Account,
        *,
        bucket_name: pulumi.Input[str],
        key_arn: pulumi.Input[str],
        catalog: Catalog,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("eventlake:index:PartitionRegistration", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

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
            args_of(spec, package=LAMBDA_PACKAGE, handler=HANDLER),
            account,
            parent=self,
            key_arn=key_arn,
            policy=lambda log_group_arn: pulumi.Output.all(
                log_group_arn=log_group_arn,
                glue_database_arn=catalog.database.arn,
                glue_table_arn=catalog.table.arn,
                failure_queue_arn=self.queue.arn,
                key_arn=key_arn,
            ).apply(
                lambda a: json.dumps(
                    iam.registrar_policy(
                        **a, glue_catalog_arn=account.glue_catalog_arn, sqs_host=account.service_host("sqs")
                    )
                )
            ),
            environment={ENV_DATABASE: catalog.database_name, ENV_TABLE: catalog.table_name},
        )
        self.log_group, self.role, self.policy = parts.log_group, parts.role, parts.policy
        self.function = parts.function
        # EventBridge invokes asynchronously: a failed invocation is Lambda's to retry, then to hand on.
        aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-async",
            aws.lambda_.FunctionEventInvokeConfigArgs(
                function_name=self.function.name,
                maximum_retry_attempts=spec.invocation_retry_attempts,
                maximum_event_age_in_seconds=spec.invocation_max_event_age_seconds,
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
            f"{name}-rule",
            aws.cloudwatch.EventRuleArgs(
                name=spec.rule_name,
                description=f"Register the partition of each object created under {spec.data_root}",
                event_pattern=pulumi.Output.from_input(bucket_name).apply(
                    lambda bucket: json.dumps(spec.event_pattern(bucket))
                ),
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
        self.target = aws.cloudwatch.EventTarget(
            f"{name}-target",
            aws.cloudwatch.EventTargetArgs(
                rule=self.rule.name,
                target_id=TARGET_ID,
                arn=self.function.arn,
                retry_policy=aws.cloudwatch.EventTargetRetryPolicyArgs(
                    maximum_retry_attempts=spec.delivery_retry_attempts,
                    maximum_event_age_in_seconds=spec.delivery_max_event_age_seconds,
                ),
                dead_letter_config=aws.cloudwatch.EventTargetDeadLetterConfigArgs(arn=self.queue.arn),
            ),
            # Events matched before the function may be invoked, or the queue written, would be lost.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permission, queue_policy]),
        )
        self.name: pulumi.Output[str] = self.function.name
        self.arn: pulumi.Output[str] = self.function.arn
        self.register_outputs({"name": self.name, "arn": self.arn, "rule": self.rule.arn})
