"""The AWS limits a load crosses, each with the stack key that changes it."""

from __future__ import annotations

import math

from aws_contract import limits
from infra.capacity.calibration import PROVISIONED_TARGET_USE, SHARD_UTILIZATION
from infra.capacity.plan_model import CompactionFlow, CrossedLimit, Load
from infra.claims_spec import (
    PROVISIONED,
    TABLE_MAX_UNITS,
    ClaimsCapacity,
)
from infra.settings import Settings

# --- limits -----------------------------------------------------------------------------------------------


def on_demand_max_bytes(region: str) -> float:
    if region in limits.KINESIS_LARGE_QUOTA_REGIONS:
        return limits.ON_DEMAND_MAX_WRITE_BYTES_PER_S_LARGE
    return limits.ON_DEMAND_MAX_WRITE_BYTES_PER_S_OTHER


def _shard_quota(region: str) -> int:
    if region in limits.KINESIS_LARGE_QUOTA_REGIONS:
        return limits.STREAM_SHARD_COUNT_RANGE[1]
    return limits.ACCOUNT_SHARD_QUOTA_OTHER


def crossed_limits(
    load: Load,
    settings: Settings,
    by_records: float,
    by_bytes: float,
    peak_active: int,
    max_partition_bps: float,
    concurrency: float,
    seconds_per_inv: float,
    reading_shards: int,
    writes_ps: float,
    compaction: CompactionFlow | None,
    *,
    record_bytes: float = 0.0,
) -> list[CrossedLimit]:
    out: list[CrossedLimit] = []

    def check(limit: str, needed: float, allowed: float, key: str, advice: str) -> None:
        if needed > allowed:
            out.append(CrossedLimit(limit, needed, allowed, key, advice))

    check(
        "Kinesis record size, 1 MiB (data and partition key)",
        record_bytes,
        limits.KINESIS_RECORD_MAX_BYTES,
        "expectedEventsPerRecord",
        "fewer events per aggregated record (eventlake send --aggregate packs 25 KB)",
    )
    needed = max(by_records, by_bytes)
    if settings.stream_mode == "PROVISIONED":
        have = settings.stream_shard_count
        more = "more shards (or KPL aggregation: more events per Kinesis record)"
        check("Kinesis writes, 1,000 records/s per shard", by_records, have, "streamShardCount", more)
        check("Kinesis writes, 1 MiB/s per shard", by_bytes, have, "streamShardCount", "more shards")
    else:
        check(
            "on-demand stream's initial write capacity (4 shards, then 2x the previous peak)",
            needed,
            limits.ON_DEMAND_INITIAL_SHARDS,
            "streamMode",
            "PROVISIONED with streamShardCount: an on-demand stream throttles until it has scaled up",
        )
        check(
            "on-demand stream's maximum write throughput (bytes/s)",
            by_bytes * limits.SHARD_WRITE_BYTES_PER_S,
            on_demand_max_bytes(load.region),
            "streamMode",
            "PROVISIONED",
        )
    check(
        f"account shard quota in {load.region}",
        math.ceil(needed / SHARD_UTILIZATION),
        _shard_quota(load.region),
        "streamShardCount",
        "a Service Quotas request",
    )
    if peak_active > limits.ACTIVE_PARTITIONS_MAX:
        check(
            "Firehose active partitions per stream (5,000 at most)",
            peak_active,
            limits.ACTIVE_PARTITIONS_MAX,
            "bufferingIntervalSeconds",
            "fewer event types x open hours per delivery stream: one Kinesis and one delivery stream per "
            "group of event types, producers routing by type (not built); a shorter interval helps only at "
            "low rates",
        )
    else:
        check(
            "Firehose active partitions per stream (500 by default)",
            peak_active,
            limits.ACTIVE_PARTITIONS_DEFAULT,
            "bufferingIntervalSeconds",
            "a Firehose quota request (up to 5,000) before deploying; alarmPartitionPercent watches it",
        )
    check(
        "Firehose throughput per active partition (1 GB/s)",
        max_partition_bps,
        limits.PARTITION_MAX_BYTES_PER_S,
        "expectedEventTypes",
        "a partition key finer than event type x hour (not built)",
    )
    check(
        "Lambda concurrent executions (1,000 by default)",
        concurrency,
        limits.LAMBDA_CONCURRENCY_DEFAULT,
        "lambdaMemoryMb",
        "more memory (CPU) per invocation, up to a whole vCPU, or a quota request",
    )
    check(
        "Firehose Lambda invocations per shard (5 outstanding)",
        concurrency,
        limits.PROCESSOR_INVOCATIONS_PER_SHARD * reading_shards,
        "streamShardCount",
        "more shards, or more lambdaMemoryMb",
    )
    check(
        "transform invocation time vs its duration alarm",
        seconds_per_inv,
        settings.lambda_timeout_seconds * settings.alarm_duration_percent / 100,
        "lambdaMemoryMb",
        "more memory, or a longer lambdaTimeoutSeconds",
    )
    if settings.processing.marks(load.dedupe).claims_table:
        check(
            "DynamoDB table quota (40,000 write units/s by default)",
            writes_ps,
            limits.ON_DEMAND_TABLE_MAX_WRITES_PER_S,
            "dedupe",
            "compaction (marks made when each hour is compacted, no table), or a table quota request",
        )
        deployed = ClaimsCapacity.from_settings(settings)
        # A maximum at the table quota is the quota's limit, checked above; below it, the declared load's.
        if settings.claims_billing_mode == PROVISIONED and deployed.writes.max_units < TABLE_MAX_UNITS:
            check(
                "claims table's auto-scaling maximum (write units, derived from expectedEventsPerHour)",
                writes_ps / PROVISIONED_TARGET_USE,
                deployed.writes.max_units,
                "expectedEventsPerHour",
                "declare the load the table must carry (its bounds derive from it), or claimsBillingMode "
                "PAY_PER_REQUEST",
            )
    if compaction is not None:
        check(
            "compactor run time (a Lambda runs 15 minutes at most; assumed latencies)",
            compaction.seconds_per_run,
            limits.LAMBDA_MAX_TIMEOUT_S,
            "compactionLookbackHours",
            "a shorter lookback (every run looks at every closed hour in it); what a run cannot finish waits "
            "for the next",
        )
    return out
