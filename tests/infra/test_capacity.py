"""The sizing model (``infra/capacity/``): hand-checked loads at 1/1000x, 1x and 1000x, each dedupe mode's
lines and the mode recommended, claims billed on demand or provisioned, the compactor's runs, properties over
any load, price overrides, the sized stack files against their declared loads, and the measured constants
re-measured with the local pipeline's own transform and Parquet writer."""

from __future__ import annotations

import base64
import collections
import math
import random
from dataclasses import replace as dataclasses_replace
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aws_contract import firehose_records, limits
from glue import marks
from infra import capacity
from infra.capacity import Load, PriceError, PriceTable, plan
from infra.settings import Settings, stack_config

EU = "eu-west-1"
COMPONENTS = {
    "Kinesis",
    "Firehose",
    "Lambda",
    "DynamoDB claims",
    "Compaction",
    "S3",
    "KMS",
    "CloudWatch Logs",
}
CLAIMS, COMPACTION, OFF = marks.CLAIMS, marks.COMPACTION, marks.OFF


def load(events_per_hour: float, **kw: object) -> Load:
    values: dict[str, object] = dict(
        avg_event_bytes=222, event_types=100, late_spread_hours=1, dedupe=CLAIMS, region=EU
    )
    values.update(kw)
    return Load(events_per_hour, **values)  # type: ignore[arg-type]


PROD_LIKE = Settings(
    stack="t",
    stream_mode="PROVISIONED",
    stream_shard_count=1,
    buffering_interval_seconds=900,
    lambda_memory_mb=1024,
)


# --- hand-checked loads ---------------------------------------------------------------------------------


def test_1000x_needs_278_shards_by_records_and_69_by_bytes() -> None:
    p = plan(load(1e9), PROD_LIKE)
    # 1e9 / 3600 = 277,777.8 records/s; each 222 B + a 36-char key = 258 B -> 71.7 MB/s = 68.3 MiB/s.
    assert p.records_per_second == pytest.approx(277_777.78, rel=1e-6)
    assert p.bytes_per_second == pytest.approx(277_777.78 * 258, rel=1e-6)
    assert (p.shards_by_records, p.shards_by_bytes) == (278, 69)
    assert p.shards == math.ceil(277.78 / capacity.SHARD_UTILIZATION) == 348
    assert p.stream_mode == "PROVISIONED"
    # The stack has 1 shard: both limits are crossed, each naming the key that fixes it.
    crossed = {c.limit: c for c in p.crossed}
    assert crossed["Kinesis writes, 1,000 records/s per shard"].key == "streamShardCount"
    assert crossed["Kinesis writes, 1 MiB/s per shard"].needed == pytest.approx(68.35, abs=0.01)
    # ~278,000 claims/s against the 40,000 default table quota: flagged, and the recommendation is compaction.
    table = next(c for c in p.crossed if c.key == "dedupe")
    assert (
        table.needed == pytest.approx(277_777.78) and table.allowed == limits.ON_DEMAND_TABLE_MAX_WRITES_PER_S
    )
    assert p.recommended == {"streamMode": "PROVISIONED", "streamShardCount": 348, "dedupe": "compaction"}
    assert p.dedupe_recommended == "compaction" and "6.9x DynamoDB's table quota (40,000)" in p.dedupe_why


def test_1000x_on_an_on_demand_stream_is_flagged_with_stream_mode() -> None:
    p = plan(load(1e9, dedupe=OFF), Settings(stack="t"))
    assert [c.key for c in p.crossed] == ["streamMode"]
    assert p.kinesis_usd_by_mode["ON_DEMAND"] > 3 * p.kinesis_usd_by_mode["PROVISIONED"]


def test_1000x_objects_fill_the_128_mib_buffer_long_before_the_interval() -> None:
    p = plan(load(1e9, late_spread_hours=0), PROD_LIKE)
    # One partition per type: 2,777.8 events/s x 222 B x 2.35 (the transform's output, which the buffer
    # counts) fills 128 MiB in ~92.6 s, so each object holds 128 MiB / 521.7 B = ~257,300 events.
    per_event = 222 * capacity.TRANSFORMED_BYTES_PER_RAW_BYTE
    window = 128 * limits.MIB / (1e9 / 3600 / 100 * per_event)
    assert window == pytest.approx(92.6, abs=0.1)
    rows = 128 * limits.MIB / per_event + 1
    assert p.partitions[0].events_per_object == pytest.approx(rows, rel=1e-3)
    parquet = (
        capacity.PARQUET_OBJECT_OVERHEAD_BYTES["SNAPPY"]
        + rows * 222 * capacity.PARQUET_BYTES_PER_RAW_BYTE["SNAPPY"]
    )
    assert p.mean_object_bytes == pytest.approx(parquet, rel=1e-3)
    assert p.objects_per_hour == pytest.approx(100 * 3600 / (window + 1 / (1e9 / 3600 / 100)), rel=1e-3)
    assert p.peak_active_partitions == 100


