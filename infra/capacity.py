"""What a load needs from AWS and what it costs a month: the model behind ``eventlake sizing``, for the
stack's ``processor`` (with ``jq`` no transform, no claims, no Parquet conversion: JQ processing hours and the
records as sent, GZIP, instead).

A load (events per hour, their size, the number of event types, how late events arrive, the dedupe mode of
``glue.marks``, the Region) is turned into Kinesis shards (by both of a shard's write limits), Firehose active
partitions and S3 objects (each partition's buffer flushes when it reaches ``bufferingSizeMib`` or
``bufferingIntervalSeconds`` after its first record), Lambda invocations and concurrency, claims-table write
units (``claims`` only; on demand, or provisioned with the bounds of ``infra.claims_spec``), the compactor's
runs (every stack that compacts: its Athena scans, its Lambda, its S3 requests), and one cost line per
billed item from a price table kept in ``infra/prices/``. Each dedupe mode is priced on the same load, and
the plan says which it recommends and why. Every AWS limit comes from ``aws_contract.limits``;
every limit the load crosses is reported with the stack key that changes it, and the stack settings that carry
the load (``recommended``) are what the sized stack files (``Pulumi.small|prod|huge.yaml``) must hold.

Model (stated, so a reader can check it): records arrive as a Poisson flow, spread evenly over the event
types; an event's delay is uniform over ``late_spread_hours`` (0: every event lands in the hour it arrives),
so at each moment of the hour a type's events fall into the current hour and the ``late_spread_hours`` before
it. A partition receiving ``r`` records/s opens a buffer at its first record and delivers it ``T =
min(interval, size / (r x bytes per record))`` later, so it is active ``rT / (1 + rT)`` of the time and writes
``1 / (T + 1/r)`` objects per second holding ``1 + rT`` records each (Firehose's own definition: "if the
dynamic partitioning query constructs 3 partitions per second and ... delivery every 60 seconds, ... on
average you would have 180 active partitions"). The hour is cut into ``TIME_STEPS`` slices and averaged; the
peak is the largest slice.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from aws_contract import limits
from glue import marks
from infra import sizing
from infra.claims_spec import (
    CLAIM_WRITE_UNITS_PER_EVENT,
    DUPLICATE_SHARE,
    PROVISIONED,
    TABLE_MAX_UNITS,
    TARGET_UTILIZATION_PERCENT,
    ClaimsCapacity,
)
from infra.settings import PROCESSORS, SECONDS_PER_HOUR, Settings

HOURS_PER_MONTH = 730  # AWS's pricing month
BILLING_GB = 2**30  # AWS bills "GB" of data as 2^30 bytes
PRICES_DIR = Path(__file__).resolve().parent / "prices"
FALLBACK_PRICE_REGION = "us-east-1"
TIME_STEPS = 120

# --- Measured on this repository's sample events (the demo's generator), 2026-11-29 ------------------------
# tests/infra/test_capacity.py re-measures each of these and fails if one drifts by more than its tolerance.
# The transform's output (what Firehose's S3 buffer counts, before conversion) per raw event byte: enrichment
# adds columns and re-serialises the payload as a JSON string.
TRANSFORMED_BYTES_PER_RAW_BYTE = 2.21
# One partition's Parquet object (one event type, Firehose's serializer settings): a fixed part (footer,
# schema, page headers) plus bytes per raw event byte. SNAPPY and GZIP: least relative squares over objects of
# 10 to 1,500 rows of each of the sample's 17 types; UNCOMPRESSED: the slope from 100 to 1,000 rows. One
# type's object is within ~10 % on average (25 % at worst: payloads compress differently); the total over
# all types within 10 % (tests/infra/test_capacity.py).
PARQUET_OBJECT_OVERHEAD_BYTES = {"SNAPPY": 3_900, "GZIP": 4_150, "UNCOMPRESSED": 4_000}
PARQUET_BYTES_PER_RAW_BYTE = {"SNAPPY": 0.40, "GZIP": 0.26, "UNCOMPRESSED": 0.80}
# The raw source backup (GZIP) per raw byte.
BACKUP_BYTES_PER_RAW_BYTE = 0.27
# processor jq: data objects are the records as sent, GZIP, like the raw backup (its measured ratio; a small
# object of one type compresses a little worse).
AS_SENT_BYTES_PER_RAW_BYTE = BACKUP_BYTES_PER_RAW_BYTE
# processor jq: Firehose bills the hours its JQ query runs; AWS publishes neither a per-record time nor how it
# meters them. Assumed: libjq's time through the jq bindings on this machine, ~230 us a record (the deployed
# query, one core, 2026-11-29), rounded up. The deployed stream's JQProcessing.Duration gives the real figure.
JQ_SECONDS_PER_RECORD = 0.25e-3
# BENCHMARKS.md (2026-11-29, one core of the 2-core machine, the compiled path built): the handler at 172,390
# records/s without a claim store, 77,449 with one that answers at once (its fingerprints, holders and marks);
# and the claim store's own time in the handler through a DynamoDB double answering in 5 ms: 0.25 s for
# 10,000 records. Claims cost both per record; the marks within a batch (dedupe: compaction) only the first,
# an upper bound (they need fingerprints and marks, not holders; not measured apart).
TRANSFORM_SECONDS_PER_RECORD = 1 / 172_390
MARKS_SECONDS_PER_RECORD = 1 / 77_449 - 1 / 172_390
CLAIM_SECONDS_PER_RECORD = 0.25 / 10_000 + MARKS_SECONDS_PER_RECORD
# Claims write one unit per event (infra.claims_spec: the bench measured 0.986, every INSERT won or lost).
# A claim: key, holder (shard, sequence, subsequence), fingerprint and expiry, ~120 bytes, plus the 100 bytes
# DynamoDB adds to every item for billing (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/
# CapacityUnitCalculations.html).
CLAIM_ITEM_BYTES = 220
# Producers key each record by its event_uuid (36 characters), which counts toward a shard's bytes.
PARTITION_KEY_BYTES = 36
# Shards are sized so the mean load uses at most this share of a shard: hash keys never spread perfectly.
SHARD_UTILIZATION = 0.8
# A provisioned claims table with auto scaling keeps its capacity this far above use (infra.claims_spec).
PROVISIONED_TARGET_USE = TARGET_UTILIZATION_PERCENT / 100
# Log volume per transform invocation (START, END, REPORT and the "batch processed" line with its embedded
# metrics) and per registrar invocation; an estimate from the demo's log lines, not a measurement of AWS.
LOG_BYTES_PER_INVOCATION = 1_500
REGISTRAR_LOG_BYTES = 600
# The registrar's work per object (one Glue call); assumed, its cost is a rounding error either way.
REGISTRAR_SECONDS_PER_OBJECT = 0.1
# Services re-use a KMS data key for minutes, not per request (S3 bucket keys, Kinesis, DynamoDB): assumed
# one request per reader or writer every five minutes.
KMS_REQUESTS_PER_CLIENT_HOUR = 12

# --- The compactor (lake_compactor.compactor), per run -----------------------------------------------------
# Athena bills a query's bytes scanned in decimal TB, at least 10 MB a query (https://aws.amazon.com/athena/
# pricing/). An UNLOAD of a partition reads its current copy and its new objects: counted as all its bytes.
ATHENA_MIN_SCAN_BYTES = 10_000_000
ATHENA_BYTES_PER_TB = 10**12
# Every run looks at every closed partition in the lookback (Compactor.run: _settle, then plan), listing
# each type's original and compacted folders once for all its days and hours, from the first day of its
# lookback to now (Compactor._list: StartAfter), a page of 1,000 keys per request; it GETs a copy's
# manifest only when an object is newer than the copy (a late arrival), so once per re-compaction.
HOURS_PER_DAY = 24
# A compacted type-hour holds its copy's file, manifest and .retired marker (a re-compaction adds the next).
COPY_OBJECTS = 3
# Per UNLOAD: PUT-class requests for the run's manifest, its .retired marker, UNLOAD's file and Athena's own
# result manifest and metadata, plus a tag per object the switch supersedes (each original once; a
# re-compaction also the copy before it: file, manifest, marker); GET-class: the marker's HEAD, the manifest's
# GET, and Athena's reads of each object (assumed: its footer, then its data).
STATEMENT_PUTS = 2
ATHENA_PUTS = 3
PREVIOUS_COPY_OBJECTS = 3
STATEMENT_GETS = 2
ATHENA_GETS_PER_OBJECT = 2
# Glue calls per UNLOAD (the source partition, the switch's read and update, the retirement's read).
STATEMENT_GLUE_CALLS = 4
# Assumed, not measured on AWS: one S3 or Glue call from the Lambda takes 20 ms; an UNLOAD 5 s (queue, plan,
# commit) plus its scan at 100 MB/s. The compactor waits on DEFAULT_PARALLEL statements at once.
COMPACTOR_CALL_SECONDS = 0.02
UNLOAD_SECONDS = 5.0
UNLOAD_BYTES_PER_SECOND = 100e6
# A cron schedule the model cannot count runs of is taken as hourly.
_RATE = re.compile(r"rate\(([0-9]+) (minute|hour|day)s?\)")
_PER_HOUR = {"minute": 60.0, "hour": 1.0, "day": 1 / 24}


class PriceError(ValueError):
    """An unknown price key or a value that is not a price; the message names the closest key."""


@dataclass(frozen=True)
class Load:
    """A steady load. ``avg_event_bytes``: a producer's JSON line with its newline; ``late_spread_hours``:
    events arrive up to this long after their event time (uniformly); ``dedupe``: who marks duplicates (a
    ``glue.marks`` mode, or its name); ``events_per_record``: user events per Kinesis record (1 without KPL
    aggregation); the ``*_seconds_per_record`` are one vCPU's time."""

    events_per_hour: float
    avg_event_bytes: float
    event_types: int
    late_spread_hours: float
    dedupe: marks.DedupeMode
    region: str
    duplicate_share: float = DUPLICATE_SHARE
    events_per_record: int = 1
    transform_seconds_per_record: float = TRANSFORM_SECONDS_PER_RECORD
    claim_seconds_per_record: float = CLAIM_SECONDS_PER_RECORD
    marks_seconds_per_record: float = MARKS_SECONDS_PER_RECORD

    def __post_init__(self) -> None:
        if isinstance(self.dedupe, str):  # a mode's name (the CLI, JSON): a ValueError names the valid ones
            object.__setattr__(self, "dedupe", marks.mode(self.dedupe))
        finite = all(map(math.isfinite, (self.events_per_hour, self.avg_event_bytes, self.late_spread_hours)))
        problems = [
            name
            for name, ok in (
                ("finite numbers", finite),
                ("events_per_hour >= 0", self.events_per_hour >= 0),
                ("avg_event_bytes > 0", self.avg_event_bytes > 0),
                ("event_types >= 1", self.event_types >= 1),
                ("late_spread_hours >= 0", self.late_spread_hours >= 0),
                ("0 <= duplicate_share < 1", 0 <= self.duplicate_share < 1),
                ("events_per_record >= 1", self.events_per_record >= 1),
                ("seconds per record > 0", self.transform_seconds_per_record > 0),
                ("a glue.marks dedupe mode", isinstance(self.dedupe, marks.DedupeMode)),
            )
            if not ok
        ]
        if problems:
            raise ValueError(f"load must have {', '.join(problems)}")

    @property
    def events_per_second(self) -> float:
        return self.events_per_hour / SECONDS_PER_HOUR

    @classmethod
    def declared(cls, settings: Settings, region: str) -> Load:
        """The load a stack file declares (``expected*`` keys), with the stack's own dedupe mode."""
        if not settings.expected_events_per_hour:
            raise ValueError(f"stack {settings.stack} declares no load (eventlake:expectedEventsPerHour)")
        return cls(
            events_per_hour=settings.expected_events_per_hour,
            avg_event_bytes=settings.expected_event_bytes,
            event_types=settings.expected_event_types,
            late_spread_hours=settings.expected_late_spread_hours,
            dedupe=settings.dedupe_mode,
            region=region,
        )


