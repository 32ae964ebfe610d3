"""S3 storage and requests, the KMS key and its requests, CloudWatch Logs."""

from __future__ import annotations

import math

from infra.capacity.calibration import (
    BACKUP_BYTES_PER_RAW_BYTE,
    BILLING_GB,
    HOURS_PER_MONTH,
    KMS_REQUESTS_PER_CLIENT_HOUR,
    LOG_BYTES_PER_INVOCATION,
    REGISTRAR_LOG_BYTES,
)
from infra.capacity.plan_model import CostLine, PriceTable, cost_line, per_month
from infra.settings import Settings


def s3_costs(
    parquet_ph: float,
    objects_ph: float,
    backup_ph: float,
    raw_ps: float,
    settings: Settings,
    prices: PriceTable,
) -> list[CostLine]:
    c = "S3"
    month_gb = parquet_ph * HOURS_PER_MONTH / BILLING_GB
    backup_gb = raw_ps * BACKUP_BYTES_PER_RAW_BYTE * 86_400 * settings.backup_retention_days / BILLING_GB
    lines = [
        cost_line(
            c,
            f"{'Parquet' if settings.uses_lambda else 'JSON Lines, GZIP'}, each month's data "
            "(the lake grows by this)",
            month_gb,
            "GB-months",
            "s3_standard_gb_month",
            prices,
        ),
        cost_line(
            c, "PUTs (data objects)", objects_ph * HOURS_PER_MONTH, "requests", "s3_put_request", prices
        ),
    ]
    if settings.source_backup:
        lines += [
            cost_line(
                c,
                f"raw backup ({settings.backup_retention_days} days, GZIP)",
                backup_gb if raw_ps else 0.0,
                "GB-months",
                "s3_standard_gb_month",
                prices,
            ),
            cost_line(
                c,
                "PUTs (raw backup objects)",
                backup_ph * HOURS_PER_MONTH,
                "requests",
                "s3_put_request",
                prices,
            ),
        ]
    return lines


def kms_costs(shards: int, concurrency: float, dedupe: bool, prices: PriceTable) -> list[CostLine]:
    clients = (
        2 * shards + math.ceil(concurrency) * (2 if dedupe else 1) + 1
    )  # producers+Firehose, Lambdas, S3
    requests = clients * KMS_REQUESTS_PER_CLIENT_HOUR * HOURS_PER_MONTH
    return [
        cost_line("KMS", "the lake key", 1, "key-months", "kms_key_month", prices),
        cost_line("KMS", "requests (data keys re-used ~5 min)", requests, "requests", "kms_request", prices),
    ]


def log_costs(
    invocations_ps: float, objects_ph: float, settings: Settings, prices: PriceTable
) -> list[CostLine]:
    ingested = (
        per_month(invocations_ps) * LOG_BYTES_PER_INVOCATION
        + objects_ph * HOURS_PER_MONTH * REGISTRAR_LOG_BYTES
    )
    gb = ingested / BILLING_GB
    kept = gb * settings.log_retention_days / 30
    return [
        cost_line(
            "CloudWatch Logs",
            "ingested (transform, registrar)",
            gb,
            "GB",
            "cloudwatch_logs_ingestion_gb",
            prices,
        ),
        cost_line(
            "CloudWatch Logs",
            f"stored ({settings.log_retention_days} days)",
            kept,
            "GB-months",
            "cloudwatch_logs_storage_gb_month",
            prices,
        ),
    ]
