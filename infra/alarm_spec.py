"""What the stack watches, as plain data: every CloudWatch metric an alarm or the dashboard reads, each with
the AWS page that documents its name, namespace and dimensions; the alarms, with thresholds from the stack's
settings; and the dashboard's body. ``infra/monitoring.py`` renders them. No Pulumi here.

Records routed to the error prefixes: Firehose publishes no count per error prefix, and an S3 object count per
prefix is not a CloudWatch metric, so each prefix is watched through the metrics that do exist:

- ``processing-failed``: the transform's own ``RecordsRejected`` share (records it returns as
  ``ProcessingFailed``), and Firehose's ``ExecuteProcessing.Success`` with Lambda ``Errors`` (failed
  invocations, whose whole batch goes there once the processor's retries are spent);
- ``format-conversion-failed``: Firehose's ``FailedConversion.Records``;
- ``activePartitionExceeded``: ``PartitionCountExceeded``, and ``PartitionCount`` against
  ``ActivePartitionsLimit`` before the limit is reached;
- ``partitioning-failed``: AWS documents no metric that counts these records. The transform gives every
  record it returns ``Ok`` its partition keys, so a record that could lack one is rejected (and counted)
  by it instead.

With ``processor: jq`` there is no transform, no claims table and no format conversion: their alarms and
dashboard lines would watch resources that do not exist, so only the stream, Firehose's delivery and
partitions, and the registrar are watched, and the dashboard shows Firehose's ``JQProcessing.Duration`` in the
transform's place. Records whose query fails go to ``partitioning-failed``, which no metric counts (above):
``eventlake check`` and the prefix itself are the way to see them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from glue import compactor_contract
from glue.errors import DIMENSION_FUNCTION, DIMENSION_REASON, METRIC_NAMESPACE, Metric, Reject
from infra.compaction_spec import CompactionSpec
from infra.delivery_spec import DeliverySpec
from infra.processors import processor_for
from infra.registration_spec import RegistrationSpec
from infra.settings import RESERVED_MAIL_DOMAINS, Settings, placeholder_email, reads, settings_args

__all__ = ["RESERVED_MAIL_DOMAINS", "MonitoringSpec", "placeholder_email"]

# --- the documented metrics ------------------------------------------------------------------------------
FIREHOSE_DOC = "https://docs.aws.amazon.com/firehose/latest/dev/monitoring-with-cloudwatch-metrics.html"
KINESIS_DOC = "https://docs.aws.amazon.com/streams/latest/dev/monitoring-with-cloudwatch.html"
LAMBDA_DOC = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html"
DYNAMODB_DOC = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html"
SQS_DOC = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html"
# Rules on the default bus publish with the RuleName dimension alone.
EVENTS_DOC = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html"
# The transform's own counts: names and dimensions in glue/errors.py, published in its log lines with the
# embedded metric format.
EVENTLAKE_DOC = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html"

FIREHOSE_NAMESPACE = "AWS/Firehose"
KINESIS_NAMESPACE = "AWS/Kinesis"
LAMBDA_NAMESPACE = "AWS/Lambda"
DYNAMODB_NAMESPACE = "AWS/DynamoDB"
SQS_NAMESPACE = "AWS/SQS"
EVENTS_NAMESPACE = "AWS/Events"
QUEUE_DIMENSION = "QueueName"
RULE_DIMENSION = "RuleName"
DELIVERY_STREAM_DIMENSION = "DeliveryStreamName"
STREAM_DIMENSION = "StreamName"
FUNCTION_DIMENSION = "FunctionName"
TABLE_DIMENSION = "TableName"


@dataclass(frozen=True)
class MetricName:
    """A metric as AWS (or the transform) publishes it: namespace, name, dimension set read, and source."""

    namespace: str
    name: str
    dimensions: tuple[str, ...]
    doc: str


def _firehose(name: str) -> MetricName:
    return MetricName(FIREHOSE_NAMESPACE, name, (DELIVERY_STREAM_DIMENSION,), FIREHOSE_DOC)


def _kinesis(name: str) -> MetricName:
    """Stream-level (basic) metrics: dimension ``StreamName``."""
    return MetricName(KINESIS_NAMESPACE, name, (STREAM_DIMENSION,), KINESIS_DOC)


def _lambda(name: str) -> MetricName:
    return MetricName(LAMBDA_NAMESPACE, name, (FUNCTION_DIMENSION,), LAMBDA_DOC)


def _dynamodb(name: str) -> MetricName:
    """Table-level: ``TableName`` alone counts the table, not its indexes (the claims table has none)."""
    return MetricName(DYNAMODB_NAMESPACE, name, (TABLE_DIMENSION,), DYNAMODB_DOC)


def _queue(name: str) -> MetricName:
    return MetricName(SQS_NAMESPACE, name, (QUEUE_DIMENSION,), SQS_DOC)


def _rule(name: str) -> MetricName:
    return MetricName(EVENTS_NAMESPACE, name, (RULE_DIMENSION,), EVENTS_DOC)


def _compactor(name: str) -> MetricName:
    """The compactor's own per-run metrics (``lake_compactor.compaction_handler.run_line``)."""
    return MetricName(METRIC_NAMESPACE, name, (DIMENSION_FUNCTION,), EVENTLAKE_DOC)


