"""One ``plan()`` over the services' sub-plans, and the dedupe mode it recommends."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from aws_contract import kpl_aggregation, limits
from glue import marks
from infra.capacity.active_partitions import (
    backup_objects_per_hour,
    buffered_per_raw_byte,
    partition_flows,
)
from infra.capacity.calibration import (
    BILLING_GB,
    CLAIM_ITEM_BYTES,
    HOURS_PER_MONTH,
    PARTITION_KEY_BYTES,
    SHARD_UTILIZATION,
)
from infra.capacity.claims_units import claims_costs, provisioned_units
from infra.capacity.compactor_runs import compaction_costs, compaction_flow
from infra.capacity.firehose_billing import ASSUMED as FIREHOSE_BILLING_ASSUMED
from infra.capacity.firehose_billing import BILLINGS, PER_AGGREGATE, firehose_costs
from infra.capacity.lambda_compute import lambda_costs
from infra.capacity.limits_crossed import crossed_limits, on_demand_max_bytes
from infra.capacity.plan_model import CapacityPlan, Load, PriceTable, dollars, per_month
from infra.capacity.storage_costs import access_log_costs, kms_costs, log_costs, s3_costs
from infra.capacity.stream_shards import kinesis_costs
from infra.claims_spec import (
    CLAIM_WRITE_UNITS_PER_EVENT,
    PROVISIONED,
    ClaimsCapacity,
)
from infra.settings import PROCESSORS, Settings, settings_args


def plan(load: Load, settings: Settings, prices: PriceTable | None = None) -> CapacityPlan:
    """What ``load`` needs and costs with ``settings``' buffering, Lambda and retention, on the recommended
    stream; ``crossed`` judges the settings as they are (their stream mode, shards and claims billing). The
    load is priced in every dedupe mode too, and ``recommended["dedupe"]`` is the mode the load allows."""
    prices = prices or PriceTable.load(load.region)
    main = _plan(load, settings, prices)
    by_mode = {
        m.name: main if m is load.dedupe else _plan(dataclasses.replace(load, dedupe=m), settings, prices)
        for m in marks.MODES.values()
    }
    mode, why = settings.processing.dedupe_choice(lambda: _recommend_dedupe(main, by_mode, settings))
    recommended = dict(main.recommended)
    if mode is not None:  # processor jq has no claims table: its dedupe is not sized here
        recommended["dedupe"] = mode
    return dataclasses.replace(
        main,
        recommended=recommended,
        dedupe_usd_by_mode={m: p.usd_per_month for m, p in by_mode.items()},
        dedupe_recommended=mode,
        dedupe_why=why,
    )


def _plan(load: Load, settings: Settings, prices: PriceTable) -> CapacityPlan:
    processor = settings.processing  # processor jq: no transform Lambda, no claims, no conversion
    dedupe = processor.marks(load.dedupe)
    claims = dedupe.claims_table
    batch_marks = dedupe.batch_marks
    eps = load.events_per_second
    records_ps = eps / load.events_per_record
    record_bytes = kinesis_record_bytes(load)
    bytes_ps = records_ps * record_bytes

    # --- Kinesis: both write limits of a shard -------------------------------------------------------------
    by_records = records_ps / limits.SHARD_WRITE_RECORDS_PER_S
    by_bytes = bytes_ps / limits.SHARD_WRITE_BYTES_PER_S
    shards = max(1, math.ceil(max(by_records, by_bytes) / SHARD_UTILIZATION))
    on_demand_start = limits.ON_DEMAND_INITIAL_SHARDS * SHARD_UTILIZATION
    on_demand_max = on_demand_max_bytes(load.region)
    on_demand_ok = max(by_records, by_bytes) <= on_demand_start and bytes_ps <= on_demand_max
    kinesis_by_mode = {
        "PROVISIONED": sum(
            c.usd_per_month
            for c in kinesis_costs("PROVISIONED", shards, records_ps, record_bytes, settings, prices)
        ),
        "ON_DEMAND": sum(
            c.usd_per_month
            for c in kinesis_costs("ON_DEMAND", shards, records_ps, record_bytes, settings, prices)
        ),
    }
    # On-demand only while its first capacity carries the load, and only when it is the cheaper mode (at a
    # steady load it never is: a shard-hour costs less than the stream-hour and per-GB charges).
    cheaper_on_demand = kinesis_by_mode["ON_DEMAND"] < kinesis_by_mode["PROVISIONED"]
    mode = "ON_DEMAND" if on_demand_ok and cheaper_on_demand else "PROVISIONED"
    reading_shards = shards if mode == "PROVISIONED" else max(shards, limits.ON_DEMAND_INITIAL_SHARDS)

    # --- Firehose: partitions, objects ------------------------------------------------------------------
    batch_s = processor.batch_seconds(eps * load.avg_event_bytes, reading_shards, settings)
    flows, mean_active, peak_active = partition_flows(load, settings, batch_s, reading_shards)
    objects_ph = sum(f.objects_per_hour for f in flows)
    mean_object = (
        sum(f.objects_per_hour * f.mean_object_bytes for f in flows) / objects_ph if objects_ph else 0.0
    )
    parquet_ph = objects_ph * mean_object
    per_type_bytes = eps / load.event_types * load.avg_event_bytes * buffered_per_raw_byte(settings)
    # One event hour gets at most all of a type's events (a spread up to an hour) or 1/spread of them.
    max_partition_bps = per_type_bytes / max(1.0, load.late_spread_hours)
    delivery_streams = max(1, math.ceil(peak_active / limits.ACTIVE_PARTITIONS_MAX))
    raw_ps = eps * load.avg_event_bytes
    backup_ph = backup_objects_per_hour(raw_ps, settings) if settings.source_backup else 0.0

    # --- Lambda: Firehose's processor buffer, per shard ---------------------------------------------------
    buffer_mb = processor.processor_buffer_mb()
    invocations_ps = processor.invocations_per_second(raw_ps, eps, reading_shards, settings)
    records_per_inv = eps / invocations_ps if invocations_ps else 0.0
    cpu = load.transform_seconds_per_record
    if claims:
        cpu += load.claim_seconds_per_record
    elif batch_marks:
        cpu += load.marks_seconds_per_record
    slowdown = max(1.0, limits.LAMBDA_MB_PER_VCPU / settings.lambda_memory_mb)
    seconds_per_inv = records_per_inv * cpu * slowdown
    concurrency = invocations_ps * seconds_per_inv

    # --- DynamoDB claims ---------------------------------------------------------------------------------
    writes_ps = eps * CLAIM_WRITE_UNITS_PER_EVENT if claims else 0.0
    reads_ps = eps * load.duplicate_share if claims else 0.0  # losers read back, strongly consistent
    claims_gb = eps * settings.dedupe_ttl_seconds * CLAIM_ITEM_BYTES / BILLING_GB if claims else 0.0
    claims_capacity = ClaimsCapacity.for_load(eps, load.duplicate_share) if claims else None
    claims_lines = claims_costs(writes_ps, reads_ps, claims_gb, claims_capacity, settings, prices)
    on_demand_writes = per_month(writes_ps) * prices["dynamodb_write_request_unit"]
    provisioned_writes = (
        provisioned_units(writes_ps, claims_capacity.writes.min_units)
        * HOURS_PER_MONTH
        * prices["dynamodb_provisioned_wcu_hour"]
        if claims_capacity
        else 0.0
    )

    # --- the compactor -------------------------------------------------------------------------------------
    compaction = compaction_flow(load, settings, parquet_ph, objects_ph) if settings.compacts else None

    # Firehose under both readings of its billing of aggregates (the same lines without aggregation).
    event_record_bytes = load.avg_event_bytes + PARTITION_KEY_BYTES
    aggregated = load.events_per_record > 1
    firehose_by_billing = {
        billing: firehose_costs(
            eps,
            records_ps if billing == PER_AGGREGATE else eps,
            record_bytes if billing == PER_AGGREGATE else event_record_bytes,
            parquet_ph,
            objects_ph,
            processor,
            prices,
            note=("per aggregate" if billing == PER_AGGREGATE else "per user record, assumed")
            if aggregated
            else "",
        )
        for billing in BILLINGS
    }
    costs = (
        *kinesis_costs(mode, shards, records_ps, record_bytes, settings, prices),
        *firehose_by_billing[FIREHOSE_BILLING_ASSUMED],
        *lambda_costs(invocations_ps, concurrency, objects_ph, settings, prices),
        *claims_lines,
        *(compaction_costs(compaction, objects_ph, prices) if compaction else ()),
        *s3_costs(parquet_ph, objects_ph, backup_ph, raw_ps, settings, prices),
        *kms_costs(reading_shards, concurrency, claims, prices),
        *log_costs(invocations_ps, objects_ph, settings, prices),
    )
    costs = (*costs, *access_log_costs(costs, settings, prices))
    crossed = crossed_limits(
        load,
        settings,
        by_records,
        by_bytes,
        peak_active,
        max_partition_bps,
        concurrency,
        seconds_per_inv,
        reading_shards,
        writes_ps,
        compaction,
        record_bytes=record_bytes,
    )
    recommended: dict[str, Any] = {"streamMode": mode}
    if mode == "PROVISIONED":
        recommended["streamShardCount"] = shards
    return settings_args(
        CapacityPlan,
        settings,
        load=load,
        prices=prices,
        records_per_second=records_ps,
        bytes_per_second=bytes_ps,
        shards_by_records=math.ceil(by_records),
        shards_by_bytes=math.ceil(by_bytes),
        shards=shards,
        stream_mode=mode,
        kinesis_usd_by_mode=kinesis_by_mode,
        delivery_streams=delivery_streams,
        mean_active_partitions=mean_active,
        peak_active_partitions=peak_active,
        max_partition_bytes_per_second=max_partition_bps,
        partitions=tuple(flows),
        objects_per_hour=objects_ph,
        mean_object_bytes=mean_object,
        backup_objects_per_hour=backup_ph,
        parquet_bytes_per_hour=parquet_ph,
        processor_buffer_mb=buffer_mb,
        invocations_per_second=invocations_ps,
        records_per_invocation=records_per_inv,
        seconds_per_invocation=seconds_per_inv,
        concurrency=concurrency,
        dedupe_writes_per_second=writes_ps,
        dedupe_reads_per_second=reads_ps,
        claims_stored_gb=claims_gb,
        claims_capacity=claims_capacity,
        claims_on_demand_usd_per_month=on_demand_writes,
        claims_provisioned_usd_per_month=provisioned_writes,
        compaction=compaction,
        costs=tuple(c for c in costs if c.quantity > 0),
        crossed=tuple(crossed),
        recommended=recommended,
        record_bytes=record_bytes,
        firehose_billing=FIREHOSE_BILLING_ASSUMED,
        firehose_usd_by_billing={
            billing: sum(c.usd_per_month for c in lines) for billing, lines in firehose_by_billing.items()
        },
    )


def kinesis_record_bytes(load: Load) -> float:
    """One Kinesis record's bytes with its partition key: an event as sent, or an aggregate of
    ``events_per_record`` of them in the KPL format, each keeping its own key in the aggregate's table."""
    if load.events_per_record == 1:
        return load.avg_event_bytes + PARTITION_KEY_BYTES
    event = math.ceil(load.avg_event_bytes)
    aggregate = kpl_aggregation.aggregate_bytes(load.events_per_record, event, PARTITION_KEY_BYTES)
    return aggregate + PARTITION_KEY_BYTES