def test_1x_fits_one_shard_and_no_limit() -> None:
    p = plan(load(1e6), PROD_LIKE)
    assert (p.shards_by_records, p.shards_by_bytes, p.shards) == (1, 1, 1)
    assert p.crossed == ()
    assert p.dedupe_writes_per_second == pytest.approx(277.78, abs=0.01)
    # With a 1 h spread each type has two open hours: 200 partitions, under the 500 default.
    assert p.peak_active_partitions == 200 and p.delivery_streams == 1


def test_1_1000x_objects_per_hour_follow_the_interval() -> None:
    """1,000 events/hour over 100 types, all in their arrival hour: each type gets 0.00278 events/s; a buffer
    opens at a record and closes 900 s later, so it writes 3600 / (900 + 360) = 2.857 objects an hour of
    1 + 2.5 events, and is open 2.5 / 3.5 of the time."""
    p = plan(load(1e3, late_spread_hours=0), PROD_LIKE)
    assert p.objects_per_hour == pytest.approx(100 * 3600 / 1260, rel=1e-9)
    assert p.partitions[0].events_per_object == pytest.approx(3.5, rel=1e-9)
    assert p.mean_active_partitions == pytest.approx(100 * 2.5 / 3.5, rel=1e-9)
    # At low volume objects/hour = active partitions x 3600 / interval (the brief's rule of thumb).
    assert p.objects_per_hour == pytest.approx(p.mean_active_partitions * 3600 / 900, rel=1e-9)
    assert p.shards == 1 and p.stream_mode == "PROVISIONED"
    assert p.kinesis_usd_by_mode["PROVISIONED"] < p.kinesis_usd_by_mode["ON_DEMAND"]


def test_large_events_are_bound_by_bytes_not_records() -> None:
    p = plan(load(1e6, avg_event_bytes=10_000), PROD_LIKE)
    assert p.shards_by_bytes == 3 > p.shards_by_records == 1
    assert [c.limit for c in p.crossed] == ["Kinesis writes, 1 MiB/s per shard"]


def test_too_many_types_times_hours_needs_more_delivery_streams() -> None:
    p = plan(load(1e9, event_types=3_000, late_spread_hours=2), PROD_LIKE)
    assert p.peak_active_partitions > limits.ACTIVE_PARTITIONS_MAX
    assert p.delivery_streams == math.ceil(p.peak_active_partitions / limits.ACTIVE_PARTITIONS_MAX) >= 2
    assert any(c.key == "bufferingIntervalSeconds" and "5,000" in c.limit for c in p.crossed)


def test_active_partitions_over_the_default_quota_are_flagged() -> None:
    p = plan(load(1e6, event_types=200, late_spread_hours=2), PROD_LIKE)
    assert limits.ACTIVE_PARTITIONS_DEFAULT < p.peak_active_partitions <= limits.ACTIVE_PARTITIONS_MAX
    assert any("500 by default" in c.limit for c in p.crossed)


# --- costs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("events", [1e3, 1e6, 1e9])
def test_cost_lines_cover_every_component_and_sum(events: float) -> None:
    p = plan(load(events), PROD_LIKE)
    assert {line.component for line in p.costs} == COMPONENTS
    for line in p.costs:
        assert line.usd_per_month == pytest.approx(line.quantity * p.prices[line.price_key])
    assert p.usd_per_month == pytest.approx(sum(p.usd_by_component().values()))
    assert p.usd_per_million_events == pytest.approx(p.usd_per_month / (events * 730) * 1e6)


def test_hand_checked_cost_lines_at_1000x() -> None:
    lines = {(c.component, c.item): c for c in plan(load(1e9), PROD_LIKE).costs}
    assert lines[("Kinesis", "348 shards")].usd_per_month == pytest.approx(348 * 730 * 0.015)
    # One WRU per event: 1e9 x 730 x $0.625 per million.
    writes = lines[("DynamoDB claims", "writes (one INSERT per event)")]
    assert writes.usd_per_month == pytest.approx(1e9 * 730 * 0.625e-6)
    # Firehose bills each 258-byte record as 5 KB: 1e9 x 730 x 5120 B / 2^30.
    ingestion = lines[("Firehose", "ingestion (5 KB per record)")]
    assert ingestion.quantity == pytest.approx(1e9 * 730 * 5120 / 2**30)