@dataclass(frozen=True)
class PriceTable:
    """Prices in USD per unit, from ``infra/prices/<region>.json`` (or us-east-1's when a Region has none),
    with the page each comes from; ``overridden`` names the prices given on the command line."""

    region: str
    requested_region: str
    as_of: str
    usd: Mapping[str, float]
    sources: Mapping[str, str]
    units: Mapping[str, str]
    overridden: frozenset[str] = frozenset()

    def __getitem__(self, key: str) -> float:
        return self.usd[key]

    @classmethod
    def load(cls, region: str, overrides: Mapping[str, float] | None = None) -> PriceTable:
        path = PRICES_DIR / f"{region}.json"
        if not path.exists():
            path = PRICES_DIR / f"{FALLBACK_PRICE_REGION}.json"
        document = json.loads(path.read_text())
        entries: dict[str, dict[str, Any]] = document["prices"]
        usd = {key: float(entry["usd"]) for key, entry in entries.items()}
        for key, value in (overrides or {}).items():
            if key not in usd:
                close = difflib.get_close_matches(key, list(usd), n=1, cutoff=0.5)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise PriceError(f"unknown price {key}{hint}; known: {', '.join(sorted(usd))}")
            if not (math.isfinite(value) and value >= 0):
                raise PriceError(f"price {key} must be a non-negative number, got {value}")
            usd[key] = float(value)
        return cls(
            region=document["region"],
            requested_region=region,
            as_of=document["as_of"],
            usd=usd,
            sources={key: entry["source"] for key, entry in entries.items()},
            units={key: entry["per"] for key, entry in entries.items()},
            overridden=frozenset(overrides or ()),
        )


