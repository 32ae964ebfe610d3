"""``processor: jq`` in the capacity model (``infra/capacity/``): no transform, claims or conversion,
JQ processing hours and the records as sent instead; and the README's side-by-side comparison is this model's
output for the prod stack, not numbers written by hand."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from glue import marks
from infra import capacity
from infra.capacity import HOURS_PER_MONTH, Load, PriceTable, by_processor
from infra.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"
OTHER = ("Kinesis", "S3", "Lambda", "KMS", "CloudWatch Logs")


@pytest.fixture(scope="module")
def prod() -> tuple[Settings, dict[str, capacity.CapacityPlan]]:
    settings = Settings.from_stack_file("prod")
    return settings, by_processor(Load.declared(settings, "eu-west-1"), settings)


def test_jq_mode_has_no_transform_claims_or_conversion_and_pays_jq_hours(prod) -> None:
    settings, plans = prod
    lam, jq = plans["lambda"], plans["jq"]
    keys = {line.price_key for line in jq.costs}
    assert "firehose_format_conversion_gb" not in keys and "dynamodb_write_request_unit" not in keys
    assert "firehose_format_conversion_gb" in {line.price_key for line in lam.costs}
    assert "DynamoDB claims" not in jq.usd_by_component()
    assert [line.item for line in jq.costs if line.component == "Lambda"] == [
        "partition registrar",
        "registrar requests (one per object)",
    ]
    assert jq.invocations_per_second == jq.concurrency == jq.dedupe_writes_per_second == 0
    assert (
        "dedupe" not in jq.recommended
        and jq.dedupe_recommended is None
        and not jq.mismatches(dataclasses.replace(settings, processor="jq"))
    )
    (jq_line,) = [line for line in jq.costs if line.price_key == "firehose_jq_processing_hour"]
    events = jq.load.events_per_hour * HOURS_PER_MONTH
    assert jq_line.quantity == pytest.approx(events * capacity.JQ_SECONDS_PER_RECORD / 3600)
    assert jq_line.usd_per_month == pytest.approx(
        jq_line.quantity * PriceTable.load("us-east-1")["firehose_jq_processing_hour"]
    )
    # What does not depend on the processor is the same: the stream, ingestion (5 KB a record).
    for key in ("firehose_ingestion_gb", "kinesis_shard_hour"):
        assert [c.usd_per_month for c in lam.costs if c.price_key == key] == [
            c.usd_per_month for c in jq.costs if c.price_key == key
        ], key
    # The objects depend on the bytes only through a buffer filling before its interval: rare at 1M/h, both
    # modes write the same objects within 0.3 % (the transform's rows are 2.35x the raw bytes, jq's 1x).
    (lam_objects,) = [
        c.usd_per_month for c in lam.costs if c.price_key == "firehose_dynamic_partitioning_object"
    ]
    (jq_objects,) = [
        c.usd_per_month for c in jq.costs if c.price_key == "firehose_dynamic_partitioning_object"
    ]
    assert jq_objects == pytest.approx(lam_objects, rel=3e-3)
    # Delivered bytes are the GZIP'd records as sent, not the Parquet of the transformed rows.
    assert jq.parquet_bytes_per_hour < lam.parquet_bytes_per_hour
    assert jq.usd_per_month < lam.usd_per_month


def test_a_jq_stack_is_never_told_it_crosses_the_claims_quota() -> None:
    settings = dataclasses.replace(Settings(stack="x"), processor="jq")
    load = Load(
        events_per_hour=1e9,
        avg_event_bytes=222,
        event_types=100,
        late_spread_hours=1,
        dedupe=marks.CLAIMS,
        region="us-east-1",
    )
    assert not any("DynamoDB" in limit.limit for limit in capacity.plan(load, settings).crossed)


def _cells(row_title: str) -> tuple[str, str]:
    """The Lambda and jq cells of one row of the README's comparison table."""
    for line in README.read_text().splitlines():
        if line.startswith(f"| {row_title} |"):
            _, _, lam, jq, _ = line.split("|")
            return lam, jq
    raise AssertionError(f"no README row {row_title!r}")


def _dollars(cell: str) -> list[str]:
    return re.findall(r"\$([0-9](?:[0-9,.]*[0-9])?)", cell)


def test_the_readme_comparison_is_the_models_output(prod) -> None:
    _, plans = prod

    def whole(x: float) -> str:
        return f"{round(x):,}"

    lam_total, jq_total = _cells("a month (per million events)")
    for cell, p in ((lam_total, plans["lambda"]), (jq_total, plans["jq"])):
        assert _dollars(cell) == [whole(p.usd_per_month), f"{p.usd_per_million_events:.2f}"]
    lam_fh, jq_fh = _cells("Firehose")
    by = {m: {c.price_key: c.usd_per_month for c in p.costs} for m, p in plans.items()}
    assert _dollars(lam_fh) == [
        whole(plans["lambda"].usd_by_component()["Firehose"]),
        whole(by["lambda"]["firehose_ingestion_gb"]),
        whole(by["lambda"]["firehose_format_conversion_gb"]),
    ]
    assert _dollars(jq_fh)[:3] == [
        whole(plans["jq"].usd_by_component()["Firehose"]),
        whole(by["jq"]["firehose_ingestion_gb"]),
        whole(by["jq"]["firehose_jq_processing_hour"]),
    ]
    lam_claims, jq_claims = _cells("DynamoDB claims")
    assert _dollars(lam_claims) == [whole(plans["lambda"].usd_by_component()["DynamoDB claims"])]
    assert "none" in jq_claims
    # The compactor rewrites the transform's Parquet table (its Athena scans, Lambda and S3 requests); jq mode
    # has no such table and no compactor (Settings.compacts).
    lam_compaction, jq_compaction = _cells("Compaction")
    assert _dollars(lam_compaction)[:2] == [
        whole(plans["lambda"].usd_by_component()["Compaction"]),
        whole(sum(c.usd_per_month for c in plans["lambda"].costs if c.item.startswith("S3 LISTs"))),
    ]
    assert jq_compaction.strip().startswith("none") and "Compaction" not in plans["jq"].usd_by_component()
    assert plans["jq"].compaction is None
    lam_rest, jq_rest = _cells("Kinesis (1 shard), S3, Lambda (the registrar too), KMS, logs")
    for cell, p in ((lam_rest, plans["lambda"]), (jq_rest, plans["jq"])):
        assert _dollars(cell) == [whole(sum(p.usd_by_component().get(c, 0.0) for c in OTHER))]
    assert plans["jq"].shards == 1


def test_the_readme_latency_row_is_the_freshness_floor_of_each_mode(prod) -> None:
    settings, _ = prod
    lam, jq = _cells("arrival → delivered, healthy (`prod`: the freshness alarm's floor)")
    assert f"≤ {settings.min_alarm_freshness_seconds:g} s" in lam
    jq_settings = dataclasses.replace(settings, processor="jq")
    assert f"≤ {jq_settings.min_alarm_freshness_seconds:g} s" in jq