def test_only_claims_has_claims_lines_and_every_mode_the_compactor_s() -> None:
    by = {m: plan(load(1e6, dedupe=m), PROD_LIKE) for m in (CLAIMS, COMPACTION, OFF)}
    assert "DynamoDB claims" in by[CLAIMS].usd_by_component()
    for m in (COMPACTION, OFF):
        assert "DynamoDB claims" not in by[m].usd_by_component()
        assert by[m].dedupe_writes_per_second == 0 and by[m].claims_capacity is None
    for m, p in by.items():
        assert p.usd_by_component()["Firehose"] == pytest.approx(by[OFF].usd_by_component()["Firehose"]), m
        # The marks ride on the UNLOAD compaction runs anyway: the compactor costs the same in every mode.
        assert p.usd_by_component()["Compaction"] == pytest.approx(by[OFF].usd_by_component()["Compaction"])
        assert {"athena_tb_scanned", "lambda_arm64_gb_second"} <= {
            c.price_key for c in p.costs if c.component == "Compaction"
        }
    # CPU: claims pay the store and the marks, compaction the marks within a batch, off neither.
    assert by[CLAIMS].concurrency > by[COMPACTION].concurrency > by[OFF].concurrency
    assert (
        by[CLAIMS].dedupe_usd_by_mode
        == by[OFF].dedupe_usd_by_mode
        == {m.name: by[m].usd_per_month for m in by}
    )


def test_without_compaction_no_mode_has_compactor_lines() -> None:
    settings = Settings(stack="t", compaction_enabled=False)
    for m in (CLAIMS, OFF):
        p = plan(load(1e6, dedupe=m), settings)
        assert p.compaction is None and "Compaction" not in p.usd_by_component()


def test_the_compactor_at_1x_is_priced_line_by_line() -> None:
    """prod's load: 100 type-hours close an hour, each under Athena's 10 MB minimum, so they share UNLOADs
    (as many as one query string holds: a batch bills its bytes once, not 10 MB a partition); every hourly
    run looks at the 45 closed hours of its 48 h lookback, listing each type's two folders once from the
    lookback's first date (3 days of a type's objects fit one page each), and reads no manifest (nothing
    arrives after the late window)."""
    p = plan(load(1e6), PROD_LIKE)
    flow = p.compaction
    assert flow is not None and flow.runs_per_hour == 1
    assert flow.partitions_per_hour == pytest.approx(100) and flow.recompactions_per_hour == 0
    assert flow.partition_bytes < limits.ATHENA_MIN_BILLED_BYTES_PER_QUERY
    # How many partitions one UNLOAD's text holds: the compactor's own BatchStatement, measured.
    assert 20 < flow.partitions_per_unload < 100 and flow.batched
    assert flow.unloads_per_hour == pytest.approx(100 / flow.partitions_per_unload)
    assert flow.billed_bytes_per_statement == pytest.approx(flow.partitions_per_unload * flow.partition_bytes)
    assert flow.candidates_per_run == pytest.approx(100 * (48 - 3))
    lines = {c.item: c for c in p.costs if c.component == "Compaction"}
    athena = next(c for c in lines.values() if c.price_key == "athena_tb_scanned")
    # Every byte of the month's Parquet once (it was 100 x 10 MB an hour, $3.65 a month).
    assert athena.quantity == pytest.approx(p.parquet_bytes_per_hour * 730 / 1e12)
    assert athena.usd_per_month < 0.5
    staged = next(c for c in lines.values() if c.item.startswith("staged batch files"))
    assert staged.quantity == pytest.approx(p.parquet_bytes_per_hour * 730 * 3 / (730 / 24) / 2**30)
    lists = lines["S3 LISTs: every run lists each type's folders from its lookback's first day"]
    assert flow.lists_per_run == pytest.approx(2 * 100)
    assert lists.quantity == pytest.approx(730 * 200) and lists.usd_per_month == pytest.approx(0.73)
    gets = lines["S3 GETs: manifests, and Athena reading the objects"]
    # Per UNLOAD: the marker's HEAD and the manifest, and Athena's two reads of each original object.
    objects_each = p.objects_per_hour / 100
    assert gets.quantity == pytest.approx(100 * 730 * (2 + 2 * objects_each))
    assert lines["S3 tags on superseded objects"].quantity == pytest.approx(p.objects_per_hour * 730)
    # At 1000x the partitions are larger than the minimum: each its own UNLOAD, Athena scans their bytes.
    big = plan(load(1e9), PROD_LIKE).compaction
    assert big is not None and not big.batched and big.unloads_per_hour == pytest.approx(100)
    assert big.billed_bytes_per_statement == pytest.approx(
        plan(load(1e9), PROD_LIKE).parquet_bytes_per_hour / 100
    )


