"""The Kinesis stream producers write to; Firehose reads it at ``LATEST`` and keeps nothing the
stream has expired, so its retention is the pipeline's replay window."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra.settings import Settings


class EventStream(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        settings: Settings,
        key_arn: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("eventlake:index:EventStream", name, None, opts)
        provisioned = settings.stream_mode == "PROVISIONED"
        self.stream = aws.kinesis.Stream(
            name,
            aws.kinesis.StreamArgs(
                name=settings.stream_name,
                stream_mode_details=aws.kinesis.StreamStreamModeDetailsArgs(stream_mode=settings.stream_mode),
                # On-demand streams reject a shard count.
                shard_count=settings.stream_shard_count if provisioned else None,
                retention_period=settings.stream_retention_hours,
                encryption_type="KMS",
                kms_key_id=key_arn,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.name: pulumi.Output[str] = self.stream.name
        self.arn: pulumi.Output[str] = self.stream.arn
        self.register_outputs({"name": self.name, "arn": self.arn})
