"""The transform Lambda and the partition registrar: GB-seconds and requests."""

from __future__ import annotations

from infra.capacity.calibration import HOURS_PER_MONTH, REGISTRAR_SECONDS_PER_OBJECT
from infra.capacity.plan_model import CostLine, PriceTable, cost_line, per_month
from infra.settings import SECONDS_PER_HOUR, Settings


def lambda_costs(
    invocations_ps: float, concurrency: float, objects_ph: float, settings: Settings, prices: PriceTable
) -> list[CostLine]:
    from infra.registration_spec import MEMORY_MB as REGISTRAR_MEMORY_MB

    c = "Lambda"
    gb_s = concurrency * SECONDS_PER_HOUR * HOURS_PER_MONTH * settings.lambda_memory_mb / 1024
    registrar_calls = objects_ph * HOURS_PER_MONTH
    registrar_gb_s = registrar_calls * REGISTRAR_SECONDS_PER_OBJECT * REGISTRAR_MEMORY_MB / 1024
    return [
        cost_line(
            c,
            f"transform, arm64 {settings.lambda_memory_mb} MB",
            gb_s,
            "GB-s",
            "lambda_arm64_gb_second",
            prices,
        ),
        cost_line(c, "transform requests", per_month(invocations_ps), "requests", "lambda_request", prices),
        cost_line(c, "partition registrar", registrar_gb_s, "GB-s", "lambda_arm64_gb_second", prices),
        cost_line(
            c, "registrar requests (one per object)", registrar_calls, "requests", "lambda_request", prices
        ),
    ]