def test_a_shorter_lookback_lists_fewer_hours() -> None:
    """Fewer closed hours to look at; the listing is a page a type either way at prod, and fewer pages once a
    type's objects over the lookback fill more than one (1000x)."""
    short = Settings(**{**vars(PROD_LIKE), "compaction_lookback_hours": 10})
    at_prod = plan(load(1e6), short).compaction
    assert at_prod is not None and at_prod.candidates_per_run == pytest.approx(100 * 7)
    assert at_prod.lists_per_run == plan(load(1e6), PROD_LIKE).compaction.lists_per_run == 2 * 100
    at_huge, huge_long = plan(load(1e9), short), plan(load(1e9), PROD_LIKE)
    assert at_huge.compaction.lists_per_run < huge_long.compaction.lists_per_run
    assert at_huge.usd_by_component()["Compaction"] < huge_long.usd_by_component()["Compaction"]


def test_events_later_than_the_late_window_are_compacted_again() -> None:
    on_time = plan(load(1e6, late_spread_hours=3), PROD_LIKE).compaction
    late = plan(load(1e6, late_spread_hours=6), PROD_LIKE).compaction
    assert on_time is not None and late is not None
    assert on_time.recompactions_per_hour == 0
    # Events arrive up to 7 h after their hour began, the hour is compacted 4 h after it began: each hourly
    # run for 3 more hours finds late objects of each type (10,000 events a type-hour, so surely some).
    assert late.recompactions_per_hour == pytest.approx(100 * 3, rel=1e-6)


@given(st.floats(-2, 60), st.floats(0, 48))
def test_the_arrived_share_grows_from_zero_to_one(hours: float, spread: float) -> None:
    share = capacity.arrived_by(hours, spread)
    assert 0 <= share <= 1 and capacity.arrived_by(hours + 0.5, spread) >= share - 1e-12
    assert capacity.arrived_by(0, spread) == 0 and capacity.arrived_by(1 + spread, spread) == pytest.approx(1)


@pytest.mark.parametrize(
    ("schedule", "per_hour"),
    [("rate(1 hour)", 1), ("rate(15 minutes)", 4), ("rate(2 hours)", 0.5), ("rate(1 day)", 1 / 24),
     ("cron(0/15 * * * ? *)", 4), ("cron(0 2 * * ? *)", 1 / 24), ("cron(0,30 9-17 * * ? *)", 18 / 24),
     ("cron(0 * * * ? *)", 1)],
)  # fmt: skip
def test_runs_per_hour_of_each_schedule_form(schedule: str, per_hour: float) -> None:
    assert capacity.runs_per_hour(schedule) == pytest.approx(per_hour)


def test_claims_provisioned_at_the_target_cost_less_than_on_demand_at_1x() -> None:
    """The issue's figure: prod's 278 writes/s on demand are $456 a month; provisioned at 70 % use (397 WCU at
    $0.00065 an hour) about $188. Reads: 8 RCU for the 2 % losers."""
    on_demand = plan(load(1e6), PROD_LIKE)
    provisioned = plan(load(1e6), Settings(**{**vars(PROD_LIKE), "claims_billing_mode": "PROVISIONED"}))
    lines = {c.price_key: c for c in provisioned.costs if c.component == "DynamoDB claims"}
    assert lines["dynamodb_provisioned_wcu_hour"].quantity == 397 * 730
    assert lines["dynamodb_provisioned_wcu_hour"].usd_per_month == pytest.approx(188.38, abs=0.01)
    assert lines["dynamodb_provisioned_rcu_hour"].quantity == 8 * 730
    assert "dynamodb_write_request_unit" not in lines and "dynamodb_storage_gb_month" in lines
    assert on_demand.claims_on_demand_usd_per_month == pytest.approx(456.25)
    assert on_demand.claims_provisioned_usd_per_month == provisioned.claims_provisioned_usd_per_month
    assert provisioned.usd_per_month == pytest.approx(
        on_demand.usd_per_month - 456.25 - 1.825 + 188.38 + 0.76, abs=0.01
    )
    capacity_ = provisioned.claims_capacity
    assert capacity_ is not None and (capacity_.writes.min_units, capacity_.writes.max_units) == (397, 1588)


