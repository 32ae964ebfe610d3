"""Kinesis: shards by both write limits, the stream's hours, PUT payload units and retention."""

from __future__ import annotations

import math

from aws_contract import limits
from infra.capacity.calibration import BILLING_GB, HOURS_PER_MONTH
from infra.capacity.plan_model import CostLine, PriceTable, cost_line, per_month
from infra.settings import Settings


def kinesis_costs(
    mode: str, shards: int, records_ps: float, record_bytes: float, settings: Settings, prices: PriceTable
) -> list[CostLine]:
    c = "Kinesis"
    extra_hours = max(0, settings.stream_retention_hours - 24)
    if mode == "PROVISIONED":
        units = math.ceil(record_bytes / limits.KINESIS_PUT_PAYLOAD_UNIT_BYTES)
        lines = [
            cost_line(
                c, f"{shards} shards", shards * HOURS_PER_MONTH, "shard-hours", "kinesis_shard_hour", prices
            ),
            cost_line(
                c,
                "PUT payload units",
                per_month(records_ps) * units,
                "units",
                "kinesis_put_payload_unit",
                prices,
            ),
        ]
        if extra_hours:
            lines.append(
                cost_line(
                    c,
                    f"retention {settings.stream_retention_hours} h",
                    shards * HOURS_PER_MONTH,
                    "shard-hours",
                    "kinesis_extended_retention_shard_hour",
                    prices,
                )
            )
        return lines
    billed = math.ceil(record_bytes / limits.KINESIS_ON_DEMAND_BILLING_RECORD_BYTES)
    gb_in = per_month(records_ps) * billed * limits.KINESIS_ON_DEMAND_BILLING_RECORD_BYTES / BILLING_GB
    gb_out = per_month(records_ps) * record_bytes / BILLING_GB  # Firehose reads each record once
    lines = [
        cost_line(
            c, "on-demand stream", HOURS_PER_MONTH, "stream-hours", "kinesis_on_demand_stream_hour", prices
        ),
        cost_line(c, "data in (1 KB per record)", gb_in, "GB", "kinesis_on_demand_data_in_gb", prices),
        cost_line(c, "data out (Firehose)", gb_out, "GB", "kinesis_on_demand_data_out_gb", prices),
    ]
    if extra_hours:
        kept = gb_in / HOURS_PER_MONTH * extra_hours
        lines.append(
            cost_line(
                c, "retention beyond 24 h", kept, "GB-months", "kinesis_on_demand_retention_gb_month", prices
            )
        )
    return lines
