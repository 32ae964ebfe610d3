"""Compaction, measured: objects and bytes of a generated lake as Firehose writes it, then compacted.

``python -m benchmarks --compaction`` (or ``python -m benchmarks.compaction``) generates ``--types``
event types over ``--days`` days of hourly partitions from the project's sample events (renamed per type, so
payloads keep their real shapes), each event enriched by the transform Lambda's own code and converted by the
project's model of Firehose's Parquet writer; each type-hour is cut into the objects Firehose would flush with
the stack's ``bufferingIntervalSeconds``. Every type gets ``--per-type-hour`` events an hour. Then:

1. **Settings, by measurement**: the first day's partitions of ``GRID_TYPES`` types are rewritten with
   each codec UNLOAD offers (SNAPPY, GZIP, ZSTD at three levels), each sort order, and, for the record,
   Parquet options Athena's UNLOAD does not expose (dictionary encoding off, small row groups); the
   smallest Athena-available combination is what the compactor uses (``lake_compactor.compaction_plan``).
2. **The lake, compacted**: every partition rewritten by DuckDB (the local runner's writer) with those
   settings, one file per partition, rows in ``SORT_COLUMNS`` order.
3. **What a query touches**: a one-type one-day query through the local Athena (``EXPLAIN ANALYZE``), before
   and after.

``--write`` replaces the ``## Compaction`` section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import io
import math
import random
import shutil
import statistics
import sys
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.pruning import touched
from eventlake.athena import engine as athena
from eventlake.firehose_formats.conversion import arrow_schema, to_parquet
from eventlake.simulator.local_compaction import DUCKDB_CODECS
from eventlake.traffic import sample_events
from glue import schema
from glue.compactor_contract import DEFAULT_COMPRESSION
from infra.settings import Settings
from lake_compactor import compaction_plan as plan
from transform_lambda.events import Lineage, enrich, parse_event

FIRST_DAY = datetime(2026, 11, 1, tzinfo=UTC)
SHARD = "shardId-000000000003"
# Candidates: (codec, ZSTD level or None). UNLOAD's Parquet codecs; ZSTD levels per Athena's advice (3 by
# default, 6-9 for a balance, up to 19 before memory becomes a concern).
CODECS: tuple[tuple[str, int | None], ...] = (
    ("SNAPPY", None),
    ("GZIP", None),
    ("ZSTD", 3),
    ("ZSTD", 9),
    ("ZSTD", 19),
)
SORTS: dict[str, tuple[str, ...]] = {
    "arrival (as landed)": (),
    "event_uuid": ("event_uuid",),
    "event_name, created_at": plan.SORT_COLUMNS,
}
SMALL_ROW_GROUP = 1_000
# The settings grid rewrites one day of this many types (enough to rank settings, quick to run).
GRID_TYPES = 10


@dataclass
class LakeStats:
    raw_json_bytes: int = 0
    events: int = 0
    objects: dict[tuple[str, str], int] = field(default_factory=dict)  # (type, day) -> objects
    bytes: int = 0
    partitions: list[tuple[str, str, str]] = field(default_factory=list)
    rows_by_type: dict[str, int] = field(default_factory=dict)


def type_names(count: int) -> list[tuple[str, list[str]]]:
    """``count`` event types, each with the sample catalogue's names of one base type, renamed."""
    bases: dict[str, list[str]] = {}
    for name in sample_events.CATALOGUE:
        bases.setdefault(name.split(":")[0], []).append(name)
    ordered = sorted(bases.items())
    out = []
    for k in range(count):
        base, names = ordered[k % len(ordered)]
        out.append((f"{base.replace('-', '')}{k:02d}", names))
    return out


