"""The compactor: its runs, Athena's scans, its Lambda and its S3 requests."""

from __future__ import annotations

import math
import re

from aws_contract import limits
from glue.compactor_contract import BATCH_MAX_BYTES, DEFAULT_PARALLEL
from infra.capacity.calibration import (
    ATHENA_BYTES_PER_TB,
    ATHENA_GETS_PER_OBJECT,
    ATHENA_RESULT_PUTS,
    BATCH_QUERY_CHARS,
    BILLING_GB,
    COMPACTOR_CALL_SECONDS,
    COPY_OBJECTS,
    DAYS_PER_MONTH,
    HOURS_PER_DAY,
    HOURS_PER_MONTH,
    MEMBER_QUERY_CHARS,
    PREVIOUS_COPY_OBJECTS,
    SOURCE_QUERY_CHARS,
    STAGING_STORED_DAYS,
    STATEMENT_GETS,
    STATEMENT_GLUE_CALLS,
    STATEMENT_PUTS,
    UNLOAD_BYTES_PER_SECOND,
    UNLOAD_SECONDS,
)
from infra.capacity.plan_model import CompactionFlow, CostLine, Load, PriceTable, cost_line
from infra.settings import Settings

# A cron schedule the model cannot count runs of is taken as hourly.
_RATE = re.compile(r"rate\(([0-9]+) (minute|hour|day)s?\)")
_PER_HOUR = {"minute": 60.0, "hour": 1.0, "day": 1 / 24}


def runs_per_hour(schedule: str) -> float:
    """Runs an hour of an EventBridge schedule: ``rate(n unit)`` exactly; a ``cron`` from its minute and hour
    fields, every day (one an hour when the model cannot count them)."""
    rate = _RATE.fullmatch(schedule)
    if rate:
        return _PER_HOUR[rate[2]] / int(rate[1])
    fields = schedule.removeprefix("cron(").removesuffix(")").split()
    try:
        return _cron_count(fields[0], 60) * _cron_count(fields[1], 24) / 24
    except (IndexError, ValueError):
        return 1.0


def _cron_count(field: str, size: int) -> int:
    """How many of ``size`` values a cron field selects: ``*``, ``n``, ``a-b``, ``a/s``, ``*/s``, lists."""
    count = 0
    for part in field.split(","):
        base, _, step = part.partition("/")
        first, _, last = base.partition("-")
        every = first in ("*", "?")
        low = 0 if every else int(first)
        high = size - 1 if every or (step and not last) else int(last or first)
        count += len(range(low, high + 1, int(step or 1)))
    return max(1, count)


def arrived_by(hours: float, spread: float) -> float:
    """Share of an event hour's events that have arrived ``hours`` after the hour began: event times uniform
    over the hour, delays uniform over ``spread`` hours (``share_in_hour``'s model)."""

    def within(y: float) -> float:  # the integral of min(1, max(0, s / spread)) from 0 to y
        if y <= 0:
            return 0.0
        if spread <= 0 or y > spread:
            return y - spread / 2 if spread > 0 else y
        return y * y / (2 * spread)

    return min(1.0, within(hours) - within(hours - 1))


def compaction_flow(load: Load, settings: Settings, parquet_ph: float, objects_ph: float) -> CompactionFlow:
    """The compactor's work for a steady load: each type-hour holding events is UNLOADed at the first run
    after it closes (``compactionLateWindowHours``), again at each later run within the lookback that finds
    late objects (Poisson: a run finds one when an event of that type-hour arrived since the previous run)."""
    runs_ph = runs_per_hour(settings.compaction_schedule)
    per_type = load.events_per_hour / load.event_types  # events of one type-hour
    partitions_ph = load.event_types * -math.expm1(-per_type)
    interval, lookback = 1 / runs_ph, settings.compaction_lookback_hours
    at = 1.0 + settings.compaction_late_window_hours  # hours after the event hour began
    arrived, late = arrived_by(at, load.late_spread_hours), 0.0
    while arrived < 1 and at + interval <= lookback:
        at += interval
        now = arrived_by(at, load.late_spread_hours)
        late += -math.expm1(-per_type * (now - arrived))
        arrived = now
    recompactions_ph = load.event_types * late
    closed_hours = max(0, lookback - settings.compaction_late_window_hours)
    candidates = partitions_ph * closed_hours
    # Each type's listing runs from the lookback's first date to now: the lookback's hours plus the rest of
    # that first day at most; a page per 1,000 keys of the type's hours in it (originals, and copies).
    listed_hours = (math.ceil(lookback / HOURS_PER_DAY) + 1) * HOURS_PER_DAY if closed_hours else 0
    hours_of_type = (partitions_ph / load.event_types) * listed_hours if load.event_types else 0.0
    per_type_hour = objects_ph / partitions_ph if partitions_ph else 0.0
    pages = math.ceil(hours_of_type * per_type_hour / limits.S3_LIST_MAX_KEYS) + math.ceil(
        hours_of_type * (COPY_OBJECTS + recompactions_ph / max(partitions_ph, 1e-9)) / limits.S3_LIST_MAX_KEYS
    )
    lists = min(load.event_types, candidates) * pages
    partition_bytes = parquet_ph / partitions_ph if partitions_ph else 0.0
    statements = (partitions_ph + recompactions_ph) / runs_ph
    tags = (objects_ph + PREVIOUS_COPY_OBJECTS * recompactions_ph) / runs_ph
    calls = (
        lists
        + recompactions_ph / runs_ph
        + statements * (STATEMENT_PUTS + STATEMENT_GETS + STATEMENT_GLUE_CALLS)
        + tags
    )
    members = batch_members(partition_bytes, per_type_hour) if statements > 1 else 1.0
    members = min(members, statements) if statements else 1.0
    unloads = statements / members
    unload = UNLOAD_SECONDS + members * partition_bytes / UNLOAD_BYTES_PER_SECOND
    copies = statements if members > 1 else 0.0
    return CompactionFlow(
        runs_per_hour=runs_ph,
        partitions_per_hour=partitions_ph,
        recompactions_per_hour=recompactions_ph,
        candidates_per_run=candidates,
        lists_per_run=lists,
        billed_bytes_per_statement=max(members * partition_bytes, limits.ATHENA_MIN_BILLED_BYTES_PER_QUERY),
        seconds_per_run=(calls + copies) * COMPACTOR_CALL_SECONDS
        + unloads * unload / (1 if members > 1 else DEFAULT_PARALLEL),
        partitions_per_unload=members,
        partition_bytes=partition_bytes,
    )


