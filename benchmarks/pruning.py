"""Partition pruning, measured: what a query filtered to one event type and one day reads of a lake.

``python -m benchmarks --pruning`` (or ``python -m benchmarks.pruning``) generates a lake of
``--types`` x ``--days`` x 24 hourly partitions (one Parquet object each, the Glue columns, written by
DuckDB's partitioned COPY in the Hive layout Firehose writes), registers every partition the way the registrar
does, and runs each measured query through the local Athena with DuckDB's ``EXPLAIN ANALYZE``, which reports
the files its Parquet scan opened and the bytes it read. The target (the Athena issue): at most 1.1 / (types x
days) of the lake's files and bytes, directly and through the unique-events view.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from aws_contract import limits
from eventlake.athena import engine as athena
from glue import schema

FIRST_DAY = date(2026, 11, 1)
_FILES_READ = re.compile(r"Total Files Read:\s*([\d,]+)")
_DATA_READ = re.compile(r"Data Read:\s*([\d.]+)\s*(B|kB|KB|MB|GB|KiB|MiB|GiB)")
_UNITS = {"B": 1, "kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9, "KiB": 2**10, "MiB": limits.MIB, "GiB": 2**30}


@dataclass(frozen=True)
class Touched:
    name: str
    files: int
    lake_files: int
    data_bytes: float  # what DuckDB's profile reports as read
    partition_bytes: int  # the size of the files of the filtered partitions
    lake_bytes: int

    @property
    def file_share(self) -> float:
        return self.files / self.lake_files

    @property
    def byte_share(self) -> float:
        return self.partition_bytes / self.lake_bytes


def generate_lake(
    root: Path, *, types: int, days: int, rows_per_partition: int = 40
) -> list[athena.CatalogPartition]:
    """One object per type x day x hour, in the Hive layout of ``schema.DATA_PREFIX``; returns the catalog."""
    conn = duckdb.connect()
    start = datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day, tzinfo=UTC)
    hours = days * 24
    total = types * hours * rows_per_partition
    created = f"{int(start.timestamp())} + (i // {types * rows_per_partition}) * 3600 + (i % 3600)"
    columns = {
        "event_uuid": "uuid()::VARCHAR",
        "event_name": f"'t' || lpad(((i // {rows_per_partition}) % {types})::VARCHAR, 2, '0') || ':done'",
        "event_subtype": "'done'",
        "created_at": f"({created})::BIGINT",
        "created_datetime": f"to_timestamp({created})::TIMESTAMP",
        "is_duplicate": "i % 50 = 0",
        "uuid_reused": "false",
        "payload": "'{\"n\":' || i::VARCHAR || ',\"note\":\"' || md5(i::VARCHAR) || '\"}'",
        "source_shard_id": "'shardId-000000000000'",
        "source_sequence_number": "i::VARCHAR",
        "source_subsequence_number": "0::BIGINT",
        "source_arrival_datetime": f"to_timestamp({created} + 5)::TIMESTAMP",
    }
    assert list(columns) == list(schema.COLUMN_NAMES)
    select = ", ".join(f"{expr} AS {name}" for name, expr in columns.items())
    partition = (
        f"'t' || lpad(((i // {rows_per_partition}) % {types})::VARCHAR, 2, '0') AS event_type, "
        f"strftime(to_timestamp({created}), '%Y-%m-%d') AS event_date, "
        f"strftime(to_timestamp({created}), '%H') AS event_hour"
    )
    data_root = root / schema.DATA_ROOT
    data_root.mkdir(parents=True, exist_ok=True)
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute(
        f"COPY (SELECT {select}, {partition} FROM range({total}) AS r(i)) TO '{data_root.as_posix()}' "
        "(FORMAT parquet, COMPRESSION snappy, PARTITION_BY (event_type, event_date, event_hour))"
    )
    conn.close()
    catalog = []
    for folder in sorted(p.parent for p in data_root.glob("*/*/*/*.parquet")):
        values = schema.partition_of_key(folder.relative_to(root).as_posix() + "/x")
        assert values is not None
        catalog.append(
            athena.CatalogPartition(
                tuple(values[k] for k in schema.PARTITION_KEY_NAMES),
                f"s3://lake/{schema.partition_folder(values)}",
                schema.COLUMN_NAMES,  # what the registrar copies from the table into each partition
            )
        )
    return catalog


def touched(
    conn: duckdb.DuckDBPyConnection,
    name: str,
    athena_sql: str,
    root: Path,
    catalog: list[athena.CatalogPartition],
    event_type: str,
    day: str,
) -> Touched:
    """Files and bytes one query reads, from DuckDB's own profile of the scan."""
    plan = conn.execute("EXPLAIN ANALYZE " + athena.to_duckdb(athena_sql)).fetchall()[0][1]
    files = sum(int(m.replace(",", "")) for m in _FILES_READ.findall(plan))
    data = sum(float(v) * _UNITS[u] for v, u in _DATA_READ.findall(plan))
    all_files = athena.partition_files(root, catalog)
    wanted = [p for p in catalog if p.values[0] == event_type and p.values[1] == day]
    return Touched(
        name=name,
        files=files,
        lake_files=len(all_files),
        data_bytes=data,
        partition_bytes=sum(f.stat().st_size for f in athena.partition_files(root, wanted)),
        lake_bytes=sum(f.stat().st_size for f in all_files),
    )