def _uuid4(rng: random.Random) -> str:
    """A random version-4 UUID's text, quicker than ``uuid.UUID`` for millions of rows."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:]}"


@dataclass(frozen=True)
class PooledEvent:
    """One generated event as the transform stores it, minus what differs per copy (id, times, lineage)."""

    event_name: str
    event_subtype: str | None
    payload: str  # the transform's JSON of the payload
    raw_bytes: int  # the producer's record, as sample_events encodes it


def event_pool(rng: random.Random, event_type: str, names: list[str], size: int) -> list[PooledEvent]:
    """``size`` distinct events of one type: the sample generator's payloads, run through the transform's
    own parsing and enrichment (so the stored row is the Lambda's)."""
    pool = []
    for _ in range(size):
        name = rng.choice(names)
        event = {
            "event_uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "event_name": event_type + name[len(name.split(":")[0]) :],
            "created_at": int(FIRST_DAY.timestamp()),
            **sample_events.CATALOGUE[name](rng),
        }
        row = enrich(parse_event(event), Lineage(SHARD, "1", None))
        pool.append(
            PooledEvent(
                row["event_name"],
                row["event_subtype"],
                row["payload"],
                len(sample_events.encode(event, rng)),
            )
        )
    return pool


def generate(
    root: Path, *, types: int, days: int, per_type_hour: int, interval_s: int, seed: int
) -> LakeStats:
    """The lake as Firehose writes it under ``root/events/``: returns its statistics.

    Each type has a pool of a day's distinct events; every day re-uses it with new ids, times and lineage, so
    no partition holds a payload twice (compression is per file) while generation stays quick."""
    rng = random.Random(seed)
    stats = LakeStats()
    flushes = max(1, min(per_type_hour, math.ceil(3600 / interval_s)))
    target = arrow_schema()
    sequence = 10**40
    for event_type, names in type_names(types):
        pool = event_pool(rng, event_type, names, per_type_hour * 24)
        for hour in range(days * 24):
            start = int((FIRST_DAY + timedelta(hours=hour)).timestamp())
            chunk = pool[(hour % 24) * per_type_hour : (hour % 24 + 1) * per_type_hour]
            created = sorted(start + int(rng.random() * 3600) for _ in chunk)  # Firehose flushes by arrival
            columns: dict[str, list[Any]] = {name: [] for name in schema.COLUMN_NAMES}
            for event, at in zip(chunk, created, strict=True):
                sequence += 1 + int(rng.random() * 10**6)
                columns["event_uuid"].append(_uuid4(rng))
                columns["event_name"].append(event.event_name)
                columns["event_subtype"].append(event.event_subtype)
                columns["created_at"].append(at)
                columns["created_datetime"].append(at * 1000)
                columns["is_duplicate"].append(False)
                columns["uuid_reused"].append(None)
                columns["payload"].append(event.payload)
                columns["source_shard_id"].append(SHARD)
                columns["source_sequence_number"].append(str(sequence))
                columns["source_subsequence_number"].append(0)
                columns["source_arrival_datetime"].append((at + 1 + int(rng.random() * 29)) * 1000)
                stats.raw_json_bytes += event.raw_bytes
            table = pa.Table.from_pydict(columns, schema=target)
            values = schema.partition_values(event_type, start)
            folder = root / schema.partition_folder(values)
            folder.mkdir(parents=True, exist_ok=True)
            step = math.ceil(len(chunk) / flushes)
            written = 0
            for n, first in enumerate(range(0, len(chunk), step)):
                body = to_parquet(table.slice(first, step), compression="SNAPPY")  # today's delivery default
                (folder / f"firehose-1-{n:02d}-{uuid.UUID(int=rng.getrandbits(128))}.parquet").write_bytes(
                    body
                )
                stats.bytes += len(body)
                written += 1
            day = values["event_date"]
            stats.objects[(event_type, day)] = stats.objects.get((event_type, day), 0) + written
            stats.partitions.append((event_type, day, values["event_hour"]))
            stats.events += len(chunk)
            stats.rows_by_type[event_type] = stats.rows_by_type.get(event_type, 0) + len(chunk)
    return stats


def _grid_folders(root: Path, day: str) -> list[Path]:
    types = sorted((root / schema.DATA_ROOT).glob("event_type=*"))[:GRID_TYPES]
    return sorted(f for t in types for f in t.glob(f"event_date={day}/event_hour=*"))


def _partition_tables(root: Path, day: str) -> Iterator[pa.Table]:
    for folder in _grid_folders(root, day):
        yield pa.concat_tables(
            pq.read_table(f, coerce_int96_timestamp_unit="ms") for f in sorted(folder.glob("*.parquet"))
        )


def settings_grid(root: Path, day: str) -> list[tuple[str, int]]:
    """(setting, bytes of the day's partitions rewritten one file each with it), smallest first."""
    tables = list(_partition_tables(root, day))
    results: dict[str, int] = {}

    def size(label: str, **options: Any) -> None:
        sort = options.pop("sort")
        total = 0
        for table in tables:
            ordered = table.sort_by([(c, "ascending") for c in sort]) if sort else table
            sink = io.BytesIO()
            pq.write_table(ordered, sink, **options)
            total += len(sink.getvalue())
        results[label] = total

    for codec, level in CODECS:
        for sort_name, sort in SORTS.items():
            label = f"{codec}{f' level {level}' if level else ''}, sorted by {sort_name}"
            size(label, sort=sort, compression=codec, compression_level=level)
    best_codec, best_level = DEFAULT_COMPRESSION, plan.ZSTD_LEVEL
    common = {"sort": plan.SORT_COLUMNS, "compression": best_codec, "compression_level": best_level}
    size("chosen, but dictionary encoding off (not an UNLOAD option)", use_dictionary=False, **common)
    size(
        f"chosen, but {SMALL_ROW_GROUP:,}-row row groups (not an UNLOAD option)",
        row_group_size=SMALL_ROW_GROUP,
        **common,
    )
    return sorted(results.items(), key=lambda item: item[1])


def compact_lake(root: Path, out: Path) -> None:
    """Every partition rewritten with the compactor's settings, one file each (DuckDB, the local writer)."""
    codec = DUCKDB_CODECS[DEFAULT_COMPRESSION]
    level = f", COMPRESSION_LEVEL {plan.ZSTD_LEVEL}" if DEFAULT_COMPRESSION == "ZSTD" else ""
    source = (root / schema.DATA_ROOT / "**" / "*.parquet").as_posix()
    columns = ", ".join((*schema.COLUMN_NAMES, *schema.PARTITION_KEY_NAMES))
    keys = ", ".join(schema.PARTITION_KEY_NAMES)
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute("SET preserve_insertion_order = true")
    conn.execute(
        f"COPY (SELECT {columns} FROM read_parquet('{source}', hive_partitioning = true) "
        f"ORDER BY {', '.join(plan.SORT_COLUMNS)}) TO '{(out / schema.COMPACTED_ROOT).as_posix()}' "
        f"(FORMAT parquet, COMPRESSION {codec}{level}, PARTITION_BY ({keys}))"
    )
    conn.close()


def catalog(root: Path, data_root: str) -> list[athena.CatalogPartition]:
    out = []
    for folder in sorted((root / data_root).glob("event_type=*/event_date=*/event_hour=*")):
        values = dict(part.split("=", 1) for part in folder.relative_to(root / data_root).parts)
        out.append(
            athena.CatalogPartition(
                tuple(values[k] for k in schema.PARTITION_KEY_NAMES),
                f"s3://lake/{data_root}{plan.partition_path(values)}",
                schema.COLUMN_NAMES,
            )
        )
    return out


def files_per_type_day(root: Path, data_root: str) -> list[int]:
    counts: dict[tuple[str, str], int] = {}
    for f in (root / data_root).glob("event_type=*/event_date=*/event_hour=*/*.parquet"):
        key = (f.parent.parent.parent.name, f.parent.parent.name)
        counts[key] = counts.get(key, 0) + 1
    return sorted(counts.values())


def lake_bytes(root: Path, data_root: str) -> int:
    return sum(f.stat().st_size for f in (root / data_root).rglob("*.parquet"))


def measure(root: Path, *, types: int, days: int, per_type_hour: int, stack: str, seed: int) -> str:
    interval = Settings.from_stack_file(stack).buffering_interval_seconds
    shutil.rmtree(root, ignore_errors=True)
    stats = generate(
        root, types=types, days=days, per_type_hour=per_type_hour, interval_s=interval, seed=seed
    )
    first_day = FIRST_DAY.strftime("%Y-%m-%d")
    grid = settings_grid(root, first_day)
    compact_lake(root, root)

    before_files, after_files = (
        files_per_type_day(root, schema.DATA_ROOT),
        files_per_type_day(root, schema.COMPACTED_ROOT),
    )
    before_bytes, after_bytes = lake_bytes(root, schema.DATA_ROOT), lake_bytes(root, schema.COMPACTED_ROOT)
    raw = stats.raw_json_bytes
    heavy = max(stats.rows_by_type, key=lambda t: stats.rows_by_type[t])  # every type alike: the first
    day = (FIRST_DAY + timedelta(days=days // 2)).strftime("%Y-%m-%d")
    where = f"event_type = '{heavy}' AND event_date = '{day}'"
    sql = f"SELECT count(*), count(DISTINCT event_uuid) FROM events WHERE {where}"
    query = []
    for label, data_root in (("Firehose objects", schema.DATA_ROOT), ("compacted", schema.COMPACTED_ROOT)):
        parts = catalog(root, data_root)
        conn = athena.connect(root, partitions=parts)
        query.append(
            (
                label,
                touched(conn, label, sql, root, parts, heavy, day),
                conn.execute(athena.to_duckdb(sql)).fetchone(),
            )
        )
        conn.close()
    assert query[0][2] == query[1][2], "the compacted lake answers differently"

    lines = [
        f"Lake: {types} types x {days} days x 24 hours = {len(stats.partitions):,} partitions, "
        f"{stats.events:,} events ({per_type_hour:,} per type-hour), Firehose flushing every {interval} s "
        f"(stack `{stack}`); raw JSON "
        f"{raw / stats.events:.0f} B/event. Compacted with {DEFAULT_COMPRESSION}"
        f"{f' level {plan.ZSTD_LEVEL}' if DEFAULT_COMPRESSION == 'ZSTD' else ''}, rows sorted by "
        f"{', '.join(plan.SORT_COLUMNS)}, one file per partition.",
        "",
        "| | objects per type-day (median, max) | bytes | bytes per event | share of raw JSON |",
        "|---|---|---|---|---|",
        f"| raw JSON (as produced) | - | {raw:,} | {raw / stats.events:.0f} | 100 % |",
        f"| Firehose objects (Parquet SNAPPY) | {statistics.median(before_files):g}, {max(before_files)} | "
        f"{before_bytes:,} | {before_bytes / stats.events:.0f} | {before_bytes / raw:.1%} |",
        f"| compacted (Parquet {DEFAULT_COMPRESSION}) | {statistics.median(after_files):g}, "
        f"{max(after_files)} | {after_bytes:,} | {after_bytes / stats.events:.0f} | "
        f"{after_bytes / raw:.1%} |",
        "",
        f"One type, one day (`{heavy}`, {day}), through the local Athena:",
        "",
        "| lake | files opened | bytes of those files | DuckDB read |",
        "|---|---|---|---|",
    ]
    for label, t, _ in query:
        lines.append(f"| {label} | {t.files} | {t.partition_bytes:,} | {t.data_bytes / 1e3:.1f} kB |")
    lines += [
        "",
        f"Settings measured on day {first_day} of {GRID_TYPES} types ({GRID_TYPES * 24} partitions, one file "
        "each; pyarrow's writer; share of those partitions' Firehose bytes), smallest first:",
        "",
        "| setting | bytes | vs the same partitions as Firehose wrote them |",
        "|---|---|---|",
    ]
    day_landed = sum(
        f.stat().st_size for folder in _grid_folders(root, first_day) for f in folder.glob("*.parquet")
    )
    for label, size in grid:
        lines.append(f"| {label} | {size:,} | {size / day_landed:.1%} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None, prog: str = "python -m benchmarks --compaction") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    parser.add_argument("--types", type=int, default=50)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--per-type-hour", type=int, default=300, help="events per type and hour")
    parser.add_argument("--stack", default="prod", help="whose bufferingIntervalSeconds Firehose flushes by")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--dir", type=Path, default=Path("out/compaction"))
    parser.add_argument("--write", action="store_true", help="write the results to BENCHMARKS.md")
    args = parser.parse_args(argv)
    text = measure(
        args.dir,
        types=args.types,
        days=args.days,
        per_type_hour=args.per_type_hour,
        stack=args.stack,
        seed=args.seed,
    )
    print(text)
    if args.write:
        from benchmarks.transform import write_section

        intro = (
            "Written by `python -m benchmarks --compaction --write`. A generated lake as Firehose "
            "writes it (the transform's rows, the Firehose model's Parquet writer), compacted one file per "
            "partition; sizes are exact, no timings."
        )
        write_section("Compaction", f"{intro}\n\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