def batch_members(partition_bytes: float, objects_each: float) -> float:
    """How many partitions of ``partition_bytes`` share one UNLOAD: 1 when a partition bills Athena's
    minimum on its own, else as many as ``BATCH_MAX_BYTES`` and one query string hold (the compactor's
    ``BatchStatement`` text, its length calibrated for members reading ``objects_each`` objects)."""
    if partition_bytes >= limits.ATHENA_MIN_BILLED_BYTES_PER_QUERY:
        return 1.0
    by_text = (limits.ATHENA_QUERY_MAX_CHARS - BATCH_QUERY_CHARS) // member_query_chars(objects_each)
    by_bytes = BATCH_MAX_BYTES // max(1.0, partition_bytes)
    return float(max(1, min(by_text, by_bytes)))


def member_query_chars(objects_each: float) -> int:
    """Characters one member adds to a batch's query text when it reads ``objects_each`` objects (one at
    least, a part object as a whole one)."""
    return MEMBER_QUERY_CHARS + max(1, math.ceil(objects_each)) * SOURCE_QUERY_CHARS


def batch_query_chars(members: int, objects_each: float) -> int:
    """The model's length of a batched UNLOAD's query text (``infra.capacity.calibration``)."""
    return BATCH_QUERY_CHARS + members * member_query_chars(objects_each)


def compaction_costs(flow: CompactionFlow, objects_ph: float, prices: PriceTable) -> list[CostLine]:
    """Athena's scans, the compactor Lambda, and the S3 requests of both (the same in every dedupe mode:
    the marks ride on the UNLOAD that compaction runs anyway)."""
    from infra.compaction_spec import MEMORY_MB

    c = "Compaction"
    runs = flow.runs_per_hour * HOURS_PER_MONTH
    statements = flow.statements_per_hour * HOURS_PER_MONTH
    unloads = flow.unloads_per_hour * HOURS_PER_MONTH
    copies = statements if flow.batched else 0.0
    # Each partition's manifest and marker and its one file; each UNLOAD's own manifest and metadata; a
    # batched partition's copy out of the staging folder.
    puts = statements * (STATEMENT_PUTS + 1) + unloads * ATHENA_RESULT_PUTS + copies
    objects_each = objects_ph / flow.partitions_per_hour if flow.partitions_per_hour else 0.0
    tags = (objects_ph + PREVIOUS_COPY_OBJECTS * flow.recompactions_per_hour) * HOURS_PER_MONTH
    manifests = flow.recompactions_per_hour * HOURS_PER_MONTH  # a copy's manifest, when late objects came
    gets = manifests + statements * (STATEMENT_GETS + ATHENA_GETS_PER_OBJECT * objects_each)
    return [
        cost_line(
            c,
            "Athena UNLOAD scans of each closed hour's objects (10 MB an UNLOAD at least; small "
            "partitions share one)",
            unloads * flow.billed_bytes_per_statement / ATHENA_BYTES_PER_TB,
            "TB",
            "athena_tb_scanned",
            prices,
        ),
        cost_line(
            c,
            f"compactor, arm64 {MEMORY_MB} MB (assumed S3 and Athena latencies)",
            runs * flow.seconds_per_run * MEMORY_MB / 1024,
            "GB-s",
            "lambda_arm64_gb_second",
            prices,
        ),
        cost_line(c, "compactor requests (one per run)", runs, "requests", "lambda_request", prices),
        cost_line(
            c,
            "S3 LISTs: every run lists each type's folders from its lookback's first day",
            runs * flow.lists_per_run,
            "requests",
            "s3_put_request",
            prices,
        ),
        cost_line(
            c,
            "S3 PUTs: copies, manifests, markers (and staged files' copies)",
            puts,
            "requests",
            "s3_put_request",
            prices,
        ),
        cost_line(
            c,
            f"staged batch files ({STAGING_STORED_DAYS} days, then expired)",
            copies * flow.partition_bytes * STAGING_STORED_DAYS / DAYS_PER_MONTH / BILLING_GB,
            "GB-months",
            "s3_standard_gb_month",
            prices,
        ),
        cost_line(c, "S3 tags on superseded objects", tags, "requests", "s3_put_request", prices),
        cost_line(
            c,
            "S3 GETs: manifests, and Athena reading the objects",
            gets,
            "requests",
            "s3_get_request",
            prices,
        ),
    ]
