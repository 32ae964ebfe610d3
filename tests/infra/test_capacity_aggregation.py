"""Sizing with KPL-aggregating producers (issue 30): the aggregate's own bytes priced (format, each event's
key), both of a shard's write limits and PUT units counted per Kinesis record, Firehose under both readings of
its undocumented billing of aggregates, and the ``huge`` stack sized for them (<= 100 shards, Kinesis >= 3x
cheaper), as its stack file, ``eventlake sizing`` and the README's 1000x row say."""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aws_contract import kpl_aggregation, limits
from eventlake.cli.main import main
from infra.capacity import PARTITION_KEY_BYTES, CapacityPlan, Load, plan
from infra.capacity.firehose_billing import PER_AGGREGATE, PER_USER_RECORD
from infra.capacity.planner import kinesis_record_bytes
from infra.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"
EU = "eu-west-1"


def huge_plans() -> tuple[CapacityPlan, CapacityPlan]:
    """``huge`` as declared (aggregating producers), and the same load one event a record."""
    s = Settings.from_stack_file("huge")
    declared = Load.declared(s, EU)
    return plan(declared, s), plan(dataclasses.replace(declared, events_per_record=1), s)


def test_huge_is_sized_for_aggregating_producers() -> None:
    """Issue 30's first "done when": <= 100 shards and a monthly Kinesis cost at least 3x lower."""
    s = Settings.from_stack_file("huge")
    aggregated, single = huge_plans()
    assert s.expected_events_per_record == aggregated.load.events_per_record == 95
    assert aggregated.shards == s.stream_shard_count == 89 <= 100
    assert (aggregated.shards_by_records, aggregated.shards_by_bytes) == (3, 72)
    assert (single.shards_by_records, single.shards_by_bytes, single.shards) == (278, 69, 348)
    kinesis, before = aggregated.usd_by_component()["Kinesis"], single.usd_by_component()["Kinesis"]
    assert before / kinesis >= 3
    assert (round(kinesis), round(before)) == (2382, 19111)
    assert aggregated.mismatches(s) == {} and aggregated.crossed == ()
    # The stack as deployed cannot carry producers that do not aggregate, and says which key to change.
    assert single.mismatches(s) == {"streamShardCount": (89, 348)}
    assert {c.key for c in single.crossed} == {"streamShardCount"}


def test_huge_declares_what_send_aggregate_packs() -> None:
    """95 is how many 222-byte events keyed by their ids ``pack`` puts in one record (its 25 KB limit), and
    the sizing's record size is that record's, byte for byte."""
    events = [kpl_aggregation.UserRecord(str(uuid.UUID(int=i)), b"x" * 221 + b"\n") for i in range(1, 1_000)]
    first = next(kpl_aggregation.pack(events))
    assert len(first.records) == Settings.from_stack_file("huge").expected_events_per_record
    load = Load(1e9, 222, 100, 1, "compaction", EU, events_per_record=len(first.records))
    assert kinesis_record_bytes(load) == len(first.data) + len(first.partition_key) == 25_516
    assert len(first.partition_key) == PARTITION_KEY_BYTES
    assert kinesis_record_bytes(load) <= kpl_aggregation.AGGREGATE_MAX_BYTES


def test_firehose_is_priced_both_ways_and_the_total_assumes_each_user_record() -> None:
    aggregated, single = huge_plans()
    assert aggregated.firehose_billing == PER_USER_RECORD
    by = aggregated.firehose_usd_by_billing
    # Per user record: nothing changes (each event 5 KB); per aggregate: 25,516 B billed as 5 x 5 KB.
    assert by[PER_USER_RECORD] == pytest.approx(single.usd_by_component()["Firehose"])
    assert by[PER_USER_RECORD] == pytest.approx(aggregated.usd_by_component()["Firehose"])
    ratio = by[PER_USER_RECORD] - by[PER_AGGREGATE]
    assert by[PER_AGGREGATE] < by[PER_USER_RECORD] / 15 and ratio > 150_000
    totals = aggregated.usd_per_month_by_firehose_billing()
    assert totals[PER_USER_RECORD] == pytest.approx(aggregated.usd_per_month)
    assert totals[PER_AGGREGATE] == pytest.approx(aggregated.usd_per_month - ratio)
    # Without aggregation the two readings are one.
    assert single.firehose_usd_by_billing[PER_AGGREGATE] == pytest.approx(
        single.firehose_usd_by_billing[PER_USER_RECORD]
    )
    names = {c.item for c in aggregated.costs if c.component == "Firehose"}
    assert "ingestion (5 KB per user record, assumed)" in names


