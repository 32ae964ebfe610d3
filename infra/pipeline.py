"""The whole event lake as one component: Kinesis → Firehose (Lambda, dynamic partitioning,
Parquet) → S3, with the Glue table Athena queries, its partitions registered as objects land, and the
stack's Athena workgroup, saved queries and unique-events view; the managed policies producers, readers and
operators attach, and the alarms and dashboard that watch the flow.

Only this module reads ``Settings``: it splits them into each component's narrow args
(``EventLakeArgs``), so a component's signature shows exactly which settings it depends on.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from infra import event_views_spec
from infra.account import Account
from infra.alarm_spec import MonitoringSpec
from infra.analytics import AthenaAnalytics, AthenaAnalyticsArgs
from infra.catalog import Catalog
from infra.catalog_spec import CatalogSpec
from infra.claims_spec import ClaimsTableSpec
from infra.claims_table import ClaimsTable
from infra.compaction_spec import CompactionSpec
from infra.delivery_stream import DeliveryStream, DeliveryStreamArgs
from infra.event_views import EventViews
from infra.event_views_spec import EventViewSpec
from infra.keys import LakeKey, LakeKeyArgs
from infra.lake_bucket import LakeBucket, LakeBucketArgs
from infra.lake_compaction import LakeCompaction
from infra.monitoring import Monitoring
from infra.operator_access import OperatorAccess, OperatorAccessArgs
from infra.partition_registration import PartitionRegistration
from infra.registration_spec import RegistrationSpec
from infra.settings import Settings
from infra.stream import EventStream, EventStreamArgs
from infra.transform_function import TransformFunction, TransformFunctionArgs


@dataclass(frozen=True)
class EventLakeArgs:
    """Every component's args, built from the stack's settings in one place."""

    key: LakeKeyArgs
    stream: EventStreamArgs
    lake: LakeBucketArgs
    catalog: CatalogSpec
    claims: ClaimsTableSpec | None  # None: no claims table (dedupe compaction or off, or processor jq)
    function: TransformFunctionArgs | None  # None: processor jq, Firehose's JQ partitions without a Lambda
    delivery: DeliveryStreamArgs
    registration: RegistrationSpec
    analytics: AthenaAnalyticsArgs
    operators: OperatorAccessArgs
    monitoring: MonitoringSpec
    compaction: CompactionSpec | None  # None: no compaction (compactionEnabled false)
    event_views: tuple[EventViewSpec, ...]  # one typed view per glue/event_types entry

    @classmethod
    def from_settings(cls, settings: Settings) -> EventLakeArgs:
        return cls(
            key=LakeKeyArgs.from_settings(settings),
            stream=EventStreamArgs.from_settings(settings),
            lake=LakeBucketArgs.from_settings(settings),
            catalog=CatalogSpec.from_settings(settings),
            claims=ClaimsTableSpec.from_settings(settings) if settings.uses_claims else None,
            function=TransformFunctionArgs.for_processor(settings),
            delivery=DeliveryStreamArgs.from_settings(settings),
            registration=RegistrationSpec.from_settings(settings),
            analytics=AthenaAnalyticsArgs.from_settings(settings),
            operators=OperatorAccessArgs.from_settings(settings),
            monitoring=MonitoringSpec.from_settings(settings),
            compaction=CompactionSpec.from_settings(settings),
            event_views=event_views_spec.from_settings(settings),
        )


class EventLake(pulumi.ComponentResource):
    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eventlake:index:EventLake", name, None, opts)
        args = EventLakeArgs.from_settings(settings)
        account = Account.current()
        child = pulumi.ResourceOptions(parent=self)

        key = LakeKey(f"{name}-key", args.key, account, opts=child)
        stream = EventStream(f"{name}-stream", args.stream, account, key.arn, opts=child)
        lake = LakeBucket(f"{name}-lake", args.lake, account, key.arn, opts=child)
        catalog = Catalog(f"{name}-catalog", args.catalog, lake.name, opts=child)
        claims = (
            ClaimsTable(f"{name}-claims", args.claims, key.arn, opts=child)
            if args.claims is not None
            else None
        )
        processor = (
            TransformFunction(f"{name}-processor", args.function, claims, key.arn, account, opts=child)
            if args.function is not None
            else None
        )
        delivery = DeliveryStream(
            f"{name}-delivery",
            args.delivery,
            account,
            stream_arn=stream.arn,
            bucket_arn=lake.arn,
            key_arn=key.arn,
            function_arn=processor.arn if processor is not None else None,
            catalog=catalog,
            depends_on=lake.ready,
            opts=child,
        )
        registration = PartitionRegistration(
            f"{name}-registrar",
            args.registration,
            account,
            bucket_name=lake.name,
            key_arn=key.arn,
            catalog=catalog,
            opts=child,
        )
        analytics = AthenaAnalytics(
            f"{name}-athena",
            args.analytics,
            account,
            bucket_name=lake.name,
            bucket_arn=lake.arn,
            key_arn=key.arn,
            catalog=catalog,
            opts=child,
        )
        EventViews(
            f"{name}-typed",
            args.event_views,
            database_name=catalog.database_name,
            unique_events=analytics.view,
            opts=child,
        )
        if args.compaction is not None:
            LakeCompaction(
                f"{name}-compactor",
                args.compaction,
                args.catalog,
                account,
                bucket_name=lake.name,
                bucket_arn=lake.arn,
                key_arn=key.arn,
                catalog=catalog,
                workgroup_name=analytics.workgroup_name,
                workgroup_arn=analytics.workgroup.arn,
                opts=child,
            )
        operators = OperatorAccess(
            f"{name}-operators",
            args.operators,
            account,
            stream_arn=stream.arn,
            bucket_arn=lake.arn,
            claims_table_arn=claims.arn if claims is not None else None,
            key_arn=key.arn,
            opts=child,
        )
        monitoring = Monitoring(f"{name}-monitoring", args.monitoring, account, key_arn=key.arn, opts=child)

        self.stream_name = stream.name
        self.stream_arn = stream.arn
        self.delivery_stream_name = delivery.name
        self.bucket_name = lake.name
        self.glue_database = catalog.database_name
        self.glue_table = catalog.table_name
        # processor jq: no transform Lambda, the output is an empty name.
        self.lambda_name = processor.name if processor is not None else pulumi.Output.from_input("")
        self.registrar_function = registration.name
        self.athena_workgroup = analytics.workgroup_name
        self.athena_analyst_policy_arn = analytics.analyst_policy_arn
        # The policies users attach to their own roles or users, and the key all of them need.
        self.producer_policy_arn = stream.producer_policy_arn
        self.reader_policy_arn = analytics.analyst_policy_arn
        self.operator_policy_arn = operators.arn
        self.lake_key_arn = key.arn
        self.alarm_topic_arn = monitoring.topic_arn
        self.dashboard_name = monitoring.dashboard_name
        self.register_outputs(
            {
                "stream_name": self.stream_name,
                "stream_arn": self.stream_arn,
                "delivery_stream_name": self.delivery_stream_name,
                "bucket_name": self.bucket_name,
                "glue_database": self.glue_database,
                "glue_table": self.glue_table,
                "lambda_name": self.lambda_name,
                "registrar_function": self.registrar_function,
                "athena_workgroup": self.athena_workgroup,
                "athena_analyst_policy_arn": self.athena_analyst_policy_arn,
                "producer_policy_arn": self.producer_policy_arn,
                "reader_policy_arn": self.reader_policy_arn,
                "operator_policy_arn": self.operator_policy_arn,
                "lake_key_arn": self.lake_key_arn,
                "alarm_topic_arn": self.alarm_topic_arn,
                "dashboard_name": self.dashboard_name,
            }
        )
