"""Firehose: ingestion (5 KB steps), Parquet conversion, dynamic partitioning, JQ processing."""

from __future__ import annotations

import math

from aws_contract import limits
from infra.capacity.calibration import BILLING_GB, HOURS_PER_MONTH, JQ_SECONDS_PER_RECORD
from infra.capacity.plan_model import CostLine, PriceTable, cost_line, per_month
from infra.settings import SECONDS_PER_HOUR


def firehose_costs(
    eps: float,
    records_ps: float,
    record_bytes: float,
    delivered_ph: float,
    objects_ph: float,
    transform: bool,
    prices: PriceTable,
) -> list[CostLine]:
    """Ingestion (each record rounded up to 5 KB), then Parquet conversion (counted like ingestion) with the
    Lambda, or JQ processing hours without it; dynamic partitioning per GB delivered and per object."""
    c = "Firehose"
    billed = (
        math.ceil(record_bytes / limits.FIREHOSE_BILLING_RECORD_BYTES) * limits.FIREHOSE_BILLING_RECORD_BYTES
    )
    gb = per_month(records_ps) * billed / BILLING_GB
    delivered = delivered_ph * HOURS_PER_MONTH / BILLING_GB
    if transform:
        step = cost_line(
            c, "Parquet conversion (5 KB per record)", gb, "GB", "firehose_format_conversion_gb", prices
        )
    else:  # the query runs on each de-aggregated event
        jq_hours = per_month(eps) * JQ_SECONDS_PER_RECORD / SECONDS_PER_HOUR
        step = cost_line(
            c,
            "JQ processing (assumed 0.25 ms a record)",
            jq_hours,
            "hours",
            "firehose_jq_processing_hour",
            prices,
        )
    return [
        cost_line(c, "ingestion (5 KB per record)", gb, "GB", "firehose_ingestion_gb", prices),
        step,
        cost_line(
            c, "dynamic partitioning, data", delivered, "GB", "firehose_dynamic_partitioning_gb", prices
        ),
        cost_line(
            c,
            "dynamic partitioning, objects",
            objects_ph * HOURS_PER_MONTH,
            "objects",
            "firehose_dynamic_partitioning_object",
            prices,
        ),
    ]