def test_an_aggregate_over_the_record_limit_is_flagged_by_its_key() -> None:
    load = Load(1e6, 222, 100, 1, "claims", EU, events_per_record=5_000)  # ~1.3 MB a record
    crossed = {c.key: c for c in plan(load, Settings(stack="t")).crossed}
    assert crossed["expectedEventsPerRecord"].allowed == limits.KINESIS_RECORD_MAX_BYTES
    assert crossed["expectedEventsPerRecord"].needed == kinesis_record_bytes(load) > limits.MIB


@given(n=st.integers(1, 3_000), event=st.integers(1, 2_000), key=st.integers(1, 256))
def test_the_priced_aggregate_is_the_encoded_one(n: int, event: int, key: int) -> None:
    records = [kpl_aggregation.UserRecord(f"{i:0{key}d}"[-key:], b"e" * event) for i in range(n)]
    if len({r.partition_key for r in records}) < n:  # the table holds each distinct key once
        return
    assert kpl_aggregation.aggregate_bytes(n, event, key) == len(kpl_aggregation.encode(records))


@given(n=st.integers(1, 400), more=st.integers(1, 400))
def test_more_events_a_record_never_need_more_records_or_put_units(n: int, more: int) -> None:
    s = Settings(stack="t")
    few, many = (plan(Load(1e8, 222, 100, 1, "off", EU, events_per_record=k), s) for k in (n, n + more))
    assert many.records_per_second < few.records_per_second
    assert many.shards_by_records <= few.shards_by_records
    units = {p.load.events_per_record: c.quantity for p in (few, many) for c in p.costs if "PUT" in c.item}
    assert units.get(n + more, 0.0) <= units.get(n, 0.0) + 1e-6


def test_sizing_takes_the_stack_s_events_per_record_or_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sizing", "--stack", "huge", "--output", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    k, f = doc["kinesis"], doc["firehose"]
    assert (k["events_per_record"], k["record_bytes"], k["shards"]) == (95, 25_516, 89)
    assert f["billing_assumed"] == PER_USER_RECORD and "not" in f["billing_note"]
    assert (
        set(f["usd_per_month_by_billing"])
        == set(f["total_usd_per_month_by_billing"])
        == {
            PER_USER_RECORD,
            PER_AGGREGATE,
        }
    )
    assert f["total_usd_per_month_by_billing"][PER_USER_RECORD] == pytest.approx(doc["usd_per_month"])
    # Producers that do not aggregate: huge's 89 shards are too few, exit 1 naming the key.
    assert main(["sizing", "--stack", "huge", "--events-per-record", "1", "--output", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["mismatches"] == {"streamShardCount": {"stack": 89, "recommended": 348}}
    # Without a stack: one event a record unless asked.
    assert main(["sizing", "--events-per-hour", "1e9", "--output", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["kinesis"]["events_per_record"] == 1


def test_the_table_output_states_the_billing_assumption(capsys: pytest.CaptureFixture[str]) -> None:
    main(["sizing", "--stack", "huge"])
    printed = " ".join(capsys.readouterr().out.split())
    assert "events per record (KPL aggregates), record size" in printed and "95, 25.5 KB" in printed
    assert "not whether its 5 KB billing step applies to the aggregate" in printed
    aggregated, _ = huge_plans()
    other = aggregated.usd_per_month_by_firehose_billing()[PER_AGGREGATE]
    assert f"{other:,.2f}" in printed


def _huge_cell(title: str) -> str:
    for line in README.read_text().splitlines():
        if line.startswith(f"| {title}"):
            return line.split("|")[4]
    raise AssertionError(f"no README row {title!r}")


def test_the_readme_1000x_row_shows_both_with_the_assumption() -> None:
    aggregated, single = huge_plans()
    shards = _huge_cell("shards needed by 1,000 records/s / by 1 MiB/s")
    assert f"{aggregated.shards_by_records} / **{aggregated.shards_by_bytes}**" in shards
    assert f"**{single.shards_by_records}** / {single.shards_by_bytes}" in shards
    stream = _huge_cell("`streamMode`, `streamShardCount`")
    kinesis, before = aggregated.usd_by_component()["Kinesis"], single.usd_by_component()["Kinesis"]
    assert f"**{aggregated.shards}** for aggregating producers" in stream
    assert f"**${kinesis:,.0f}**" in stream and f"{single.shards} shards, ${before:,.0f}" in stream
    assert f"{before / kinesis:.1f}x" in stream
    by = aggregated.firehose_usd_by_billing
    assert "assumed: AWS does not say" in stream
    assert re.search(rf"\${by[PER_AGGREGATE]:,.0f}, not \${by[PER_USER_RECORD]:,.0f}", stream)
