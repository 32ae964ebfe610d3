"""What a load needs from AWS and what it costs a month: the model behind ``eventlake sizing``, for the
stack's ``processor`` (with ``jq`` no transform, no claims, no Parquet conversion: JQ processing hours and the
records as sent, GZIP, instead).

A load (events per hour, their size, the number of event types, how late events arrive, the dedupe mode of
``glue.marks``, the Region) is turned into Kinesis shards (by both of a shard's write limits), Firehose active
partitions and S3 objects (each partition's buffer flushes when it reaches ``bufferingSizeMib`` or
``bufferingIntervalSeconds`` after its first record), Lambda invocations and concurrency, claims-table write
units (``claims`` only; on demand, or provisioned with the bounds of ``infra.claims_spec``), the compactor's
runs (every stack that compacts: its Athena scans, its Lambda, its S3 requests), and one cost line per
billed item from a price table kept in ``infra/prices/``. Each dedupe mode is priced on the same load, and
the plan says which it recommends and why. Every AWS limit comes from ``aws_contract.limits``;
every limit the load crosses is reported with the stack key that changes it, and the stack settings that carry
the load (``recommended``) are what the sized stack files (``Pulumi.small|prod|huge.yaml``) must hold.

Model (stated, so a reader can check it): records arrive as a Poisson flow, spread evenly over the event
types; an event's delay is uniform over ``late_spread_hours`` (0: every event lands in the hour it arrives),
so at each moment of the hour a type's events fall into the current hour and the ``late_spread_hours`` before
it. A partition receiving ``r`` records/s opens a buffer at its first record and delivers it ``T =
min(interval, size / (r x bytes per record))`` later, so it is active ``rT / (1 + rT)`` of the time and writes
``1 / (T + 1/r)`` objects per second holding ``1 + rT`` records each (Firehose's own definition: "if the
dynamic partitioning query constructs 3 partitions per second and ... delivery every 60 seconds, ... on
average you would have 180 active partitions"). The hour is cut into ``TIME_STEPS`` slices and averaged; the
peak is the largest slice.
"""

from __future__ import annotations

from infra.capacity.active_partitions import (
    backup_objects_per_hour,
    buffered_per_raw_byte,
    invocations_per_second,
    partition_flows,
    processor_batch_seconds,
    processor_buffer_mb,
    share_in_hour,
)
from infra.capacity.calibration import (
    AS_SENT_BYTES_PER_RAW_BYTE,
    ATHENA_BYTES_PER_TB,
    ATHENA_GETS_PER_OBJECT,
    ATHENA_MIN_SCAN_BYTES,
    ATHENA_PUTS,
    BACKUP_BYTES_PER_RAW_BYTE,
    BILLING_GB,
    CLAIM_ITEM_BYTES,
    CLAIM_SECONDS_PER_RECORD,
    COMPACTOR_CALL_SECONDS,
    COPY_OBJECTS,
    FALLBACK_PRICE_REGION,
    HOURS_PER_DAY,
    HOURS_PER_MONTH,
    JQ_SECONDS_PER_RECORD,
    KMS_REQUESTS_PER_CLIENT_HOUR,
    LOG_BYTES_PER_INVOCATION,
    MARKS_SECONDS_PER_RECORD,
    PARQUET_BYTES_PER_RAW_BYTE,
    PARQUET_OBJECT_OVERHEAD_BYTES,
    PARTITION_KEY_BYTES,
    PREVIOUS_COPY_OBJECTS,
    PRICES_DIR,
    PROVISIONED_TARGET_USE,
    REGISTRAR_LOG_BYTES,
    REGISTRAR_SECONDS_PER_OBJECT,
    SHARD_UTILIZATION,
    STATEMENT_GETS,
    STATEMENT_GLUE_CALLS,
    STATEMENT_PUTS,
    TIME_STEPS,
    TRANSFORM_SECONDS_PER_RECORD,
    TRANSFORMED_BYTES_PER_RAW_BYTE,
    UNLOAD_BYTES_PER_SECOND,
    UNLOAD_SECONDS,
)
from infra.capacity.claims_units import claims_costs, provisioned_units
from infra.capacity.compactor_runs import arrived_by, compaction_costs, compaction_flow, runs_per_hour
from infra.capacity.firehose_billing import firehose_costs
from infra.capacity.lambda_compute import lambda_costs
from infra.capacity.limits_crossed import crossed_limits, on_demand_max_bytes
from infra.capacity.plan_model import (
    CapacityPlan,
    CompactionFlow,
    CostLine,
    CrossedLimit,
    Load,
    PartitionFlow,
    PriceError,
    PriceTable,
    cost_line,
    dollars,
    per_month,
)
from infra.capacity.planner import by_processor, plan
from infra.capacity.storage_costs import kms_costs, log_costs, s3_costs
from infra.capacity.stream_shards import kinesis_costs

__all__ = [
    "AS_SENT_BYTES_PER_RAW_BYTE",
    "ATHENA_BYTES_PER_TB",
    "ATHENA_GETS_PER_OBJECT",
    "ATHENA_MIN_SCAN_BYTES",
    "ATHENA_PUTS",
    "BACKUP_BYTES_PER_RAW_BYTE",
    "BILLING_GB",
    "CLAIM_ITEM_BYTES",
    "CLAIM_SECONDS_PER_RECORD",
    "COMPACTOR_CALL_SECONDS",
    "COPY_OBJECTS",
    "FALLBACK_PRICE_REGION",
    "HOURS_PER_DAY",
    "HOURS_PER_MONTH",
    "JQ_SECONDS_PER_RECORD",
    "KMS_REQUESTS_PER_CLIENT_HOUR",
    "LOG_BYTES_PER_INVOCATION",
    "MARKS_SECONDS_PER_RECORD",
    "PARQUET_BYTES_PER_RAW_BYTE",
    "PARQUET_OBJECT_OVERHEAD_BYTES",
    "PARTITION_KEY_BYTES",
    "PREVIOUS_COPY_OBJECTS",
    "PRICES_DIR",
    "PROVISIONED_TARGET_USE",
    "REGISTRAR_LOG_BYTES",
    "REGISTRAR_SECONDS_PER_OBJECT",
    "SHARD_UTILIZATION",
    "STATEMENT_GETS",
    "STATEMENT_GLUE_CALLS",
    "STATEMENT_PUTS",
    "TIME_STEPS",
    "TRANSFORMED_BYTES_PER_RAW_BYTE",
    "TRANSFORM_SECONDS_PER_RECORD",
    "UNLOAD_BYTES_PER_SECOND",
    "UNLOAD_SECONDS",
    "CapacityPlan",
    "CompactionFlow",
    "CostLine",
    "CrossedLimit",
    "Load",
    "PartitionFlow",
    "PriceError",
    "PriceTable",
    "arrived_by",
    "backup_objects_per_hour",
    "buffered_per_raw_byte",
    "by_processor",
    "claims_costs",
    "compaction_costs",
    "compaction_flow",
    "cost_line",
    "crossed_limits",
    "dollars",
    "firehose_costs",
    "invocations_per_second",
    "kinesis_costs",
    "kms_costs",
    "lambda_costs",
    "log_costs",
    "on_demand_max_bytes",
    "partition_flows",
    "per_month",
    "plan",
    "processor_batch_seconds",
    "processor_buffer_mb",
    "provisioned_units",
    "runs_per_hour",
    "s3_costs",
    "share_in_hour",
]
