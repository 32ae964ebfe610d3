"""The Kinesis stream producers write to; Firehose reads it at ``LATEST`` and keeps nothing the
stream has expired, so its retention is the pipeline's replay window."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.settings import Settings


@dataclass(frozen=True)
class EventStreamArgs:
    name: str
    mode: str  # ON_DEMAND or PROVISIONED
    shard_count: int  # PROVISIONED only
    retention_hours: int

    @classmethod
    def from_settings(cls, settings: Settings) -> EventStreamArgs:
        return cls(
            name=settings.stream_name,
            mode=settings.stream_mode,
            shard_count=settings.stream_shard_count,
            retention_hours=settings.stream_retention_hours,
        )

    @property
    def provisioned(self) -> bool:
        return self.mode == "PROVISIONED"


class EventStream(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        args: EventStreamArgs,
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
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.name: pulumi.Output[str] = self.stream.name
        self.arn: pulumi.Output[str] = self.stream.arn
        self.register_outputs({"name": self.name, "arn": self.arn})
