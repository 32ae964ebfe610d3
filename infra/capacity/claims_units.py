"""The claims table (``dedupe: claims``): writes, reads, storage and recovery, on demand or provisioned."""

from __future__ import annotations

import math

from infra.capacity.calibration import HOURS_PER_MONTH, PROVISIONED_TARGET_USE
from infra.capacity.plan_model import CostLine, PriceTable, cost_line, per_month
from infra.claims_spec import (
    PROVISIONED,
    ClaimsCapacity,
)
from infra.settings import Settings


def provisioned_units(per_second: float, minimum: int) -> int:
    """What target tracking provisions for a steady ``per_second``: its use at the target, not below the
    scalable target's minimum."""
    return max(minimum, math.ceil(per_second / PROVISIONED_TARGET_USE - 1e-9))


def claims_costs(
    writes_ps: float,
    reads_ps: float,
    stored_gb: float,
    capacity: ClaimsCapacity | None,
    settings: Settings,
    prices: PriceTable,
) -> list[CostLine]:
    """On demand: each write and read request; PROVISIONED: the capacity auto scaling keeps at the target
    (bursts of a batch's claims come from DynamoDB's burst capacity, not priced). Storage either way."""
    if capacity is None:
        return []
    c = "DynamoDB claims"
    if settings.claims_billing_mode == PROVISIONED:
        target = capacity.target_utilization_percent
        wcu = provisioned_units(writes_ps, capacity.writes.min_units)
        rcu = provisioned_units(reads_ps, capacity.reads.min_units)
        lines = [
            cost_line(
                c,
                f"writes, {wcu:,} WCU provisioned ({target} % use)",
                wcu * HOURS_PER_MONTH,
                "WCU-hours",
                "dynamodb_provisioned_wcu_hour",
                prices,
            ),
            cost_line(
                c,
                f"reads, {rcu:,} RCU provisioned ({target} % use)",
                rcu * HOURS_PER_MONTH,
                "RCU-hours",
                "dynamodb_provisioned_rcu_hour",
                prices,
            ),
        ]
    else:
        lines = [
            cost_line(
                c,
                "writes (one INSERT per event)",
                per_month(writes_ps),
                "WRU",
                "dynamodb_write_request_unit",
                prices,
            ),
            cost_line(
                c,
                "reads (duplicates' holders)",
                per_month(reads_ps),
                "RRU",
                "dynamodb_read_request_unit",
                prices,
            ),
        ]
    lines += [
        cost_line(
            c,
            f"storage ({settings.dedupe_ttl_days} days of claims)",
            stored_gb,
            "GB-months",
            "dynamodb_storage_gb_month",
            prices,
        )
    ]
    if settings.dedupe_point_in_time_recovery:
        lines.append(
            cost_line(c, "point-in-time recovery", stored_gb, "GB-months", "dynamodb_pitr_gb_month", prices)
        )
    return lines