def _eventlake(metric: Metric, *extra: str) -> MetricName:
    return MetricName(METRIC_NAMESPACE, metric.value, (DIMENSION_FUNCTION, *extra), EVENTLAKE_DOC)


# Firehose: delivery to S3, the Lambda processor, format conversion, dynamic partitioning, the Kinesis source.
DATA_FRESHNESS = _firehose("DeliveryToS3.DataFreshness")
DELIVERY_SUCCESS = _firehose("DeliveryToS3.Success")
DELIVERED_RECORDS = _firehose("DeliveryToS3.Records")
PROCESSING_SUCCESS = _firehose("ExecuteProcessing.Success")
PROCESSED_RECORDS = _firehose("SucceedProcessing.Records")
CONVERTED_RECORDS = _firehose("SucceedConversion.Records")
FAILED_CONVERSION_RECORDS = _firehose("FailedConversion.Records")
PARTITION_COUNT = _firehose("PartitionCount")
PARTITION_COUNT_EXCEEDED = _firehose("PartitionCountExceeded")
ACTIVE_PARTITIONS_LIMIT = _firehose("ActivePartitionsLimit")
READ_FROM_STREAM_RECORDS = _firehose("DataReadFromKinesisStream.Records")
# processor jq: "the amount of time it took to run the JQ expression", in milliseconds (dynamic partitioning
# metrics of FIREHOSE_DOC).
JQ_PROCESSING_DURATION = _firehose("JQProcessing.Duration")
# Kinesis Data Streams.
INCOMING_RECORDS = _kinesis("IncomingRecords")
ITERATOR_AGE = _kinesis("GetRecords.IteratorAgeMilliseconds")
WRITE_THROTTLED = _kinesis("WriteProvisionedThroughputExceeded")
# Lambda.
LAMBDA_ERRORS = _lambda("Errors")
LAMBDA_THROTTLES = _lambda("Throttles")
LAMBDA_DURATION = _lambda("Duration")
# DynamoDB: the claims table's throttled writes (PartiQL INSERTs, PutItem) and reads (BatchGetItem).
WRITE_THROTTLE_EVENTS = _dynamodb("WriteThrottleEvents")
READ_THROTTLE_EVENTS = _dynamodb("ReadThrottleEvents")
# The transform's own counts, per batch.
RECORDS = _eventlake(Metric.RECORDS)
RECORDS_OK = _eventlake(Metric.RECORDS_OK)
RECORDS_REJECTED = _eventlake(Metric.RECORDS_REJECTED)
RECORDS_REJECTED_BY_REASON = _eventlake(Metric.RECORDS_REJECTED_BY_REASON, DIMENSION_REASON)
DUPLICATES = _eventlake(Metric.DUPLICATES)
REUSED_IDS = _eventlake(Metric.REUSED_IDS)
NOT_CHECKED = _eventlake(Metric.NOT_CHECKED)
# The failure queues (messages a rule or a function could not hand on) and the rules' given-up invocations.
QUEUE_VISIBLE = _queue("ApproximateNumberOfMessagesVisible")
RULE_FAILED_INVOCATIONS = _rule("FailedInvocations")
# What a compaction run tagged for expiry.
COMPACTION_TAGGED = _compactor(compactor_contract.METRIC_TAGGED)
COMPACTION_TAGS_OUTSIDE_MANIFESTS = _compactor(compactor_contract.METRIC_TAGS_OUTSIDE_MANIFESTS)
COMPACTION_PARTITION_TAGGED = _compactor(compactor_contract.METRIC_PARTITION_TAGGED_PERCENT)