@dataclass(frozen=True)
class CostLine:
    component: str
    item: str
    quantity: float  # per month
    unit: str
    price_key: str
    usd_per_month: float


@dataclass(frozen=True)
class CrossedLimit:
    """A limit or quota the load crosses with the given settings, and the stack key that changes it."""

    limit: str
    needed: float
    allowed: float
    key: str
    advice: str


@dataclass(frozen=True)
class PartitionFlow:
    """The partitions of one event hour, ``hours_late`` before the arrival hour, over all types."""

    hours_late: int
    events_per_hour: float
    mean_active: float
    objects_per_hour: float
    mean_object_bytes: float
    events_per_object: float


@dataclass(frozen=True)
class CompactionFlow:
    """What the compactor does for a load: a run every ``compactionSchedule``; each lists every closed
    partition in ``compactionLookbackHours`` and UNLOADs those with new objects: each type-hour once when it
    closes, again for each later run that finds late objects."""

    runs_per_hour: float
    partitions_per_hour: float  # type-hours that hold events, each compacted when it closes
    recompactions_per_hour: float  # later UNLOADs of closed hours that late objects reached
    candidates_per_run: float  # closed partitions each run looks at
    lists_per_run: float  # S3 LISTs: each type's original and compacted folders from the lookback's first day
    billed_bytes_per_statement: float  # a partition's bytes, 10 MB at least
    seconds_per_run: float  # the compactor Lambda's, with the assumed latencies

    @property
    def statements_per_hour(self) -> float:
        return self.partitions_per_hour + self.recompactions_per_hour


