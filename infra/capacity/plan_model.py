"""The plan's data: the load, the price table, cost lines, crossed limits, partition and compaction flows,
and the plan itself."""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from glue import marks
from infra.capacity.calibration import (
    CLAIM_SECONDS_PER_RECORD,
    FALLBACK_PRICE_REGION,
    HOURS_PER_MONTH,
    MARKS_SECONDS_PER_RECORD,
    PRICES_DIR,
    TRANSFORM_SECONDS_PER_RECORD,
)
from infra.claims_spec import (
    DUPLICATE_SHARE,
    ClaimsCapacity,
)
from infra.settings import SECONDS_PER_HOUR, Settings, reads, settings_args


class PriceError(ValueError):
    """An unknown price key or a value that is not a price; the message names the closest key."""


@dataclass(frozen=True)
class Load:
    """A steady load. ``avg_event_bytes``: a producer's JSON line with its newline; ``late_spread_hours``:
    events arrive up to this long after their event time (uniformly); ``dedupe``: who marks duplicates (a
    ``glue.marks`` mode, or its name); ``events_per_record``: user events per Kinesis record (1 without KPL
    aggregation); the ``*_seconds_per_record`` are one vCPU's time."""

    # A stack's declared load (``declared``) reads these from its expected* keys and its dedupe mode.
    events_per_hour: float = reads("expected_events_per_hour")
    avg_event_bytes: float = reads("expected_event_bytes")
    event_types: int = reads("expected_event_types")
    late_spread_hours: float = reads("expected_late_spread_hours")
    dedupe: marks.DedupeMode = reads("dedupe_mode")  # noqa: RUF009 (reads returns a dataclasses.field)
    region: str
    duplicate_share: float = DUPLICATE_SHARE
    events_per_record: int = reads("expected_events_per_record", default=1)
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
        return settings_args(cls, settings, region=region)


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
    billed_bytes_per_statement: float  # what one UNLOAD bills: its partitions' bytes, 10 MB at least
    seconds_per_run: float  # the compactor Lambda's, with the assumed latencies
    # Partitions under Athena's 10 MB minimum share an UNLOAD (lake_compactor: BatchStatement), as many as
    # one query string and BATCH_MAX_BYTES hold; 1: each partition its own.
    partitions_per_unload: float = 1.0
    partition_bytes: float = 0.0  # one type-hour's Parquet bytes

    @property
    def statements_per_hour(self) -> float:
        """Partitions compacted an hour (each its copy, manifest and switch)."""
        return self.partitions_per_hour + self.recompactions_per_hour

    @property
    def unloads_per_hour(self) -> float:
        return self.statements_per_hour / self.partitions_per_unload

    @property
    def batched(self) -> bool:
        return self.partitions_per_unload > 1


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
    claims_billing_mode: str = reads("claims_billing_mode")
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
    # One Kinesis record's bytes with its partition key (a KPL aggregate of events_per_record events).
    record_bytes: float = 0.0
    # Firehose's lines under each reading of its billing of aggregates (firehose_billing.BILLINGS; equal
    # without aggregation), and the one ``costs`` holds: AWS does not document which applies.
    firehose_billing: str = ""
    firehose_usd_by_billing: Mapping[str, float] = field(default_factory=dict)

    @property
    def usd_per_month(self) -> float:
        return sum(line.usd_per_month for line in self.costs)

    def usd_per_month_by_firehose_billing(self) -> dict[str, float]:
        """The month's total under each reading of Firehose's billing of aggregates."""
        rest = self.usd_per_month - self.firehose_usd_by_billing.get(self.firehose_billing, 0.0)
        return {billing: rest + usd for billing, usd in self.firehose_usd_by_billing.items()}

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


def dollars(x: float) -> str:
    return f"${x:,.2f}" if abs(x) < 10 else f"${x:,.0f}"


# --- costs ------------------------------------------------------------------------------------------------


def cost_line(
    component: str, item: str, quantity: float, unit: str, key: str, prices: PriceTable
) -> CostLine:
    return CostLine(component, item, quantity, unit, key, quantity * prices[key])


def per_month(per_second: float) -> float:
    return per_second * SECONDS_PER_HOUR * HOURS_PER_MONTH