def test_a_provisioned_table_sized_for_less_than_the_load_is_flagged() -> None:
    """Without a declared load the table's bounds are small (5-100 units): 1M events an hour crosses them."""
    settings = Settings(stack="t", claims_billing_mode="PROVISIONED")
    p = plan(load(1e6), settings)
    assert [c.key for c in p.crossed] == ["expectedEventsPerHour"]
    assert p.crossed[0].allowed == 100 and p.crossed[0].needed == pytest.approx(277.78 / 0.7, rel=1e-3)
    declared = Settings(stack="t", claims_billing_mode="PROVISIONED", expected_events_per_hour=1_000_000)
    assert not any(c.key == "expectedEventsPerHour" for c in plan(load(1e6), declared).crossed)
    # Past the table quota the bounds stop at 40,000 units: that is the quota's limit, named once.
    huge = Settings(stack="t", claims_billing_mode="PROVISIONED", expected_events_per_hour=10**9)
    assert [c.key for c in plan(load(1e9), huge).crossed if c.key in ("dedupe", "expectedEventsPerHour")] == [
        "dedupe"
    ]


def test_each_mode_is_recommended_with_its_reason() -> None:
    claims = plan(load(1e6), PROD_LIKE)
    assert claims.recommended["dedupe"] == "claims"
    assert (
        "real-time marks" in claims.dedupe_why
        and "PROVISIONED would bill its writes $188" in claims.dedupe_why
    )
    # Claims are most of the cost at 1x: the reason says to choose compaction unless marks must be real-time.
    assert "choose it unless the marks must be real-time" in claims.dedupe_why
    compaction = plan(load(1e6, dedupe=COMPACTION), PROD_LIKE)
    assert compaction.recommended["dedupe"] == "compaction" and "no claims table" in compaction.dedupe_why
    assert plan(load(1e6, dedupe=OFF), PROD_LIKE).recommended["dedupe"] == "off"
    # Compaction cannot mark anything without the compactor: claims while they fit the quota, else off.
    no_compactor = Settings(**{**vars(PROD_LIKE), "compaction_enabled": False})
    assert plan(load(1e6, dedupe=COMPACTION), no_compactor).recommended["dedupe"] == "claims"
    assert plan(load(1e9, dedupe=CLAIMS), no_compactor).recommended["dedupe"] == "off"


def test_point_in_time_recovery_adds_a_line() -> None:
    pitr = plan(load(1e6), Settings(stack="t", dedupe_point_in_time_recovery=True))
    assert any(c.price_key == "dynamodb_pitr_gb_month" for c in pitr.costs)


def test_a_price_override_changes_its_lines_and_nothing_else() -> None:
    base = plan(load(1e6), PROD_LIKE)
    doubled = PriceTable.load(
        EU, {"dynamodb_write_request_unit": 2 * base.prices["dynamodb_write_request_unit"]}
    )
    again = plan(load(1e6), PROD_LIKE, doubled)
    assert doubled.overridden == {"dynamodb_write_request_unit"}
    for a, b in zip(base.costs, again.costs, strict=True):
        factor = 2 if a.price_key == "dynamodb_write_request_unit" else 1
        assert b.usd_per_month == pytest.approx(factor * a.usd_per_month)


def test_bad_price_overrides_name_the_closest_key() -> None:
    with pytest.raises(PriceError, match="did you mean dynamodb_write_request_unit"):
        PriceTable.load(EU, {"dynamodb_write_requst_unit": 1.0})
    with pytest.raises(PriceError, match="non-negative"):
        PriceTable.load(EU, {"kms_request": -1.0})


def test_every_price_states_its_source_and_the_table_its_region_and_date() -> None:
    table = PriceTable.load("eu-west-1")
    assert table.region == capacity.FALLBACK_PRICE_REGION and table.requested_region == "eu-west-1"
    assert datetime.strptime(table.as_of, "%Y-%m-%d")
    assert all(table.sources[k].startswith("https://aws.amazon.com/") for k in table.usd)
    provisioned = Settings(stack="t", claims_billing_mode="PROVISIONED")
    used = {line.price_key for e in (1e3, 1e9) for s in (Settings(stack="t"), provisioned)
            for line in plan(load(e), s).costs}  # fmt: skip
    assert used <= set(table.usd)
    assert {"athena_tb_scanned", "dynamodb_provisioned_wcu_hour", "dynamodb_provisioned_rcu_hour"} <= used


# --- properties over any load -----------------------------------------------------------------------------

loads = st.builds(
    Load,
    events_per_hour=st.floats(0, 5e9),
    avg_event_bytes=st.floats(50, 50_000),
    event_types=st.integers(1, 2_000),
    late_spread_hours=st.floats(0, 6),
    dedupe=st.sampled_from(list(marks.MODES.values())),
    region=st.sampled_from([EU, "ap-south-1"]),
)


