"""The Kinesis stream producers write to; Firehose reads it at ``LATEST`` and keeps nothing the
stream has expired, so its retention is the pipeline's replay window. With it, the managed policy a
producer's own role or user attaches to write to it."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra import iam
from infra.account import Account
from infra.protection import data_options
from infra.settings import Settings, reads, settings_args


@dataclass(frozen=True)
class EventStreamArgs:
    name: str = reads("stream_name")
    mode: str = reads("stream_mode")  # ON_DEMAND or PROVISIONED
    shard_count: int = reads("stream_shard_count")  # PROVISIONED only
    retention_hours: int = reads("stream_retention_hours")
    # Records not yet read are data: protected and retained like the bucket.
    protect_data: bool = reads("protect_data")
    producer_policy_name: str

    @classmethod
    def from_settings(cls, settings: Settings) -> EventStreamArgs:
        return settings_args(cls, settings, producer_policy_name=settings.resource_name("producers"))

    @property
    def provisioned(self) -> bool:
        return self.mode == "PROVISIONED"


class EventStream(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        args: EventStreamArgs,
        account: Account,
        key_arn: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("eventlake:index:EventStream", name, None, opts)
        self.stream = aws.kinesis.Stream(
            name,
            aws.kinesis.StreamArgs(
                name=args.name,
                stream_mode_details=aws.kinesis.StreamStreamModeDetailsArgs(stream_mode=args.mode),
                # On-demand streams reject a shard count.
                shard_count=args.shard_count if args.provisioned else None,
                retention_period=args.retention_hours,
                encryption_type="KMS",
                kms_key_id=key_arn,
            ),
            opts=data_options(args.protect_data, self),
        )
        self.producer_policy = aws.iam.Policy(
            f"{name}-producer-policy",
            aws.iam.PolicyArgs(
                name=args.producer_policy_name,
                description=f"Put records to the {args.name} Kinesis stream (encrypted with the lake key)",
                policy=pulumi.Output.all(self.stream.arn, key_arn).apply(
                    lambda a: json.dumps(
                        iam.producer_policy(
                            stream_arn=a[0], key_arn=a[1], kinesis_host=account.service_host("kinesis")
                        )
                    )
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.name: pulumi.Output[str] = self.stream.name
        self.arn: pulumi.Output[str] = self.stream.arn
        self.producer_policy_arn: pulumi.Output[str] = self.producer_policy.arn
        self.register_outputs(
            {"name": self.name, "arn": self.arn, "producer_policy": self.producer_policy_arn}
        )
