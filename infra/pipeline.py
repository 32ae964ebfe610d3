"""The whole event lake as one component: Kinesis → Firehose (Lambda, dynamic partitioning,
Parquet) → S3, with the Glue table Athena queries."""

from __future__ import annotations

import pulumi

from infra.account import Account
from infra.catalog import Catalog
from infra.claims_table import ClaimsTable
from infra.delivery_stream import DeliveryStream
from infra.keys import LakeKey
from infra.lake_bucket import LakeBucket
from infra.settings import Settings
from infra.stream import EventStream
from infra.transform_function import TransformFunction


class EventLake(pulumi.ComponentResource):
    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eventlake:index:EventLake", name, None, opts)
        account = Account.current()
        child = pulumi.ResourceOptions(parent=self)

        key = LakeKey(f"{name}-key", settings, opts=child)
        stream = EventStream(f"{name}-stream", settings, key.arn, opts=child)
        lake = LakeBucket(f"{name}-lake", settings, account, key.arn, opts=child)
        catalog = Catalog(f"{name}-catalog", settings, lake.name, opts=child)
        claims = ClaimsTable(f"{name}-claims", settings, opts=child) if settings.dedupe_enabled else None
        processor = TransformFunction(f"{name}-processor", settings, claims, opts=child)
        delivery = DeliveryStream(
            f"{name}-delivery",
            settings,
            account,
            stream_arn=stream.arn,
            bucket_arn=lake.arn,
            key_arn=key.arn,
            function_arn=processor.arn,
            catalog=catalog,
            depends_on=lake.ready,
            opts=child,
        )

        self.stream_name = stream.name
        self.stream_arn = stream.arn
        self.delivery_stream_name = delivery.name
        self.bucket_name = lake.name
        self.glue_database = catalog.database_name
        self.glue_table = catalog.table_name
        self.lambda_name = processor.name
        self.register_outputs(
            {
                "stream_name": self.stream_name,
                "stream_arn": self.stream_arn,
                "delivery_stream_name": self.delivery_stream_name,
                "bucket_name": self.bucket_name,
                "glue_database": self.glue_database,
                "glue_table": self.glue_table,
                "lambda_name": self.lambda_name,
            }
        )