@settings(max_examples=60, deadline=None)
@given(loads, st.floats(1.01, 10))
def test_more_events_never_need_less(a: Load, factor: float) -> None:
    b = Load(
        a.events_per_hour * factor, a.avg_event_bytes, a.event_types, a.late_spread_hours, a.dedupe, a.region
    )
    pa, pb = plan(a, PROD_LIKE), plan(b, PROD_LIKE)
    assert pb.shards >= pa.shards and pb.shards_by_records >= pa.shards_by_records
    assert pb.shards_by_bytes >= pa.shards_by_bytes
    # Once processor batches fill before their interval, records reach the S3 buffers in bursts, and a buffer
    # whose interval ends between two bursts waits for the next (test_processor_bursts.py): a bigger load can
    # shift that wait by up to one processor interval, so per partition by at most interval / (S3 interval +
    # processor interval). Beyond that, more events never need fewer objects or open partitions.
    slack = PROD_LIKE.buffering_interval_seconds / (
        PROD_LIKE.buffering_interval_seconds + PROD_LIKE.processor_buffer_interval_seconds
    )
    assert pb.peak_active_partitions >= math.floor(pa.peak_active_partitions * slack)
    assert pb.objects_per_hour >= pa.objects_per_hour * slack * (1 - 1e-9)
    assert pb.dedupe_writes_per_second >= pa.dedupe_writes_per_second
    # The cost lines priced by the object count (and the Parquet footers each object carries) may shrink with
    # it by that slack; every other line grows with the events.
    by_objects = sum(
        line.usd_per_month
        for line in pa.costs
        if any(word in line.item for word in ("objects", "registrar", "Parquet", "each month's data"))
    )
    assert pb.usd_per_month >= (pa.usd_per_month - (1 - slack) * by_objects) * (1 - 1e-9)


@settings(max_examples=60, deadline=None)
@given(loads)
def test_every_event_lands_in_some_object_and_no_partition_exceeds_its_buffer(x: Load) -> None:
    p = plan(x, PROD_LIKE)
    assert sum(f.events_per_hour for f in p.partitions) == pytest.approx(
        x.events_per_hour, rel=1e-6, abs=1e-6
    )
    assert p.peak_active_partitions >= math.floor(p.mean_active_partitions)
    assert p.peak_active_partitions <= x.event_types * (math.ceil(x.late_spread_hours) + 1)
    buffered = [
        f.events_per_object * x.avg_event_bytes * capacity.TRANSFORMED_BYTES_PER_RAW_BYTE
        for f in p.partitions
    ]
    assert all(b <= 128 * limits.MIB + x.avg_event_bytes * 3 for b in buffered)
    assert all(c.usd_per_month >= 0 for c in p.costs)
    assert max(p.shards_by_records, p.shards_by_bytes) <= p.shards or x.events_per_hour == 0


@settings(max_examples=40, deadline=None)
@given(loads, st.integers(2, 5))
def test_bigger_events_never_need_fewer_shards_and_more_types_never_fewer_partitions(x: Load, k: int) -> None:
    bigger = Load(
        x.events_per_hour, x.avg_event_bytes * k, x.event_types, x.late_spread_hours, x.dedupe, x.region
    )
    more = Load(
        x.events_per_hour, x.avg_event_bytes, x.event_types * k, x.late_spread_hours, x.dedupe, x.region
    )
    assert plan(bigger, PROD_LIKE).shards >= plan(x, PROD_LIKE).shards
    # Relative and absolute slack: at rates like 1e-301 events an hour the model's intermediates underflow
    # (found by Hypothesis: 1.29761909e-301 against 1.29762216e-301 partitions); a billionth of a partition
    # is rounding at any scale, never a plan with fewer partitions.
    fewer = plan(x, PROD_LIKE).mean_active_partitions * (1 - 1e-9) - 1e-9
    assert plan(more, PROD_LIKE).mean_active_partitions >= fewer


@given(st.floats(0, 1, exclude_max=True), st.floats(0.01, 48))
def test_late_shares_of_an_arrival_moment_sum_to_one(f: float, spread: float) -> None:
    shares = [capacity.share_in_hour(f, k, spread) for k in range(math.ceil(spread) + 2)]
    assert sum(shares) == pytest.approx(1.0) and all(0 <= s <= 1 for s in shares)


@pytest.mark.parametrize(
    "bad",
    [dict(events_per_hour=-1), dict(avg_event_bytes=0), dict(event_types=0), dict(late_spread_hours=-1),
     dict(duplicate_share=1.0), dict(events_per_record=0), dict(events_per_hour=float("nan"))],
)  # fmt: skip
def test_impossible_loads_are_refused(bad: dict[str, object]) -> None:
    values: dict[str, object] = dict(
        events_per_hour=1e6,
        avg_event_bytes=222,
        event_types=100,
        late_spread_hours=1,
        dedupe=CLAIMS,
        region=EU,
    )
    with pytest.raises(ValueError, match="load must have"):
        Load(**{**values, **bad})  # type: ignore[arg-type]