def measure(root: Path, *, types: int, days: int) -> list[Touched]:
    catalog = generate_lake(root, types=types, days=days)
    conn = athena.connect(root, partitions=catalog)
    event_type, day = "t07", (FIRST_DAY + timedelta(days=days // 2)).isoformat()
    where = f"event_type = '{event_type}' AND event_date = '{day}'"
    view = athena.load_queries()["unique_events"].split("\n", 2)[2]  # the SELECT, without the header
    queries = {
        "one type, one day (table)": f"SELECT count(*), count(DISTINCT event_uuid) FROM events WHERE {where}",
        "one type, one day (unique-events view)": f"SELECT count(*) FROM ({view}) AS u WHERE {where}",
    }
    return [touched(conn, name, sql, root, catalog, event_type, day) for name, sql in queries.items()]


def table(results: list[Touched], *, types: int, days: int) -> str:
    bound = 1.1 / (types * days)
    lines = [
        f"Lake: {types} types x {days} days x 24 hours = {results[0].lake_files:,} objects, "
        f"{results[0].lake_bytes / 1e6:.1f} MB. Target: at most 1.1 / (types x days) = {bound:.5f} of both.",
        "",
        "| query | files opened | share of files | bytes of those files | share of bytes | DuckDB read |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.files} of {r.lake_files:,} | {r.file_share:.5f} | {r.partition_bytes:,} B | "
            f"{r.byte_share:.5f} | {r.data_bytes / 1e3:.1f} kB |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None, prog: str = "python -m benchmarks --pruning") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    parser.add_argument("--types", type=int, default=50)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=Path("out/pruning"))
    parser.add_argument("--write", action="store_true", help="write the results to BENCHMARKS.md")
    args = parser.parse_args(argv)
    import shutil

    shutil.rmtree(args.dir, ignore_errors=True)
    results = measure(args.dir, types=args.types, days=args.days)
    text = table(results, types=args.types, days=args.days)
    print(text)
    if args.write:
        from benchmarks.transform import write_section

        intro = (
            "Written by `python -m benchmarks --pruning --write` (part of `make bench`). A generated "
            "lake in Firehose's Hive layout, every partition registered in the catalog as the registrar "
            "does; each query runs through the local Athena and DuckDB's `EXPLAIN ANALYZE` reports the "
            "objects its scan opened."
        )
        write_section("Partition pruning", f"{intro}\n\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