def _recommend_dedupe(
    main: CapacityPlan, by_mode: Mapping[str, CapacityPlan], settings: Settings
) -> tuple[str, str]:
    """The dedupe mode the stack should hold for this load, and why: the mode asked for (the stack's, or
    ``--dedupe``'s) while the load allows it, compaction when claims would cross the table quota, with what
    the other modes would cost beside it (where the processor makes marks: ``Processor.dedupe_choice``)."""
    quota = limits.ON_DEMAND_TABLE_MAX_WRITES_PER_S
    claims = by_mode[marks.CLAIMS.name]
    writes = claims.dedupe_writes_per_second
    fits = writes <= quota
    usd = {m: p.usd_per_month for m, p in by_mode.items()}
    per_million = {m: p.usd_per_million_events for m, p in by_mode.items()}
    compacts = settings.compacts
    later = (
        f"once its hour is compacted (the first run {settings.compaction_late_window_hours} h or more "
        "after the hour ends; late objects at the next run)"
    )

    def price(m: str) -> str:
        return f"{dollars(usd[m])} a month (${per_million[m]:.2f} per million events)"

    wanted = main.load.dedupe
    if wanted is marks.OFF:
        why = "off, as asked: no marks (the unique_events view stays exact)"
        if compacts:
            why += f"; compaction would mark every row {later} for {price('compaction')}"
        return "off", why
    if wanted is marks.CLAIMS and fits:
        table = claims.usd_by_component().get("DynamoDB claims", 0.0)
        share = table / usd["claims"] if usd["claims"] else 0.0
        why = (
            f"claims, as asked: real-time marks; {writes:,.1f} write units/s fit DynamoDB's table quota "
            f"({quota:,}). The table costs {dollars(table)} of {price('claims')}, {share:.0%}"
        )
        if settings.claims_billing_mode != PROVISIONED:
            provisioned, on_demand = (
                claims.claims_provisioned_usd_per_month,
                claims.claims_on_demand_usd_per_month,
            )
            why += (
                f"; claimsBillingMode PROVISIONED would bill its writes {dollars(provisioned)} a month "
                f"instead of {dollars(on_demand)}"
            )
        if compacts:
            why += f". compaction marks the same rows exactly {later}, for {price('compaction')}"
            if share > 0.5:
                why += ": choose it unless the marks must be real-time"
        return "claims", why
    if wanted is marks.CLAIMS:
        alt = "compaction" if compacts else "off"
        why = (
            f"{alt}: claims would need {writes:,.0f} write units/s, {writes / quota:.1f}x DynamoDB's table "
            f"quota ({quota:,}), and cost {price('claims')}; "
        )
        if compacts:
            return (
                alt,
                why + f"compaction marks the same rows exactly {later}, with no table, for {price(alt)}",
            )
        return alt, why + "with compactionEnabled false nothing else marks them (unique_events stays exact)"
    if compacts:
        why = (
            f"compaction, as asked: no claims table; repeats within a batch are marked at once, every other "
            f"row {later}, for {price('compaction')}. Real-time marks (claims) would add "
            f"{dollars(usd['claims'] - usd['compaction'])} a month"
        )
        return "compaction", why + ("" if fits else f" and need {writes / quota:.1f}x the table quota")
    alt = "claims" if fits else "off"
    return alt, (
        f"{alt}: with compactionEnabled false nothing would mark the rows compaction leaves null; "
        + (f"claims mark them in real time for {price('claims')}" if fits else "claims would cross the quota")
    )


def by_processor(load: Load, settings: Settings, prices: PriceTable | None = None) -> dict[str, CapacityPlan]:
    """The same load on the same stack with each ``processor``: the README's side-by-side comparison."""
    return {p: plan(load, dataclasses.replace(settings, processor=p), prices) for p in PROCESSORS}