def test_a_mode_is_named_or_refused() -> None:
    assert load(1e6, dedupe="compaction").dedupe is COMPACTION
    with pytest.raises(ValueError, match="dedupe mode must be one of claims, compaction, off"):
        load(1e6, dedupe="sometimes")
    with pytest.raises(ValueError, match=r"a glue\.marks dedupe mode"):
        load(1e6, dedupe=True)


# --- the sized stack files --------------------------------------------------------------------------------

SIZED = {"small": 1e3, "prod": 1e6, "huge": 1e9}


@pytest.mark.parametrize(("stack", "events"), SIZED.items())
def test_each_sized_stack_matches_what_its_declared_load_needs(stack: str, events: float) -> None:
    s = Settings.from_stack_file(stack)
    declared = Load.declared(s, stack_config(stack)["aws:region"])
    assert declared.events_per_hour == events  # 1/1000x, 1x, 1000x of the seed's ~1M events an hour
    p = plan(declared, s)
    assert p.mismatches(s) == {} and p.crossed == ()


def test_the_1000x_stack_with_claims_would_cross_the_table_quota() -> None:
    s = Settings.from_stack_file("huge")
    on = Settings(**{**vars(s), "dedupe": "claims"})
    p = plan(Load.declared(on, EU), on)
    assert [c.key for c in p.crossed] == ["dedupe"]
    assert p.mismatches(on) == {"dedupe": ("claims", "compaction")}
    assert p.usd_by_component()["DynamoDB claims"] > 2 * plan(Load.declared(s, EU), s).usd_per_month


def test_prod_with_a_1000x_load_names_every_key_to_change() -> None:
    s = Settings.from_stack_file("prod")
    p = plan(Load(1e9, 222, 100, 1, CLAIMS, EU), s)
    assert {c.key for c in p.crossed} == {"streamShardCount", "dedupe"}
    assert set(p.mismatches(s)) == {"streamShardCount", "dedupe"}


def test_1000x_keeps_its_marks_for_under_30_cents_a_million_events() -> None:
    """Issue 24's target: huge marks duplicates (compaction) and costs at most $0.30 per million events."""
    s = Settings.from_stack_file("huge")
    p = plan(Load.declared(s, EU), s)
    assert p.load.dedupe is COMPACTION and p.recommended["dedupe"] == "compaction"
    assert p.usd_per_million_events <= 0.30


def test_1x_in_compaction_mode_is_under_30_cents_a_million_events() -> None:
    """Issue 24's target: prod's load and stack with ``dedupe: compaction`` (its stream kept 7 days)."""
    s = dataclasses_replace(Settings.from_stack_file("prod"), dedupe="compaction")
    p = plan(Load.declared(s, EU), s)
    assert p.load.dedupe is COMPACTION and p.usd_per_million_events <= 0.30


def test_a_stack_without_a_declared_load_is_refused() -> None:
    with pytest.raises(ValueError, match="expectedEventsPerHour"):
        Load.declared(Settings.from_stack_file("dev"), EU)


# --- the measured constants, re-measured ------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample() -> list[tuple[bytes, bytes, str]]:
    """(raw line, the transform's output, event type) for 24,000 sample events (600+ of each type)."""
    from eventlake.traffic import sample_events
    from transform_lambda.claims import NoClaims
    from transform_lambda.handler import process

    rng = random.Random(11)
    start = sample_events.window_start(datetime(2026, 11, 29, tzinfo=UTC), 1)
    raws = [sample_events.encode(sample_events.valid_event(rng, start, 1), rng) for _ in range(24_000)]
    records = [
        firehose_records.request_record(
            record_id=str(i), data=firehose_records.encode(raw), arrival_ms=1_800_000_000_000,
            shard_id="shardId-000000000000", partition_key="k", sequence_number=str(10**20 + i),
            subsequence_number=0,
        )
        for i, raw in enumerate(raws)
    ]  # fmt: skip
    out = process({"records": records}, claims=NoClaims(), log=lambda _: None)["records"]
    assert all(r["result"] == "Ok" for r in out)
    import orjson

    rows = [base64.b64decode(r["data"]) for r in out]
    return [
        (raw, row, orjson.loads(row)["event_name"].split(":")[0]) for raw, row in zip(raws, rows, strict=True)
    ]


def test_the_transform_output_ratio_is_as_measured(sample: list[tuple[bytes, bytes, str]]) -> None:
    raw, out = sum(len(r) for r, _, _ in sample), sum(len(o) for _, o, _ in sample)
    assert out / raw == pytest.approx(capacity.TRANSFORMED_BYTES_PER_RAW_BYTE, rel=0.05)


