"""The lake's customer-managed KMS key: one key for S3 objects, Kinesis records, the claims table, the
registrar's failure queue, the log groups and the alarm topic, so access to the data at rest is granted,
audited and revoked in one place.

Its policy (``iam.lake_key_policy``) names exactly who may use it. Everything it names is known from the
stack's settings before anything exists (role, log group, stream and alarm ARNs are built from their names),
so the key, created first, already admits what is created after it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra import iam
from infra.account import Account
from infra.alarm_spec import MonitoringSpec
from infra.compaction_spec import CompactionSpec, compaction_log_groups
from infra.delivery_spec import DeliverySpec
from infra.log_groups import firehose_log_group, lambda_log_group
from infra.protection import data_options
from infra.registration_spec import RegistrationSpec
from infra.settings import Settings, reads, settings_args


@dataclass(frozen=True)
class LakeKeyArgs:
    name_prefix: str = reads("name_prefix")
    alias_name: str  # without the ``alias/`` prefix
    deletion_window_days: int = reads("kms_deletion_window_days")
    protect_data: bool = reads("protect_data")
    stream_name: str = reads("stream_name")
    # Roles are named after what assumes them: the delivery stream and the registrar function.
    firehose_role_name: str
    registrar_role_name: str
    log_group_names: tuple[str, ...]
    alarm_names: tuple[str, ...]
    claims_table: bool = reads("uses_claims")
    # The rules whose dead-letter queues the key encrypts (the registrar's, the compactor's schedule), and
    # the compactor's role (its failed runs' queue); None without compaction.
    dead_letter_rule_names: tuple[str, ...] = ()
    compactor_role_name: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> LakeKeyArgs:
        delivery = DeliverySpec.from_settings(settings).delivery_stream_name
        registration = RegistrationSpec.from_settings(settings)
        registrar = registration.function_name
        compaction = CompactionSpec.from_settings(settings)
        return settings_args(
            cls,
            settings,
            alias_name=settings.resource_name("lake"),
            firehose_role_name=delivery,
            registrar_role_name=registrar,
            log_group_names=(
                firehose_log_group(delivery),
                lambda_log_group(settings.function_name),
                lambda_log_group(registrar),
                *compaction_log_groups(settings),
            ),
            alarm_names=MonitoringSpec.from_settings(settings).alarm_names,
            dead_letter_rule_names=(registration.rule_name, *([compaction.rule_name] if compaction else [])),
            compactor_role_name=compaction.function_name if compaction else None,
        )

    def policy(self, account: Account) -> iam.Policy:
        return iam.lake_key_policy(
            account_id=account.account_id,
            account_root_arn=account.root_arn,
            firehose_role_arn=account.role_arn(self.firehose_role_name),
            registrar_role_arn=account.role_arn(self.registrar_role_name),
            stream_arn=account.kinesis_stream_arn(self.stream_name),
            log_group_arns=[account.log_group_arn(name) for name in self.log_group_names],
            alarm_arns=[account.alarm_arn(name) for name in self.alarm_names],
            claims_table=self.claims_table,
            dead_letter_rule_arns=[account.event_rule_arn(name) for name in self.dead_letter_rule_names],
            compactor_role_arn=account.role_arn(self.compactor_role_name)
            if self.compactor_role_name
            else None,
            hosts=iam.KeyServiceHosts(
                s3=account.service_host("s3"),
                kinesis=account.service_host("kinesis"),
                sqs=account.service_host("sqs"),
                dynamodb=account.service_host("dynamodb"),
                logs=account.service_host("logs"),
            ),
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
                policy=json.dumps(args.policy(account)),
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
