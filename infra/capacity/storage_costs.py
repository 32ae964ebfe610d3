"""S3 storage and requests, the KMS key and its requests, CloudWatch Logs."""

from __future__ import annotations

import math
from collections.abc import Sequence

from aws_contract import limits
from infra.capacity.calibration import (
    ACCESS_LOG_BYTES_PER_REQUEST,
    BACKUP_BYTES_PER_RAW_BYTE,
    BILLING_GB,
    DAYS_PER_MONTH,
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
    lines = [
        cost_line(
            c,
            f"{settings.processing.stored_format}, each month's data (the lake grows by this)",
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
        lines += backup_costs(backup_ph, raw_ps, settings, prices)
    return lines


def backup_costs(backup_ph: float, raw_ps: float, settings: Settings, prices: PriceTable) -> list[CostLine]:
    """``raw/``: in S3 Standard for ``backupArchiveDays`` (all of ``backupRetentionDays`` when 0), then in S3
    Glacier Instant Retrieval, billed at least its 90 days (``infra.lake_bucket.archive_backup_rule``), one
    transition request an object; objects under its 128 KB minimum stay in Standard."""
    c = "S3"
    day_gb = raw_ps * BACKUP_BYTES_PER_RAW_BYTE * 86_400 / BILLING_GB
    object_bytes = raw_ps * BACKUP_BYTES_PER_RAW_BYTE * 3_600 / backup_ph if backup_ph else 0.0
    retention, archive = settings.backup_retention_days, settings.backup_archive_days
    moves = bool(archive) and object_bytes > limits.S3_GLACIER_IR_MIN_BILLABLE_BYTES
    standard_days = archive if moves else retention
    lines = [
        cost_line(
            c,
            f"raw backup in Standard ({standard_days} days, GZIP)",
            day_gb * standard_days,
            "GB-months",
            "s3_standard_gb_month",
            prices,
        ),
        cost_line(
            c, "PUTs (raw backup objects)", backup_ph * HOURS_PER_MONTH, "requests", "s3_put_request", prices
        ),
    ]
    if moves:
        billed = max(retention - archive, limits.S3_GLACIER_IR_MIN_STORAGE_DAYS)
        lines += [
            cost_line(
                c,
                f"raw backup in Glacier Instant Retrieval (days {archive}-{retention}, billed {billed})",
                day_gb * billed,
                "GB-months",
                "s3_glacier_ir_gb_month",
                prices,
            ),
            cost_line(
                c,
                "transitions of raw backup objects",
                backup_ph * HOURS_PER_MONTH,
                "requests",
                "s3_glacier_ir_transition_request",
                prices,
            ),
        ]
    return lines


def access_log_costs(costs: Sequence[CostLine], settings: Settings, prices: PriceTable) -> list[CostLine]:
    """``accessLogging``: S3 delivers a log record for every request the plan counts on the lake bucket (its
    PUT, LIST, GET and transition lines) at no charge; the records are stored in S3 Standard for
    ``accessLogRetentionDays`` and, versioned, ``noncurrentVersionDays`` more. Readers' Athena scans add to
    it (not counted: they depend on the queries)."""
    if not settings.access_logging:
        return []
    keys = {"s3_put_request", "s3_get_request", "s3_glacier_ir_transition_request"}
    requests = sum(c.quantity for c in costs if c.price_key in keys)
    month_gb = requests * ACCESS_LOG_BYTES_PER_REQUEST / BILLING_GB
    kept_days = settings.access_log_retention_days + settings.noncurrent_version_days
    return [
        cost_line(
            "S3",
            f"access logs ({kept_days} days, ~{ACCESS_LOG_BYTES_PER_REQUEST} B a request)",
            month_gb * kept_days / DAYS_PER_MONTH,
            "GB-months",
            "s3_standard_gb_month",
            prices,
        )
    ]


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