def test_the_backup_ratio_is_as_measured(sample: list[tuple[bytes, bytes, str]]) -> None:
    import gzip

    raw = b"".join(r for r, _, _ in sample)
    assert len(gzip.compress(raw)) / len(raw) == pytest.approx(capacity.BACKUP_BYTES_PER_RAW_BYTE, rel=0.1)


@pytest.mark.slow
@pytest.mark.parametrize("compression", sorted(capacity.PARQUET_BYTES_PER_RAW_BYTE))
@pytest.mark.parametrize("rows", [20, 200, 600])
def test_partitions_parquet_objects_are_the_size_predicted(
    sample: list[tuple[bytes, bytes, str]], compression: str, rows: int
) -> None:
    """One object per event type, written by the local model's Parquet writer (Firehose's serializer
    settings): together within 10 % of the model's overhead + rows x bytes per raw byte. Single types vary
    more (their payloads compress differently); the model predicts the mean over a lake's partitions."""
    from eventlake.firehose_formats import conversion

    by_type: dict[str, list[tuple[bytes, bytes, str]]] = collections.defaultdict(list)
    for item in sample:
        by_type[item[2]].append(item)
    sizes, predicted = [], []
    for items in by_type.values():
        if len(items) < rows:
            continue
        chosen = items[:rows]
        table, _, failures = conversion.convert([o for _, o, _ in chosen])
        assert failures == []
        sizes.append(len(conversion.to_parquet(table, compression=compression)))
        raw = sum(len(r) for r, _, _ in chosen)
        per_raw_byte = capacity.PARQUET_BYTES_PER_RAW_BYTE[compression]
        predicted.append(capacity.PARQUET_OBJECT_OVERHEAD_BYTES[compression] + raw * per_raw_byte)
    assert len(sizes) == len(by_type) >= 17
    assert sum(sizes) == pytest.approx(sum(predicted), rel=0.10)


def test_the_raw_backup_moves_to_glacier_instant_retrieval_and_is_billed_its_90_days() -> None:
    """prod: raw/ 7 days in Standard, then Instant Retrieval until day 90, billed 90 days there (its minimum,
    as 83 < 90), one transition request an object; without backupArchiveDays all 90 days in Standard."""
    s = Settings.from_stack_file("prod")
    assert s.backup_archive_days == 7 and s.backup_retention_days == 90
    load = Load.declared(s, EU)
    archived = {c.price_key: c for c in plan(load, s).costs if "raw backup" in c.item}
    standard = {
        c.price_key: c
        for c in plan(load, dataclasses_replace(s, backup_archive_days=0)).costs
        if "raw backup" in c.item
    }
    day_gb = standard["s3_standard_gb_month"].quantity / 90
    assert archived["s3_standard_gb_month"].quantity == pytest.approx(day_gb * 7)
    assert archived["s3_glacier_ir_gb_month"].quantity == pytest.approx(day_gb * 90)
    transitions = next(c for c in plan(load, s).costs if c.price_key == "s3_glacier_ir_transition_request")
    puts = next(c for c in plan(load, s).costs if c.item == "PUTs (raw backup objects)")
    assert transitions.quantity == pytest.approx(puts.quantity)
    assert "s3_glacier_ir_gb_month" not in standard
    saved = sum(c.usd_per_month for c in standard.values()) - sum(c.usd_per_month for c in archived.values())
    assert saved > 1.5  # $2.77 -> $0.76 a month at prod


def test_raw_backup_objects_under_128_kb_stay_in_standard() -> None:
    """small's backup objects are a few KB: moving them would bill each as 128 KB, plus a request."""
    s = dataclasses_replace(Settings.from_stack_file("small"), backup_archive_days=7)
    lines = plan(Load.declared(s, EU), s).costs
    assert not [c for c in lines if c.price_key.startswith("s3_glacier_ir")]
    assert any(c.item == f"raw backup in Standard ({s.backup_retention_days} days, GZIP)" for c in lines)


def test_access_logs_are_priced_from_the_requests_the_plan_counts() -> None:
    s = Settings.from_stack_file("prod")
    assert s.access_logging
    p = plan(Load.declared(s, EU), s)
    [logs] = [c for c in p.costs if c.item.startswith("access logs")]
    requests = sum(
        c.quantity
        for c in p.costs
        if c.price_key in {"s3_put_request", "s3_get_request", "s3_glacier_ir_transition_request"}
    )
    kept = s.access_log_retention_days + s.noncurrent_version_days
    assert logs.quantity == pytest.approx(requests * 500 / 2**30 * kept / (730 / 24))
    quiet = plan(Load.declared(s, EU), dataclasses_replace(s, access_logging=False))
    assert not [c for c in quiet.costs if c.item.startswith("access logs")]
