"""Firehose: ingestion (5 KB steps), Parquet conversion, dynamic partitioning, JQ processing.

With KPL-aggregated producers the 5 KB step is an open question. Firehose's pricing page bills Kinesis Data
Streams-sourced ingestion "per GB ingested in 5KB increments" per record, and format conversion on the same
GBs; its guides say Firehose "de-aggregates the records before it delivers them to the destination" (and to
the Lambda). Neither says whether the record rounded up is the aggregated Kinesis record (one 25 KB aggregate
billed 25 KB) or each de-aggregated user record (each 222-byte event still billed 5 KB). ``plan`` prices
both and keeps the second in its total (``ASSUMED``): it claims no Firehose saving AWS has not documented.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from aws_contract import limits
from infra.capacity.calibration import BILLING_GB, HOURS_PER_MONTH
from infra.capacity.plan_model import CostLine, PriceTable, cost_line, per_month

if TYPE_CHECKING:
    from infra.processors import Processor

PER_USER_RECORD = "per de-aggregated user record"
PER_AGGREGATE = "per aggregated Kinesis record"
BILLINGS = (PER_USER_RECORD, PER_AGGREGATE)
ASSUMED = PER_USER_RECORD  # the conservative reading: aggregation saves nothing on Firehose


def firehose_costs(
    eps: float,
    records_ps: float,
    record_bytes: float,
    delivered_ph: float,
    objects_ph: float,
    processor: Processor,
    prices: PriceTable,
    note: str = "",
) -> list[CostLine]:
    """Ingestion (each record of ``record_bytes``, ``records_ps`` a second, rounded up to 5 KB), then Parquet
    conversion (the pricing page bills it on the GBs ingested, in 5 KB increments) with the Lambda, or JQ
    processing hours without it (the ``processor``'s own line); dynamic partitioning per GB delivered and
    per object. ``note`` names the
    billing reading in the items when producers aggregate."""
    c = "Firehose"
    per = f"5 KB {note}" if note else "5 KB per record"
    billed = (
        math.ceil(record_bytes / limits.FIREHOSE_BILLING_RECORD_BYTES) * limits.FIREHOSE_BILLING_RECORD_BYTES
    )
    gb = per_month(records_ps) * billed / BILLING_GB
    delivered = delivered_ph * HOURS_PER_MONTH / BILLING_GB
    return [
        cost_line(c, f"ingestion ({per})", gb, "GB", "firehose_ingestion_gb", prices),
        processor.firehose_processing(eps, gb, per, prices),
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