METRICS: tuple[MetricName, ...] = (
    DATA_FRESHNESS,
    DELIVERY_SUCCESS,
    DELIVERED_RECORDS,
    PROCESSING_SUCCESS,
    PROCESSED_RECORDS,
    CONVERTED_RECORDS,
    FAILED_CONVERSION_RECORDS,
    PARTITION_COUNT,
    PARTITION_COUNT_EXCEEDED,
    ACTIVE_PARTITIONS_LIMIT,
    READ_FROM_STREAM_RECORDS,
    JQ_PROCESSING_DURATION,
    INCOMING_RECORDS,
    ITERATOR_AGE,
    WRITE_THROTTLED,
    LAMBDA_ERRORS,
    LAMBDA_THROTTLES,
    LAMBDA_DURATION,
    WRITE_THROTTLE_EVENTS,
    READ_THROTTLE_EVENTS,
    RECORDS,
    RECORDS_OK,
    RECORDS_REJECTED,
    RECORDS_REJECTED_BY_REASON,
    DUPLICATES,
    REUSED_IDS,
    NOT_CHECKED,
    QUEUE_VISIBLE,
    RULE_FAILED_INVOCATIONS,
    COMPACTION_TAGGED,
    COMPACTION_TAGS_OUTSIDE_MANIFESTS,
    COMPACTION_PARTITION_TAGGED,
)

# --- alarms ----------------------------------------------------------------------------------------------
SUM, AVERAGE, MAXIMUM = "Sum", "Average", "Maximum"
GREATER = "GreaterThanThreshold"
GREATER_OR_EQUAL = "GreaterThanOrEqualToThreshold"
LESS = "LessThanThreshold"
# No data (nothing flowing, or a feature that emitted nothing) is not a failure.
NOT_BREACHING = "notBreaching"
# Firehose, Kinesis, Lambda and DynamoDB publish per minute; five minutes smooths single retries away.
PERIOD_S = 300
# Firehose retries S3 puts and moves on only when they succeed, so "small drops in the average ... don't
# indicate data loss" (FIREHOSE_DOC): the delivery alarm wants failures in every period of a quarter hour.
SUSTAINED_PERIODS = 3
MS_PER_S = 1000
PERCENT = 100


