"""Where the stack deploys: account, region and partition, looked up once and shared by every ARN."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi_aws as aws


@dataclass(frozen=True)
class Account:
    account_id: str
    region: str
    partition: str
    dns_suffix: str

    @classmethod
    def current(cls) -> Account:
        partition = aws.get_partition()
        return cls(
            account_id=aws.get_caller_identity().account_id,
            region=aws.get_region().region,
            partition=partition.partition,
            dns_suffix=partition.dns_suffix,
        )

    def service_host(self, service: str) -> str:
        """``s3.eu-west-1.amazonaws.com``: the value ``kms:ViaService`` compares against."""
        return f"{service}.{self.region}.{self.dns_suffix}"

    @property
    def glue_catalog_arn(self) -> str:
        return f"arn:{self.partition}:glue:{self.region}:{self.account_id}:catalog"

    @property
    def root_arn(self) -> str:
        """The account as a principal: in a key policy, "this account's IAM policies decide"."""
        return f"arn:{self.partition}:iam::{self.account_id}:root"

    def role_arn(self, role_name: str) -> str:
        """IAM is global: no region in the ARN."""
        return f"arn:{self.partition}:iam::{self.account_id}:role/{role_name}"

    def bucket_arn(self, bucket: str) -> str:
        """S3 bucket names are global: neither region nor account in the ARN."""
        return f"arn:{self.partition}:s3:::{bucket}"

    def lambda_function_arn(self, function_name: str) -> str:
        return f"arn:{self.partition}:lambda:{self.region}:{self.account_id}:function:{function_name}"

    def _regional(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account_id}:{resource}"

    def kinesis_stream_arn(self, stream_name: str) -> str:
        return self._regional("kinesis", f"stream/{stream_name}")

    def firehose_stream_arn(self, delivery_stream_name: str) -> str:
        """Known before the delivery stream exists: what its role's trust policy names (no cycle)."""
        return self._regional("firehose", f"deliverystream/{delivery_stream_name}")

    def log_group_arn(self, log_group_name: str) -> str:
        """Without the ``:*`` suffix: the value of ``kms:EncryptionContext:aws:logs:arn``."""
        return self._regional("logs", f"log-group:{log_group_name}")

    def alarm_arn(self, alarm_name: str) -> str:
        return self._regional("cloudwatch", f"alarm:{alarm_name}")

    def event_rule_arn(self, rule_name: str) -> str:
        """A rule on the account's default event bus."""
        return self._regional("events", f"rule/{rule_name}")