@dataclass(frozen=True)
class CapacityPlan:
    load: Load
    prices: PriceTable
    # Kinesis
    records_per_second: float
    bytes_per_second: float
    shards_by_records: int
    shards_by_bytes: int
    shards: int  # recommended, with SHARD_UTILIZATION headroom
    stream_mode: str  # recommended
    kinesis_usd_by_mode: Mapping[str, float]
    # Firehose
    delivery_streams: int
    mean_active_partitions: float
    peak_active_partitions: int
    max_partition_bytes_per_second: float
    partitions: tuple[PartitionFlow, ...]
    objects_per_hour: float
    mean_object_bytes: float  # Parquet bytes per delivered data object
    backup_objects_per_hour: float
    parquet_bytes_per_hour: float
    # Lambda
    processor_buffer_mb: float
    invocations_per_second: float
    records_per_invocation: float
    seconds_per_invocation: float
    concurrency: float
    # DynamoDB claims (dedupe: claims)
    dedupe_writes_per_second: float
    dedupe_reads_per_second: float
    claims_stored_gb: float
    claims_billing_mode: str
    # The auto-scaling bounds a provisioned table would have for this load (claims only).
    claims_capacity: ClaimsCapacity | None
    # The claims' writes both ways, whichever is billed: on demand, and provisioned at PROVISIONED_TARGET_USE.
    claims_on_demand_usd_per_month: float
    claims_provisioned_usd_per_month: float
    # The compactor (None when compactionEnabled is false)
    compaction: CompactionFlow | None
    # Money and verdicts
    costs: tuple[CostLine, ...]
    crossed: tuple[CrossedLimit, ...]
    recommended: Mapping[str, Any] = field(default_factory=dict)
    # The same load in each dedupe mode, and the mode this plan recommends with its reason.
    dedupe_usd_by_mode: Mapping[str, float] = field(default_factory=dict)
    dedupe_recommended: str | None = None  # None with processor jq (no transform: no claims to size)
    dedupe_why: str = ""

    @property
    def usd_per_month(self) -> float:
        return sum(line.usd_per_month for line in self.costs)

    @property
    def usd_per_million_events(self) -> float:
        events = self.load.events_per_hour * HOURS_PER_MONTH
        return self.usd_per_month / events * 1e6 if events else 0.0

    def usd_per_million_events_by_mode(self) -> dict[str, float]:
        events = self.load.events_per_hour * HOURS_PER_MONTH
        return {m: usd / events * 1e6 if events else 0.0 for m, usd in self.dedupe_usd_by_mode.items()}

    def usd_by_component(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for line in self.costs:
            out[line.component] = out.get(line.component, 0.0) + line.usd_per_month
        return out

    def mismatches(self, settings: Settings) -> dict[str, tuple[Any, Any]]:
        """Stack keys whose value differs from the recommendation: ``key -> (stack's, recommended)``."""
        from infra.settings import config_key

        current = {config_key(f): getattr(settings, f) for f in _RECOMMENDED_FIELDS}
        return {k: (current[k], v) for k, v in self.recommended.items() if current[k] != v}


_RECOMMENDED_FIELDS = ("stream_mode", "stream_shard_count", "dedupe")


@lru_cache(maxsize=1)
def _processor_buffer_mb() -> float:
    """``infra.sizing``'s computed processor buffer (it runs the real handler, so once per process)."""
    return sizing.processor_buffer_mb()


def plan(load: Load, settings: Settings, prices: PriceTable | None = None) -> CapacityPlan:
    """What ``load`` needs and costs with ``settings``' buffering, Lambda and retention, on the recommended
    stream; ``crossed`` judges the settings as they are (their stream mode, shards and claims billing). The
    load is priced in every dedupe mode too, and ``recommended["dedupe"]`` is the mode the load allows."""
    prices = prices or PriceTable.load(load.region)
    main = _plan(load, settings, prices)
    by_mode = {
        m.name: main if m is load.dedupe else _plan(dataclasses.replace(load, dedupe=m), settings, prices)
        for m in marks.MODES.values()
    }
    mode, why = _recommend_dedupe(main, by_mode, settings)
    recommended = dict(main.recommended)
    if mode is not None:  # processor jq has no claims table: its dedupe is not sized here
        recommended["dedupe"] = mode
    return dataclasses.replace(
        main,
        recommended=recommended,
        dedupe_usd_by_mode={m: p.usd_per_month for m, p in by_mode.items()},
        dedupe_recommended=mode,
        dedupe_why=why,
    )


def _plan(load: Load, settings: Settings, prices: PriceTable) -> CapacityPlan:
    transform = settings.uses_lambda  # processor jq: no transform Lambda, no claims, no conversion
    claims = load.dedupe.claims_table and transform
    batch_marks = load.dedupe.batch_marks and transform
    eps = load.events_per_second
    records_ps = eps / load.events_per_record
    record_bytes = load.avg_event_bytes * load.events_per_record + PARTITION_KEY_BYTES
    bytes_ps = records_ps * record_bytes

    # --- Kinesis: both write limits of a shard -------------------------------------------------------------
    by_records = records_ps / limits.SHARD_WRITE_RECORDS_PER_S
    by_bytes = bytes_ps / limits.SHARD_WRITE_BYTES_PER_S
    shards = max(1, math.ceil(max(by_records, by_bytes) / SHARD_UTILIZATION))
    on_demand_start = limits.ON_DEMAND_INITIAL_SHARDS * SHARD_UTILIZATION
    on_demand_max = _on_demand_max_bytes(load.region)
    on_demand_ok = max(by_records, by_bytes) <= on_demand_start and bytes_ps <= on_demand_max
    kinesis_by_mode = {
        "PROVISIONED": sum(
            c.usd_per_month
            for c in _kinesis_costs("PROVISIONED", shards, records_ps, record_bytes, settings, prices)
        ),
        "ON_DEMAND": sum(
            c.usd_per_month
            for c in _kinesis_costs("ON_DEMAND", shards, records_ps, record_bytes, settings, prices)
        ),
    }
    # On-demand only while its first capacity carries the load, and only when it is the cheaper mode (at a
    # steady load it never is: a shard-hour costs less than the stream-hour and per-GB charges).
    cheaper_on_demand = kinesis_by_mode["ON_DEMAND"] < kinesis_by_mode["PROVISIONED"]
    mode = "ON_DEMAND" if on_demand_ok and cheaper_on_demand else "PROVISIONED"
    reading_shards = shards if mode == "PROVISIONED" else max(shards, limits.ON_DEMAND_INITIAL_SHARDS)

    # --- Firehose: partitions, objects ------------------------------------------------------------------
    batch_s = _processor_batch_seconds(eps * load.avg_event_bytes, reading_shards, settings)
    flows, mean_active, peak_active = _partition_flows(load, settings, batch_s, reading_shards)
    objects_ph = sum(f.objects_per_hour for f in flows)
    mean_object = (
        sum(f.objects_per_hour * f.mean_object_bytes for f in flows) / objects_ph if objects_ph else 0.0
    )
    parquet_ph = objects_ph * mean_object
    per_type_bytes = eps / load.event_types * load.avg_event_bytes * _buffered_per_raw_byte(settings)
    # One event hour gets at most all of a type's events (a spread up to an hour) or 1/spread of them.
    max_partition_bps = per_type_bytes / max(1.0, load.late_spread_hours)
    delivery_streams = max(1, math.ceil(peak_active / limits.ACTIVE_PARTITIONS_MAX))
    raw_ps = eps * load.avg_event_bytes
    backup_ph = _backup_objects_per_hour(raw_ps, settings) if settings.source_backup else 0.0

    # --- Lambda: Firehose's processor buffer, per shard ---------------------------------------------------
    buffer_mb = _processor_buffer_mb() if transform else 0.0
    invocations_ps = (
        _invocations_per_second(raw_ps, eps, reading_shards, buffer_mb, settings) if transform else 0.0
    )
    records_per_inv = eps / invocations_ps if invocations_ps else 0.0
    cpu = load.transform_seconds_per_record
    if claims:
        cpu += load.claim_seconds_per_record
    elif batch_marks:
        cpu += load.marks_seconds_per_record
    slowdown = max(1.0, limits.LAMBDA_MB_PER_VCPU / settings.lambda_memory_mb)
    seconds_per_inv = records_per_inv * cpu * slowdown
    concurrency = invocations_ps * seconds_per_inv

    # --- DynamoDB claims ---------------------------------------------------------------------------------
    writes_ps = eps * CLAIM_WRITE_UNITS_PER_EVENT if claims else 0.0
    reads_ps = eps * load.duplicate_share if claims else 0.0  # losers read back, strongly consistent
    claims_gb = eps * settings.dedupe_ttl_seconds * CLAIM_ITEM_BYTES / BILLING_GB if claims else 0.0
    claims_capacity = ClaimsCapacity.for_load(eps, load.duplicate_share) if claims else None
    claims_lines = _claims_costs(writes_ps, reads_ps, claims_gb, claims_capacity, settings, prices)
    on_demand_writes = _per_month(writes_ps) * prices["dynamodb_write_request_unit"]
    provisioned_writes = (
        _provisioned_units(writes_ps, claims_capacity.writes.min_units)
        * HOURS_PER_MONTH
        * prices["dynamodb_provisioned_wcu_hour"]
        if claims_capacity
        else 0.0
    )

    # --- the compactor -------------------------------------------------------------------------------------
    compaction = (
        _compaction_flow(load, settings, parquet_ph, objects_ph) if settings.compaction_enabled else None
    )

    costs = (
        *_kinesis_costs(mode, shards, records_ps, record_bytes, settings, prices),
        *_firehose_costs(eps, records_ps, record_bytes, parquet_ph, objects_ph, transform, prices),
        *_lambda_costs(invocations_ps, concurrency, objects_ph, settings, prices),
        *claims_lines,
        *(_compaction_costs(compaction, objects_ph, prices) if compaction else ()),
        *_s3_costs(parquet_ph, objects_ph, backup_ph, raw_ps, settings, prices),
        *_kms_costs(reading_shards, concurrency, claims, prices),
        *_log_costs(invocations_ps, objects_ph, settings, prices),
    )
    crossed = _crossed(
        load,
        settings,
        by_records,
        by_bytes,
        peak_active,
        max_partition_bps,
        concurrency,
        seconds_per_inv,
        reading_shards,
        writes_ps,
        compaction,
    )
    recommended: dict[str, Any] = {"streamMode": mode}
    if mode == "PROVISIONED":
        recommended["streamShardCount"] = shards
    return CapacityPlan(
        load=load,
        prices=prices,
        records_per_second=records_ps,
        bytes_per_second=bytes_ps,
        shards_by_records=math.ceil(by_records),
        shards_by_bytes=math.ceil(by_bytes),
        shards=shards,
        stream_mode=mode,
        kinesis_usd_by_mode=kinesis_by_mode,
        delivery_streams=delivery_streams,
        mean_active_partitions=mean_active,
        peak_active_partitions=peak_active,
        max_partition_bytes_per_second=max_partition_bps,
        partitions=tuple(flows),
        objects_per_hour=objects_ph,
        mean_object_bytes=mean_object,
        backup_objects_per_hour=backup_ph,
        parquet_bytes_per_hour=parquet_ph,
        processor_buffer_mb=buffer_mb,
        invocations_per_second=invocations_ps,
        records_per_invocation=records_per_inv,
        seconds_per_invocation=seconds_per_inv,
        concurrency=concurrency,
        dedupe_writes_per_second=writes_ps,
        dedupe_reads_per_second=reads_ps,
        claims_stored_gb=claims_gb,
        claims_billing_mode=settings.claims_billing_mode,
        claims_capacity=claims_capacity,
        claims_on_demand_usd_per_month=on_demand_writes,
        claims_provisioned_usd_per_month=provisioned_writes,
        compaction=compaction,
        costs=tuple(c for c in costs if c.quantity > 0),
        crossed=tuple(crossed),
        recommended=recommended,
    )


def _recommend_dedupe(
    main: CapacityPlan, by_mode: Mapping[str, CapacityPlan], settings: Settings
) -> tuple[str | None, str]:
    """The dedupe mode the stack should hold for this load, and why: the mode asked for (the stack's, or
    ``--dedupe``'s) while the load allows it, compaction when claims would cross the table quota, with what
    the other modes would cost beside it."""
    if not settings.uses_lambda:
        return None, "processor jq: no transform and no claims table, so the dedupe mode is not sized here"
    quota = limits.ON_DEMAND_TABLE_MAX_WRITES_PER_S
    claims = by_mode[marks.CLAIMS.name]
    writes = claims.dedupe_writes_per_second
    fits = writes <= quota
    usd = {m: p.usd_per_month for m, p in by_mode.items()}
    per_million = {m: p.usd_per_million_events for m, p in by_mode.items()}
    compacts = settings.compaction_enabled
    later = (
        f"once its hour is compacted (the first run {settings.compaction_late_window_hours} h or more "
        "after the hour ends; late objects at the next run)"
    )

    def price(m: str) -> str:
        return f"{_usd(usd[m])} a month (${per_million[m]:.2f} per million events)"

    wanted = main.load.dedupe
    if wanted is marks.OFF:
        why = "off, as asked: no marks (the unique_events view stays exact)"
        if compacts:
            why += f"; compaction would mark every row {later} for {price('compaction')}"
        return "off", why
    if wanted is marks.CLAIMS and fits:
        table = claims.usd_by_component().get("DynamoDB claims", 0.0)
        share = table / usd["claims"] if usd["claims"] else 0.0
        why = (
            f"claims, as asked: real-time marks; {writes:,.1f} write units/s fit DynamoDB's table quota "
            f"({quota:,}). The table costs {_usd(table)} of {price('claims')}, {share:.0%}"
        )
        if settings.claims_billing_mode != PROVISIONED:
            provisioned, on_demand = (
                claims.claims_provisioned_usd_per_month,
                claims.claims_on_demand_usd_per_month,
            )
            why += (
                f"; claimsBillingMode PROVISIONED would bill its writes {_usd(provisioned)} a month instead "
                f"of {_usd(on_demand)}"
            )
        if compacts:
            why += f". compaction marks the same rows exactly {later}, for {price('compaction')}"
            if share > 0.5:
                why += ": choose it unless the marks must be real-time"
        return "claims", why
    if wanted is marks.CLAIMS:
        alt = "compaction" if compacts else "off"
        why = (
            f"{alt}: claims would need {writes:,.0f} write units/s, {writes / quota:.1f}x DynamoDB's table "
            f"quota ({quota:,}), and cost {price('claims')}; "
        )
        if compacts:
            return (
                alt,
                why + f"compaction marks the same rows exactly {later}, with no table, for {price(alt)}",
            )
        return alt, why + "with compactionEnabled false nothing else marks them (unique_events stays exact)"
    if compacts:
        why = (
            f"compaction, as asked: no claims table; repeats within a batch are marked at once, every other "
            f"row {later}, for {price('compaction')}. Real-time marks (claims) would add "
            f"{_usd(usd['claims'] - usd['compaction'])} a month"
        )
        return "compaction", why + ("" if fits else f" and need {writes / quota:.1f}x the table quota")
    alt = "claims" if fits else "off"
    return alt, (
        f"{alt}: with compactionEnabled false nothing would mark the rows compaction leaves null; "
        + (f"claims mark them in real time for {price('claims')}" if fits else "claims would cross the quota")
    )


def _usd(x: float) -> str:
    return f"${x:,.2f}" if abs(x) < 10 else f"${x:,.0f}"


def by_processor(load: Load, settings: Settings, prices: PriceTable | None = None) -> dict[str, CapacityPlan]:
    """The same load on the same stack with each ``processor``: the README's side-by-side comparison."""
    return {p: plan(load, dataclasses.replace(settings, processor=p), prices) for p in PROCESSORS}


# --- partitions and objects -------------------------------------------------------------------------------


def _share(f: float, k: int, spread: float) -> float:
    """Share of the events arriving ``f`` (0-1) into an hour whose event time is ``k`` hours earlier."""
    if spread <= 0:
        return 1.0 if k == 0 else 0.0
    low, high = max(0.0, f + k - 1), min(spread, f + k)
    return max(0.0, high - low) / spread


def _processor_batch_seconds(raw_ps: float, shards: int, settings: Settings) -> float:
    """How often each shard's processor batch is delivered when the processor buffer fills before its interval
    passes: a steady load then delivers a batch per shard every ``buffer / bytes per second``. Else 0, as
    without a Lambda: a batch closed by its interval opens at the next record, so batches come at jittered
    times and records reach the S3 buffers about as they arrive (Poisson)."""
    if not settings.uses_lambda or raw_ps <= 0:
        return 0.0
    by_size = _processor_buffer_mb() * limits.MIB * shards / raw_ps
    return by_size if by_size < settings.processor_buffer_interval_seconds else 0.0


def _wait_after_flush(window: float, rate: float, batch_s: float, shards: int) -> float:
    """Mean time from a partition buffer's delivery to the next record that reaches the partition.

    Without a Lambda, records arrive one by one (Poisson): ``1 / rate``. With one, they reach the S3 buffers
    only when a processor batch is delivered: every ``batch_s`` per shard, the shards in independent phases.
    A buffer opened by one shard's batch closes ``window`` later, before that shard's next batch (its own
    wait is ``ceil(window / batch_s) * batch_s - window``) unless another shard's batch comes first; a batch
    holds a record of the partition with probability ``p``, else the wait goes on by a gap between batches.
    """
    if batch_s <= 0:
        return 1 / rate
    gap = batch_s / shards
    p = -math.expm1(-rate * gap)
    own = math.ceil(window / batch_s - 1e-9) * batch_s - window
    first = gap * (1 - (1 - own / batch_s) ** shards)
    return first + gap * (1 / p - 1)


def _partition_flows(
    load: Load, settings: Settings, batch_s: float = 0.0, shards: int = 1
) -> tuple[list[PartitionFlow], float, int]:
    interval = settings.buffering_interval_seconds
    size = settings.buffering_size_mib * limits.MIB
    buffered_bytes = load.avg_event_bytes * _buffered_per_raw_byte(settings)
    if settings.uses_lambda:
        per_row = load.avg_event_bytes * PARQUET_BYTES_PER_RAW_BYTE[settings.parquet_compression]
        overhead = PARQUET_OBJECT_OVERHEAD_BYTES[settings.parquet_compression]
    else:  # the records as sent, GZIP
        per_row, overhead = load.avg_event_bytes * AS_SENT_BYTES_PER_RAW_BYTE, 0
    per_type = load.events_per_second / load.event_types
    offsets = range(math.ceil(load.late_spread_hours) + 1)
    active = {k: 0.0 for k in offsets}
    objects = {k: 0.0 for k in offsets}  # per second, summed over slices
    rows = {k: 0.0 for k in offsets}
    peak = 0.0
    for step in range(TIME_STEPS):
        f = (step + 0.5) / TIME_STEPS
        at_once = 0.0
        for k in offsets:
            rate = per_type * _share(f, k, load.late_spread_hours)
            if rate <= 0:
                continue
            window = min(interval, size / (rate * buffered_bytes))
            # A buffer that fills closes mid-stream (the next record opens the next one); one whose interval
            # runs out waits for the next record to reach the partition.
            wait = _wait_after_flush(window, rate, batch_s, shards) if window >= interval else 1 / rate
            cycle = window + wait
            open_share = window / cycle
            flushes = 1 / cycle
            active[k] += open_share
            objects[k] += flushes
            rows[k] += rate  # each object holds a cycle's events: flushes x rate x cycle
            # Right after a processor batch is delivered its partitions are all open: the ones that were,
            # and the ones it just reached (none without a Lambda: records come one by one).
            reached = -math.expm1(-rate * batch_s / shards) if batch_s > 0 else 0.0
            at_once += 1 - (1 - open_share) * (1 - reached)
        peak = max(peak, at_once)
    flows = []
    for k in offsets:
        objects_ph = objects[k] / TIME_STEPS * SECONDS_PER_HOUR * load.event_types
        events_ph = rows[k] / TIME_STEPS * SECONDS_PER_HOUR * load.event_types
        per_object = events_ph / objects_ph if objects_ph else 0.0
        flows.append(
            PartitionFlow(
                hours_late=k,
                events_per_hour=events_ph,
                mean_active=active[k] / TIME_STEPS * load.event_types,
                objects_per_hour=objects_ph,
                mean_object_bytes=overhead + per_object * per_row if objects_ph else 0.0,
                events_per_object=per_object,
            )
        )
    mean_active = sum(f.mean_active for f in flows)
    return flows, mean_active, math.ceil(peak * load.event_types - 1e-9)


def _buffered_per_raw_byte(settings: Settings) -> float:
    """What Firehose's S3 buffer holds per byte sent: the transform's output, or the record itself (jq)."""
    return TRANSFORMED_BYTES_PER_RAW_BYTE if settings.uses_lambda else 1.0


def _backup_objects_per_hour(raw_ps: float, settings: Settings) -> float:
    """The raw backup is one buffer for the whole stream (not partitioned)."""
    if raw_ps <= 0:
        return 0.0
    window = min(settings.buffering_interval_seconds, settings.buffering_size_mib * limits.MIB / raw_ps)
    return SECONDS_PER_HOUR / window


def _invocations_per_second(
    raw_ps: float, eps: float, shards: int, buffer_mb: float, settings: Settings
) -> float:
    """Each shard's records gather until the processor buffer fills or its interval passes (Firehose polls a
    shard once a second, so never more often than that when the interval is 0)."""
    if eps <= 0:
        return 0.0
    interval = max(settings.processor_buffer_interval_seconds, 1)
    by_size = raw_ps / (buffer_mb * limits.MIB)
    per_shard_rate = eps / shards
    by_time = shards * (1 - math.exp(-per_shard_rate * interval)) / interval
    return max(by_size, by_time)


# --- costs ------------------------------------------------------------------------------------------------


def _line(component: str, item: str, quantity: float, unit: str, key: str, prices: PriceTable) -> CostLine:
    return CostLine(component, item, quantity, unit, key, quantity * prices[key])


def _per_month(per_second: float) -> float:
    return per_second * SECONDS_PER_HOUR * HOURS_PER_MONTH


def _kinesis_costs(
    mode: str, shards: int, records_ps: float, record_bytes: float, settings: Settings, prices: PriceTable
) -> list[CostLine]:
    c = "Kinesis"
    extra_hours = max(0, settings.stream_retention_hours - 24)
    if mode == "PROVISIONED":
        units = math.ceil(record_bytes / limits.KINESIS_PUT_PAYLOAD_UNIT_BYTES)
        lines = [
            _line(
                c, f"{shards} shards", shards * HOURS_PER_MONTH, "shard-hours", "kinesis_shard_hour", prices
            ),
            _line(
                c,
                "PUT payload units",
                _per_month(records_ps) * units,
                "units",
                "kinesis_put_payload_unit",
                prices,
            ),
        ]
        if extra_hours:
            lines.append(
                _line(
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
    gb_in = _per_month(records_ps) * billed * limits.KINESIS_ON_DEMAND_BILLING_RECORD_BYTES / BILLING_GB
    gb_out = _per_month(records_ps) * record_bytes / BILLING_GB  # Firehose reads each record once
    lines = [
        _line(
            c, "on-demand stream", HOURS_PER_MONTH, "stream-hours", "kinesis_on_demand_stream_hour", prices
        ),
        _line(c, "data in (1 KB per record)", gb_in, "GB", "kinesis_on_demand_data_in_gb", prices),
        _line(c, "data out (Firehose)", gb_out, "GB", "kinesis_on_demand_data_out_gb", prices),
    ]
    if extra_hours:
        kept = gb_in / HOURS_PER_MONTH * extra_hours
        lines.append(
            _line(
                c, "retention beyond 24 h", kept, "GB-months", "kinesis_on_demand_retention_gb_month", prices
            )
        )
    return lines


def _firehose_costs(
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
    gb = _per_month(records_ps) * billed / BILLING_GB
    delivered = delivered_ph * HOURS_PER_MONTH / BILLING_GB
    if transform:
        step = _line(
            c, "Parquet conversion (5 KB per record)", gb, "GB", "firehose_format_conversion_gb", prices
        )
    else:  # the query runs on each de-aggregated event
        jq_hours = _per_month(eps) * JQ_SECONDS_PER_RECORD / SECONDS_PER_HOUR
        step = _line(
            c,
            "JQ processing (assumed 0.25 ms a record)",
            jq_hours,
            "hours",
            "firehose_jq_processing_hour",
            prices,
        )
    return [
        _line(c, "ingestion (5 KB per record)", gb, "GB", "firehose_ingestion_gb", prices),
        step,
        _line(c, "dynamic partitioning, data", delivered, "GB", "firehose_dynamic_partitioning_gb", prices),
        _line(
            c,
            "dynamic partitioning, objects",
            objects_ph * HOURS_PER_MONTH,
            "objects",
            "firehose_dynamic_partitioning_object",
            prices,
        ),
    ]


def _lambda_costs(
    invocations_ps: float, concurrency: float, objects_ph: float, settings: Settings, prices: PriceTable
) -> list[CostLine]:
    from infra.registration_spec import MEMORY_MB as REGISTRAR_MEMORY_MB

    c = "Lambda"
    gb_s = concurrency * SECONDS_PER_HOUR * HOURS_PER_MONTH * settings.lambda_memory_mb / 1024
    registrar_calls = objects_ph * HOURS_PER_MONTH
    registrar_gb_s = registrar_calls * REGISTRAR_SECONDS_PER_OBJECT * REGISTRAR_MEMORY_MB / 1024
    return [
        _line(
            c,
            f"transform, arm64 {settings.lambda_memory_mb} MB",
            gb_s,
            "GB-s",
            "lambda_arm64_gb_second",
            prices,
        ),
        _line(c, "transform requests", _per_month(invocations_ps), "requests", "lambda_request", prices),
        _line(c, "partition registrar", registrar_gb_s, "GB-s", "lambda_arm64_gb_second", prices),
        _line(
            c, "registrar requests (one per object)", registrar_calls, "requests", "lambda_request", prices
        ),
    ]


def _provisioned_units(per_second: float, minimum: int) -> int:
    """What target tracking provisions for a steady ``per_second``: its use at the target, not below the
    scalable target's minimum."""
    return max(minimum, math.ceil(per_second / PROVISIONED_TARGET_USE - 1e-9))


def _claims_costs(
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
        wcu = _provisioned_units(writes_ps, capacity.writes.min_units)
        rcu = _provisioned_units(reads_ps, capacity.reads.min_units)
        lines = [
            _line(
                c,
                f"writes, {wcu:,} WCU provisioned ({target} % use)",
                wcu * HOURS_PER_MONTH,
                "WCU-hours",
                "dynamodb_provisioned_wcu_hour",
                prices,
            ),
            _line(
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
            _line(
                c,
                "writes (one INSERT per event)",
                _per_month(writes_ps),
                "WRU",
                "dynamodb_write_request_unit",
                prices,
            ),
            _line(
                c,
                "reads (duplicates' holders)",
                _per_month(reads_ps),
                "RRU",
                "dynamodb_read_request_unit",
                prices,
            ),
        ]
    lines += [
        _line(
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
            _line(c, "point-in-time recovery", stored_gb, "GB-months", "dynamodb_pitr_gb_month", prices)
        )
    return lines


def _runs_per_hour(schedule: str) -> float:
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


def _arrived_by(hours: float, spread: float) -> float:
    """Share of an event hour's events that have arrived ``hours`` after the hour began: event times uniform
    over the hour, delays uniform over ``spread`` hours (``_share``'s model)."""

    def within(y: float) -> float:  # the integral of min(1, max(0, s / spread)) from 0 to y
        if y <= 0:
            return 0.0
        if spread <= 0 or y > spread:
            return y - spread / 2 if spread > 0 else y
        return y * y / (2 * spread)

    return min(1.0, within(hours) - within(hours - 1))


def _compaction_flow(load: Load, settings: Settings, parquet_ph: float, objects_ph: float) -> CompactionFlow:
    """The compactor's work for a steady load: each type-hour holding events is UNLOADed at the first run
    after it closes (``compactionLateWindowHours``), again at each later run within the lookback that finds
    late objects (Poisson: a run finds one when an event of that type-hour arrived since the previous run)."""
    from lake_compactor.compactor import DEFAULT_PARALLEL

    runs_ph = _runs_per_hour(settings.compaction_schedule)
    per_type = load.events_per_hour / load.event_types  # events of one type-hour
    partitions_ph = load.event_types * -math.expm1(-per_type)
    interval, lookback = 1 / runs_ph, settings.compaction_lookback_hours
    at = 1.0 + settings.compaction_late_window_hours  # hours after the event hour began
    arrived, late = _arrived_by(at, load.late_spread_hours), 0.0
    while arrived < 1 and at + interval <= lookback:
        at += interval
        now = _arrived_by(at, load.late_spread_hours)
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
    unload = UNLOAD_SECONDS + partition_bytes / UNLOAD_BYTES_PER_SECOND
    return CompactionFlow(
        runs_per_hour=runs_ph,
        partitions_per_hour=partitions_ph,
        recompactions_per_hour=recompactions_ph,
        candidates_per_run=candidates,
        lists_per_run=lists,
        billed_bytes_per_statement=max(partition_bytes, ATHENA_MIN_SCAN_BYTES),
        seconds_per_run=calls * COMPACTOR_CALL_SECONDS + statements * unload / DEFAULT_PARALLEL,
    )


def _compaction_costs(flow: CompactionFlow, objects_ph: float, prices: PriceTable) -> list[CostLine]:
    """Athena's scans, the compactor Lambda, and the S3 requests of both (the same in every dedupe mode:
    the marks ride on the UNLOAD that compaction runs anyway)."""
    from infra.compaction_spec import MEMORY_MB

    c = "Compaction"
    runs = flow.runs_per_hour * HOURS_PER_MONTH
    statements = flow.statements_per_hour * HOURS_PER_MONTH
    objects_each = objects_ph / flow.partitions_per_hour if flow.partitions_per_hour else 0.0
    tags = (objects_ph + PREVIOUS_COPY_OBJECTS * flow.recompactions_per_hour) * HOURS_PER_MONTH
    manifests = flow.recompactions_per_hour * HOURS_PER_MONTH  # a copy's manifest, when late objects came
    gets = manifests + statements * (STATEMENT_GETS + ATHENA_GETS_PER_OBJECT * objects_each)
    return [
        _line(
            c,
            "Athena UNLOAD scans of each closed hour's objects (10 MB each at least)",
            statements * flow.billed_bytes_per_statement / ATHENA_BYTES_PER_TB,
            "TB",
            "athena_tb_scanned",
            prices,
        ),
        _line(
            c,
            f"compactor, arm64 {MEMORY_MB} MB (assumed S3 and Athena latencies)",
            runs * flow.seconds_per_run * MEMORY_MB / 1024,
            "GB-s",
            "lambda_arm64_gb_second",
            prices,
        ),
        _line(c, "compactor requests (one per run)", runs, "requests", "lambda_request", prices),
        _line(
            c,
            "S3 LISTs: every run lists each type's folders from its lookback's first day",
            runs * flow.lists_per_run,
            "requests",
            "s3_put_request",
            prices,
        ),
        _line(
            c,
            "S3 PUTs: copies, manifests, markers",
            statements * (STATEMENT_PUTS + ATHENA_PUTS),
            "requests",
            "s3_put_request",
            prices,
        ),
        _line(c, "S3 tags on superseded objects", tags, "requests", "s3_put_request", prices),
        _line(
            c,
            "S3 GETs: manifests, and Athena reading the objects",
            gets,
            "requests",
            "s3_get_request",
            prices,
        ),
    ]


def _s3_costs(
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
        _line(
            c,
            f"{'Parquet' if settings.uses_lambda else 'JSON Lines, GZIP'}, each month's data "
            "(the lake grows by this)",
            month_gb,
            "GB-months",
            "s3_standard_gb_month",
            prices,
        ),
        _line(c, "PUTs (data objects)", objects_ph * HOURS_PER_MONTH, "requests", "s3_put_request", prices),
    ]
    if settings.source_backup:
        lines += [
            _line(
                c,
                f"raw backup ({settings.backup_retention_days} days, GZIP)",
                backup_gb if raw_ps else 0.0,
                "GB-months",
                "s3_standard_gb_month",
                prices,
            ),
            _line(
                c,
                "PUTs (raw backup objects)",
                backup_ph * HOURS_PER_MONTH,
                "requests",
                "s3_put_request",
                prices,
            ),
        ]
    return lines


def _kms_costs(shards: int, concurrency: float, dedupe: bool, prices: PriceTable) -> list[CostLine]:
    clients = (
        2 * shards + math.ceil(concurrency) * (2 if dedupe else 1) + 1
    )  # producers+Firehose, Lambdas, S3
    requests = clients * KMS_REQUESTS_PER_CLIENT_HOUR * HOURS_PER_MONTH
    return [
        _line("KMS", "the lake key", 1, "key-months", "kms_key_month", prices),
        _line("KMS", "requests (data keys re-used ~5 min)", requests, "requests", "kms_request", prices),
    ]


def _log_costs(
    invocations_ps: float, objects_ph: float, settings: Settings, prices: PriceTable
) -> list[CostLine]:
    ingested = (
        _per_month(invocations_ps) * LOG_BYTES_PER_INVOCATION
        + objects_ph * HOURS_PER_MONTH * REGISTRAR_LOG_BYTES
    )
    gb = ingested / BILLING_GB
    kept = gb * settings.log_retention_days / 30
    return [
        _line(
            "CloudWatch Logs",
            "ingested (transform, registrar)",
            gb,
            "GB",
            "cloudwatch_logs_ingestion_gb",
            prices,
        ),
        _line(
            "CloudWatch Logs",
            f"stored ({settings.log_retention_days} days)",
            kept,
            "GB-months",
            "cloudwatch_logs_storage_gb_month",
            prices,
        ),
    ]


# --- limits -----------------------------------------------------------------------------------------------


def _on_demand_max_bytes(region: str) -> float:
    if region in limits.KINESIS_LARGE_QUOTA_REGIONS:
        return limits.ON_DEMAND_MAX_WRITE_BYTES_PER_S_LARGE
    return limits.ON_DEMAND_MAX_WRITE_BYTES_PER_S_OTHER


def _shard_quota(region: str) -> int:
    if region in limits.KINESIS_LARGE_QUOTA_REGIONS:
        return limits.STREAM_SHARD_COUNT_RANGE[1]
    return limits.ACCOUNT_SHARD_QUOTA_OTHER


def _crossed(
    load: Load,
    settings: Settings,
    by_records: float,
    by_bytes: float,
    peak_active: int,
    max_partition_bps: float,
    concurrency: float,
    seconds_per_inv: float,
    reading_shards: int,
    writes_ps: float,
    compaction: CompactionFlow | None,
) -> list[CrossedLimit]:
    out: list[CrossedLimit] = []

    def check(limit: str, needed: float, allowed: float, key: str, advice: str) -> None:
        if needed > allowed:
            out.append(CrossedLimit(limit, needed, allowed, key, advice))

    needed = max(by_records, by_bytes)
    if settings.stream_mode == "PROVISIONED":
        have = settings.stream_shard_count
        more = "more shards (or KPL aggregation: more events per Kinesis record)"
        check("Kinesis writes, 1,000 records/s per shard", by_records, have, "streamShardCount", more)
        check("Kinesis writes, 1 MiB/s per shard", by_bytes, have, "streamShardCount", "more shards")
    else:
        check(
            "on-demand stream's initial write capacity (4 shards, then 2x the previous peak)",
            needed,
            limits.ON_DEMAND_INITIAL_SHARDS,
            "streamMode",
            "PROVISIONED with streamShardCount: an on-demand stream throttles until it has scaled up",
        )
        check(
            "on-demand stream's maximum write throughput (bytes/s)",
            by_bytes * limits.SHARD_WRITE_BYTES_PER_S,
            _on_demand_max_bytes(load.region),
            "streamMode",
            "PROVISIONED",
        )
    check(
        f"account shard quota in {load.region}",
        math.ceil(needed / SHARD_UTILIZATION),
        _shard_quota(load.region),
        "streamShardCount",
        "a Service Quotas request",
    )
    if peak_active > limits.ACTIVE_PARTITIONS_MAX:
        check(
            "Firehose active partitions per stream (5,000 at most)",
            peak_active,
            limits.ACTIVE_PARTITIONS_MAX,
            "bufferingIntervalSeconds",
            "fewer event types x open hours per delivery stream: one Kinesis and one delivery stream per "
            "group of event types, producers routing by type (not built); a shorter interval helps only at "
            "low rates",
        )
    else:
        check(
            "Firehose active partitions per stream (500 by default)",
            peak_active,
            limits.ACTIVE_PARTITIONS_DEFAULT,
            "bufferingIntervalSeconds",
            "a Firehose quota request (up to 5,000) before deploying; alarmPartitionPercent watches it",
        )
    check(
        "Firehose throughput per active partition (1 GB/s)",
        max_partition_bps,
        limits.PARTITION_MAX_BYTES_PER_S,
        "expectedEventTypes",
        "a partition key finer than event type x hour (not built)",
    )
    check(
        "Lambda concurrent executions (1,000 by default)",
        concurrency,
        limits.LAMBDA_CONCURRENCY_DEFAULT,
        "lambdaMemoryMb",
        "more memory (CPU) per invocation, up to a whole vCPU, or a quota request",
    )
    check(
        "Firehose Lambda invocations per shard (5 outstanding)",
        concurrency,
        limits.PROCESSOR_INVOCATIONS_PER_SHARD * reading_shards,
        "streamShardCount",
        "more shards, or more lambdaMemoryMb",
    )
    check(
        "transform invocation time vs its duration alarm",
        seconds_per_inv,
        settings.lambda_timeout_seconds * settings.alarm_duration_percent / 100,
        "lambdaMemoryMb",
        "more memory, or a longer lambdaTimeoutSeconds",
    )
    if load.dedupe.claims_table and settings.uses_lambda:
        check(
            "DynamoDB table quota (40,000 write units/s by default)",
            writes_ps,
            limits.ON_DEMAND_TABLE_MAX_WRITES_PER_S,
            "dedupe",
            "compaction (marks made when each hour is compacted, no table), or a table quota request",
        )
        deployed = ClaimsCapacity.from_settings(settings)
        # A maximum at the table quota is the quota's limit, checked above; below it, the declared load's.
        if settings.claims_billing_mode == PROVISIONED and deployed.writes.max_units < TABLE_MAX_UNITS:
            check(
                "claims table's auto-scaling maximum (write units, derived from expectedEventsPerHour)",
                writes_ps / PROVISIONED_TARGET_USE,
                deployed.writes.max_units,
                "expectedEventsPerHour",
                "declare the load the table must carry (its bounds derive from it), or claimsBillingMode "
                "PAY_PER_REQUEST",
            )
    if compaction is not None:
        check(
            "compactor run time (a Lambda runs 15 minutes at most; assumed latencies)",
            compaction.seconds_per_run,
            limits.LAMBDA_MAX_TIMEOUT_S,
            "compactionLookbackHours",
            "a shorter lookback (every run looks at every closed hour in it); what a run cannot finish waits "
            "for the next",
        )
    return out