@dataclass(frozen=True)
class MetricStat:
    metric: MetricName
    dimensions: tuple[tuple[str, str], ...]  # (dimension, value) in the metric's dimension order
    statistic: str

    def __post_init__(self) -> None:
        if tuple(name for name, _ in self.dimensions) != self.metric.dimensions:
            raise ValueError(f"{self.metric.name} is published with dimensions {self.metric.dimensions}")

    @property
    def dimension_map(self) -> dict[str, str]:
        return dict(self.dimensions)


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm: a single metric (``metric``) or a metric-math ``expression`` over named ``inputs``."""

    name: str
    description: str
    comparison: str
    threshold: float
    metric: MetricStat | None = None
    expression: str | None = None
    inputs: tuple[tuple[str, MetricStat], ...] = ()
    period_seconds: int = PERIOD_S
    evaluation_periods: int = 1
    datapoints_to_alarm: int = 1
    treat_missing_data: str = NOT_BREACHING

    def __post_init__(self) -> None:
        if (self.metric is None) == (self.expression is None):
            raise ValueError(f"alarm {self.name}: give a metric or an expression, not both")

    @property
    def metrics(self) -> tuple[MetricStat, ...]:
        return (self.metric,) if self.metric is not None else tuple(stat for _, stat in self.inputs)


@dataclass(frozen=True)
class MonitoringSpec:
    name_prefix: str = reads("name_prefix")
    topic_name: str
    email: str | None
    dashboard_name: str
    stream_name: str = reads("stream_name")
    delivery_stream_name: str
    function_name: str | None  # None with processor jq: no transform Lambda
    registrar_function_name: str
    claims_table_name: str | None  # None without dedupe (or without the Lambda)
    alarms: tuple[AlarmSpec, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> MonitoringSpec:
        delivery = DeliverySpec.from_settings(settings).delivery_stream_name
        registrar = RegistrationSpec.from_settings(settings).function_name
        transform = processor_for(settings).function_name(settings)
        claims = settings.claims_table_name if settings.uses_claims and transform is not None else None
        names = _Resources(settings.stream_name, delivery, transform, registrar, claims)
        registration = RegistrationSpec.from_settings(settings)
        failures = _Failures(
            registration.rule_name, registration.queue_name, CompactionSpec.from_settings(settings)
        )
        return settings_args(
            cls,
            settings,
            topic_name=settings.resource_name("alarms"),
            email=settings.alarm_email or None,
            dashboard_name=settings.resource_name("flow"),
            delivery_stream_name=delivery,
            function_name=transform,
            registrar_function_name=registrar,
            claims_table_name=claims,
            alarms=(*_alarms(settings, names), *_failure_alarms(settings, failures)),
        )

    @property
    def alarm_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.alarms)

    def dashboard_body(self, region: str, alarm_arns: Sequence[str]) -> dict[str, Any]:
        return _dashboard(self, region, alarm_arns)


@dataclass(frozen=True)
class _Resources:
    stream: str
    delivery: str
    function: str | None  # the transform; None with processor jq
    registrar: str
    claims: str | None

    def delivery_stat(self, metric: MetricName, statistic: str) -> MetricStat:
        return MetricStat(metric, ((DELIVERY_STREAM_DIMENSION, self.delivery),), statistic)

    def stream_stat(self, metric: MetricName, statistic: str) -> MetricStat:
        return MetricStat(metric, ((STREAM_DIMENSION, self.stream),), statistic)

    def function_stat(self, metric: MetricName, statistic: str, function: str | None = None) -> MetricStat:
        name = function or self.function
        assert name is not None, "no transform Lambda with processor jq"
        return MetricStat(metric, ((FUNCTION_DIMENSION, name),), statistic)

    def transform_stat(self, metric: MetricName, statistic: str, reason: str | None = None) -> MetricStat:
        assert self.function is not None, "no transform Lambda with processor jq"
        dimensions: tuple[tuple[str, str], ...] = ((DIMENSION_FUNCTION, self.function),)
        if reason is not None:
            dimensions += ((DIMENSION_REASON, reason),)
        return MetricStat(metric, dimensions, statistic)

    def table_stat(self, metric: MetricName, statistic: str) -> MetricStat:
        assert self.claims is not None
        return MetricStat(metric, ((TABLE_DIMENSION, self.claims),), statistic)


@dataclass(frozen=True)
class _Failures:
    """The rules and failure queues of the registrar and (when compaction is on) the compactor."""

    registrar_rule: str
    registrar_queue: str
    compaction: CompactionSpec | None


def _failure_alarms(settings: Settings, f: _Failures) -> tuple[AlarmSpec, ...]:
    """A message in a failure queue, or an invocation a rule gave up on, is a failure nobody else will see;
    with compaction, a run that tagged outside its manifests or most of a partition (README's runbook)."""

    def queue(slug: str, what: str, name: str) -> AlarmSpec:
        return AlarmSpec(
            settings.resource_name(slug),
            f"{what} is waiting in {name} (retries spent): see README, When things go wrong",
            GREATER,
            0,
            metric=MetricStat(QUEUE_VISIBLE, ((QUEUE_DIMENSION, name),), MAXIMUM),
        )

    def rule(slug: str, what: str, name: str) -> AlarmSpec:
        return AlarmSpec(
            settings.resource_name(slug),
            f"EventBridge gave up invoking {what} (rule {name})",
            GREATER,
            0,
            metric=MetricStat(RULE_FAILED_INVOCATIONS, ((RULE_DIMENSION, name),), SUM),
        )

    alarms = [
        queue(
            "registrar-failed-events", "An object event the registrar could not register", f.registrar_queue
        ),
        rule("registrar-rule-failed", "the partition registrar", f.registrar_rule),
    ]
    c = f.compaction
    if c is not None:
        run = ((DIMENSION_FUNCTION, c.function_name),)
        alarms += [
            queue("compactor-failed-runs", "A compaction run that failed", c.queue_name),
            rule("compaction-schedule-failed", "the compactor", c.rule_name),
            AlarmSpec(
                settings.resource_name("compaction-tags-outside-manifests"),
                "A compaction run tried to tag (expire) objects no manifest of its own names: refused, "
                "the run failed",
                GREATER,
                0,
                metric=MetricStat(COMPACTION_TAGS_OUTSIDE_MANIFESTS, run, SUM),
            ),
            AlarmSpec(
                settings.resource_name("compaction-partition-tagged"),
                f"A compaction run tagged {settings.alarm_compaction_tagged_percent} % or more of one "
                "partition's objects for expiry",
                GREATER_OR_EQUAL,
                settings.alarm_compaction_tagged_percent,
                metric=MetricStat(COMPACTION_PARTITION_TAGGED, run, MAXIMUM),
            ),
        ]
    return tuple(alarms)


def _alarms(settings: Settings, r: _Resources) -> tuple[AlarmSpec, ...]:
    """Every alarm, in one order for both modes; the transform's, its conversion's and the claims table's
    only where they exist (``processor: lambda``)."""

    def name(slug: str) -> str:
        return settings.resource_name(slug)

    transform = r.function is not None
    duration_ms = settings.lambda_timeout_seconds * MS_PER_S * settings.alarm_duration_percent / PERCENT
    alarms = [
        AlarmSpec(
            name("delivery-freshness"),
            "Records wait too long before reaching S3 (Firehose behind, or S3 delivery failing)",
            GREATER,
            settings.freshness_alarm_seconds,
            metric=r.delivery_stat(DATA_FRESHNESS, MAXIMUM),
        ),
        AlarmSpec(
            name("delivery-success"),
            "S3 puts by Firehose keep failing (retried until they succeed or the retry window ends)",
            LESS,
            1,
            metric=r.delivery_stat(DELIVERY_SUCCESS, AVERAGE),
            evaluation_periods=SUSTAINED_PERIODS,
            datapoints_to_alarm=SUSTAINED_PERIODS,
        ),
        *(
            [
                AlarmSpec(
                    name("processing-success"),
                    "Transform invocations failed; after the processor's retries the batch goes to "
                    "processing-failed",
                    LESS,
                    1,
                    metric=r.delivery_stat(PROCESSING_SUCCESS, AVERAGE),
                ),
                AlarmSpec(
                    name("format-conversion-failed"),
                    "Records failed Parquet conversion and went to the format-conversion-failed prefix",
                    GREATER,
                    0,
                    metric=r.delivery_stat(FAILED_CONVERSION_RECORDS, SUM),
                ),
            ]
            if transform
            else []
        ),
        AlarmSpec(
            name("partition-count-exceeded"),
            "Active partitions over the limit: records go to the activePartitionExceeded prefix",
            GREATER_OR_EQUAL,
            1,
            metric=r.delivery_stat(PARTITION_COUNT_EXCEEDED, MAXIMUM),
        ),
        AlarmSpec(
            name("partition-headroom"),
            "Active partitions near the stream's active-partition limit",
            GREATER,
            settings.alarm_partition_percent,
            expression=f"{PERCENT} * partitions / limit",
            inputs=(
                ("partitions", r.delivery_stat(PARTITION_COUNT, MAXIMUM)),
                ("limit", r.delivery_stat(ACTIVE_PARTITIONS_LIMIT, MAXIMUM)),
            ),
        ),
        AlarmSpec(
            name("stream-iterator-age"),
            "Firehose reads the stream far behind its newest record (records expire after the retention)",
            GREATER,
            settings.alarm_iterator_age_seconds * MS_PER_S,
            metric=r.stream_stat(ITERATOR_AGE, MAXIMUM),
        ),
        AlarmSpec(
            name("stream-write-throttled"),
            "Producers' records were throttled by the stream (provisioned throughput exceeded)",
            GREATER,
            0,
            metric=r.stream_stat(WRITE_THROTTLED, SUM),
        ),
        *(
            [
                AlarmSpec(
                    name("transform-errors"),
                    "Transform invocations failed",
                    GREATER,
                    0,
                    metric=r.function_stat(LAMBDA_ERRORS, SUM),
                ),
                AlarmSpec(
                    name("transform-throttles"),
                    "Transform invocations were throttled",
                    GREATER,
                    0,
                    metric=r.function_stat(LAMBDA_THROTTLES, SUM),
                ),
                AlarmSpec(
                    name("transform-duration"),
                    f"A transform invocation took over {settings.alarm_duration_percent} % of its timeout",
                    GREATER,
                    duration_ms,
                    metric=r.function_stat(LAMBDA_DURATION, MAXIMUM),
                ),
            ]
            if transform
            else []
        ),
        AlarmSpec(
            name("registrar-errors"),
            "Partition registrations failed (retried, then kept in the registrar's failure queue)",
            GREATER,
            0,
            metric=r.function_stat(LAMBDA_ERRORS, SUM, r.registrar),
        ),
        *(
            [
                AlarmSpec(
                    name("transform-rejected"),
                    "The transform rejected more than the allowed share of records (to the processing-failed "
                    "prefix)",
                    GREATER,
                    settings.alarm_rejected_percent,
                    expression=f"{PERCENT} * rejected / records",
                    inputs=(
                        ("rejected", r.transform_stat(RECORDS_REJECTED, SUM)),
                        ("records", r.transform_stat(RECORDS, SUM)),
                    ),
                ),
            ]
            if transform
            else []
        ),
    ]
    if r.claims is not None:
        alarms += [
            AlarmSpec(
                name("dedupe-not-checked"),
                "Rows were delivered unchecked for duplicates (claims table unavailable)",
                GREATER,
                0,
                metric=r.transform_stat(NOT_CHECKED, SUM),
            ),
            AlarmSpec(
                name("claims-write-throttled"),
                "The claims table throttled writes",
                GREATER,
                0,
                metric=r.table_stat(WRITE_THROTTLE_EVENTS, SUM),
            ),
            AlarmSpec(
                name("claims-read-throttled"),
                "The claims table throttled reads",
                GREATER,
                0,
                metric=r.table_stat(READ_THROTTLE_EVENTS, SUM),
            ),
        ]
    return tuple(alarms)


# --- the dashboard ---------------------------------------------------------------------------------------
WIDGET_WIDTH = 12
WIDGET_HEIGHT = 6
DASHBOARD_COLUMNS = 24


def _dashboard(spec: MonitoringSpec, region: str, alarm_arns: Sequence[str]) -> dict[str, Any]:
    """The flow from stream to lake, left to right and top to bottom (``_lambda_graphs``, or with processor
    jq ``_query_graphs``), then every alarm's state."""
    r = _Resources(
        spec.stream_name,
        spec.delivery_stream_name,
        spec.function_name,
        spec.registrar_function_name,
        spec.claims_table_name,
    )
    graphs = _lambda_graphs(r) if r.function is not None else _query_graphs(r)
    widgets: list[dict[str, Any]] = []
    for index, (title, lines) in enumerate(graphs):
        widgets.append(
            {
                "type": "metric",
                **_position(index),
                "properties": {
                    "title": title,
                    "region": region,
                    "view": "timeSeries",
                    "stacked": False,
                    "period": PERIOD_S,
                    "metrics": [_metric_line(stat, label, axis) for stat, label, axis in lines],
                },
            }
        )
    widgets.append(
        {
            "type": "alarm",
            **_position(len(graphs)),
            "properties": {"title": "Alarms", "alarms": list(alarm_arns)},
        }
    )
    return {"widgets": widgets}


Graph = tuple[str, list[tuple[MetricStat, str, str]]]  # title, (metric, label, axis) per line


def _lambda_graphs(r: _Resources) -> list[Graph]:
    """processor lambda: in, processed, rejected by reason, delivered, freshness, errors, partitions, the
    transform's duration, dedupe health."""
    return [
        (
            "1 In: records put to the stream, read by Firehose",
            [
                (r.stream_stat(INCOMING_RECORDS, SUM), "put to the stream", "left"),
                (r.delivery_stat(READ_FROM_STREAM_RECORDS, SUM), "read by Firehose", "left"),
            ],
        ),
        (
            "2 Processed by the transform",
            [
                (r.transform_stat(RECORDS, SUM), "records", "left"),
                (r.transform_stat(RECORDS_OK, SUM), "ok", "left"),
                (r.transform_stat(RECORDS_REJECTED, SUM), "rejected", "left"),
                (r.delivery_stat(PROCESSED_RECORDS, SUM), "returned to Firehose", "left"),
            ],
        ),
        (
            "3 Rejected, by reason (processing-failed prefix)",
            [
                (r.transform_stat(RECORDS_REJECTED_BY_REASON, SUM, reason.value), reason.value, "left")
                for reason in Reject
            ],
        ),
        (
            "4 Delivered to the lake",
            [
                (r.delivery_stat(DELIVERED_RECORDS, SUM), "delivered to S3", "left"),
                (r.delivery_stat(CONVERTED_RECORDS, SUM), "converted to Parquet", "left"),
                (r.delivery_stat(FAILED_CONVERSION_RECORDS, SUM), "format-conversion-failed", "left"),
            ],
        ),
        _freshness_graph(r, 5),
        (
            "6 Errors by type",
            [
                (r.function_stat(LAMBDA_ERRORS, SUM), "transform errors", "left"),
                (r.function_stat(LAMBDA_THROTTLES, SUM), "transform throttles", "left"),
                *_common_errors(r),
                (r.delivery_stat(PROCESSING_SUCCESS, AVERAGE), "processing success (ratio)", "right"),
                (r.delivery_stat(DELIVERY_SUCCESS, AVERAGE), "S3 delivery success (ratio)", "right"),
            ],
        ),
        _partitions_graph(r, 7),
        (
            "8 Transform duration (ms)",
            [(r.function_stat(LAMBDA_DURATION, MAXIMUM), "longest invocation", "left")],
        ),
        (
            "9 Dedupe health",
            [
                (r.transform_stat(DUPLICATES, SUM), "duplicates", "left"),
                (r.transform_stat(REUSED_IDS, SUM), "reused ids", "left"),
                (r.transform_stat(NOT_CHECKED, SUM), "not checked", "left"),
                *(
                    [
                        (r.table_stat(WRITE_THROTTLE_EVENTS, SUM), "claims writes throttled", "right"),
                        (r.table_stat(READ_THROTTLE_EVENTS, SUM), "claims reads throttled", "right"),
                    ]
                    if r.claims is not None
                    else []
                ),
            ],
        ),
    ]


def _query_graphs(r: _Resources) -> list[Graph]:
    """processor jq: in, partitioned by Firehose's JQ, delivered, freshness, errors, partitions. No transform,
    no conversion, no dedupe: nothing of theirs is drawn."""
    return [
        (
            "1 In: records put to the stream, read by Firehose",
            [
                (r.stream_stat(INCOMING_RECORDS, SUM), "put to the stream", "left"),
                (r.delivery_stat(READ_FROM_STREAM_RECORDS, SUM), "read by Firehose", "left"),
            ],
        ),
        (
            "2 Partitioned by Firehose's JQ query (ms)",
            [
                (r.delivery_stat(JQ_PROCESSING_DURATION, MAXIMUM), "longest JQ run", "left"),
                (r.delivery_stat(JQ_PROCESSING_DURATION, AVERAGE), "average JQ run", "left"),
            ],
        ),
        (
            "3 Delivered to the lake (as sent, GZIP)",
            [(r.delivery_stat(DELIVERED_RECORDS, SUM), "delivered to S3", "left")],
        ),
        _freshness_graph(r, 4),
        (
            "5 Errors by type",
            [
                *_common_errors(r),
                (r.delivery_stat(DELIVERY_SUCCESS, AVERAGE), "S3 delivery success (ratio)", "right"),
            ],
        ),
        _partitions_graph(r, 6),
    ]


def _freshness_graph(r: _Resources, number: int) -> Graph:
    return (
        f"{number} Freshness: oldest undelivered record (s), stream read lag (ms)",
        [
            (r.delivery_stat(DATA_FRESHNESS, MAXIMUM), "delivery freshness (s)", "left"),
            (r.stream_stat(ITERATOR_AGE, MAXIMUM), "iterator age (ms)", "right"),
        ],
    )


def _common_errors(r: _Resources) -> list[tuple[MetricStat, str, str]]:
    return [
        (r.function_stat(LAMBDA_ERRORS, SUM, r.registrar), "registrar errors", "left"),
        (r.stream_stat(WRITE_THROTTLED, SUM), "stream write throttled", "left"),
        (r.delivery_stat(PARTITION_COUNT_EXCEEDED, MAXIMUM), "partition limit exceeded", "left"),
    ]


def _partitions_graph(r: _Resources, number: int) -> Graph:
    return (
        f"{number} Active partitions and their limit",
        [
            (r.delivery_stat(PARTITION_COUNT, MAXIMUM), "active partitions", "left"),
            (r.delivery_stat(ACTIVE_PARTITIONS_LIMIT, MAXIMUM), "limit", "left"),
        ],
    )


def _position(index: int) -> dict[str, int]:
    per_row = DASHBOARD_COLUMNS // WIDGET_WIDTH
    return {
        "x": (index % per_row) * WIDGET_WIDTH,
        "y": (index // per_row) * WIDGET_HEIGHT,
        "width": WIDGET_WIDTH,
        "height": WIDGET_HEIGHT,
    }


def _metric_line(stat: MetricStat, label: str, axis: str) -> list[Any]:
    """``[namespace, name, dimension, value, ..., {options}]``: the dashboard body's metric array."""
    dimensions = [part for pair in stat.dimensions for part in pair]
    options: dict[str, Any] = {"stat": stat.statistic, "label": label}
    if axis != "left":
        options["yAxis"] = axis
    return [stat.metric.namespace, stat.metric.name, *dimensions, options]


def metric_stats(spec: Mapping[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    """Read a dashboard body back: ``(namespace, name, dimensions)`` of each metric line (for the tests)."""
    found = []
    for widget in spec["widgets"]:
        for line in widget.get("properties", {}).get("metrics", []):
            *parts, _options = line
            namespace, name, *dims = parts
            found.append((namespace, name, dict(zip(dims[::2], dims[1::2], strict=True))))
    return found
