"""Bytes scanned by a one-field question through a typed view, against a whole-table scan, the same question
read from ``payload`` without the view, and a typed table materialised from the view: the numbers README's
Query section quotes, and when materialising would pay off.

``.venv/bin/python tools/event_catalog/bytes_scanned.py [--events N] [--hours H] [--write]`` runs the demo
(compacted, as every closed hour is in production: one Parquet object per partition), then for each query
asks DuckDB's plan which objects its scan opens (``Scanning Files``) and which columns it reads
(``Projections``, and the columns its pushed-down filters test), and sums the compressed size of those
columns' chunks in those objects from their Parquet footers: the bytes a columnar engine reads, which is
what Athena bills as data scanned (before its 10 MB minimum per query). Row-group statistics could skip
more; with one row group per object here they skip nothing for these questions.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from eventlake.athena import engine as athena
from eventlake.simulator.demo import DemoOptions, run_demo
from glue import schema
from infra.settings import PROJECT_ROOT

RESULTS = PROJECT_ROOT / "benchmarks" / "typed_views_results.md"
NAME, VIEW, FIELD = "payment:order:completed", "payment_order_completed", "total_amount"
MB = 10**6
ATHENA_MINIMUM_BYTES = 10 * MB  # Athena bills at least 10 MB a query (infra/prices: athena_tb_scanned)


@dataclass(frozen=True)
class Scan:
    """What one query reads: the objects its scan opens, the columns it reads, their compressed bytes."""

    name: str
    sql: str
    files: int
    columns: tuple[str, ...]
    bytes: int


def plan_scans(conn: Any, athena_sql: str) -> list[dict[str, Any]]:
    """The Parquet scans of a query's plan (DuckDB's ``EXPLAIN (FORMAT json)``), each its extra info."""
    athena.create_event_views(conn, athena_sql)
    text = conn.execute("EXPLAIN (FORMAT json) " + athena.to_duckdb(athena_sql, _schema(conn))).fetchall()
    scans: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        info = node.get("extra_info") or {}
        if isinstance(info, dict) and info.get("Function") == "READ_PARQUET":
            scans.append(info)
        for child in node.get("children", []):
            walk(child)

    for node in json.loads(text[0][1]):
        walk(node)
    return scans


def _schema(conn: Any) -> str:
    return str(conn.execute("SELECT current_schema()").fetchone()[0])


def column_bytes(files: Sequence[Path], columns: Sequence[str]) -> int:
    """The compressed size of ``columns``' chunks in ``files`` (a partition column is not in the file)."""
    wanted, total = set(columns), 0
    for path in files:
        meta = pq.ParquetFile(path).metadata
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            for c in range(group.num_columns):
                chunk = group.column(c)
                if chunk.path_in_schema in wanted:
                    total += chunk.total_compressed_size
    return total


def read_columns(scan: dict[str, Any], files: Sequence[Path]) -> tuple[str, ...]:
    """The columns a scan reads: those it hands up (``Projections``) and those its pushed-down ``Filters``
    test (DuckDB lists a filter-only column in the filter alone; it is read all the same)."""
    projections = scan.get("Projections") or []
    named = [projections] if isinstance(projections, str) else list(projections)
    filters = str(scan.get("Filters") or "")
    in_file = pq.ParquetFile(files[0]).schema_arrow.names if files else []
    tested = [c for c in in_file if re.search(rf"\b{re.escape(c)}\b", filters) and c not in named]
    return tuple(c for c in [*named, *tested] if c)


def measure(conn: Any, name: str, sql: str, files: Sequence[Path]) -> Scan:
    """``files``: the objects the query must read (its partitions'), held to the plan's count."""
    (scan,) = plan_scans(conn, sql)
    opened = int(str(scan["Scanning Files"]).split("/")[0]) if "Scanning Files" in scan else len(files)
    if opened != len(files):
        raise AssertionError(f"{name}: the plan opens {opened} objects, its partitions hold {len(files)}")
    columns = read_columns(scan, files)
    return Scan(name, sql, len(files), columns, column_bytes(files, columns))


def typed_table(conn: Any, root: Path, day: str) -> tuple[list[Path], Any]:
    """The view materialised as a typed table (what a CTAS or the compactor's UNLOAD would write): one object
    per hour of the day, the view's columns typed, partitioned by event_date and event_hour."""
    target = root / "typed" / VIEW
    target.parent.mkdir(parents=True, exist_ok=True)
    sql = athena.to_duckdb(f"SELECT * FROM {VIEW} WHERE event_date = '{day}'", _schema(conn))
    athena.create_event_views(conn, f"SELECT * FROM {VIEW}")
    conn.execute(
        f"COPY ({sql}) TO '{target.as_posix()}' "
        "(FORMAT parquet, COMPRESSION snappy, PARTITION_BY (event_date, event_hour))"
    )
    files = sorted(target.rglob("*.parquet"))
    conn.execute(
        f"CREATE VIEW typed_{VIEW} AS SELECT * FROM read_parquet('{target.as_posix()}/**/*.parquet', "
        "hive_partitioning = true, hive_types_autocast = false)"
    )
    return files, conn


def run(events: int, hours: int, seed: int, out: Path) -> dict[str, Any]:
    report = run_demo(
        DemoOptions(
            events=events, hours=hours, seed=seed, out=out, compact=True, max_active_partitions=10_000
        )
    )
    if not report.ok:
        raise SystemExit("the demo's invariant failed: no measurement")
    partitions = report.catalog_partitions
    conn = athena.connect(out, report.settings.glue_database, partitions)
    _, rows = athena.run(conn, f"SELECT event_date, count(*) FROM {VIEW} GROUP BY event_date")
    day = max(rows, key=lambda r: (r[1], r[0]))[0]
    index = {k: i for i, k in enumerate(schema.PARTITION_KEY_NAMES)}

    def files_of(keep: Any) -> list[Path]:
        return athena.partition_files(out, [p for p in partitions if keep(p.values)])

    every = files_of(lambda v: True)
    payment_day = files_of(lambda v: v[index["event_type"]] == "payment" and v[index["event_date"]] == day)
    amount = "CAST(json_extract_scalar(payload, '$.total.amount') AS DOUBLE)"
    scans = [
        measure(conn, "whole table (SELECT *)", "SELECT * FROM events", every),
        measure(
            conn,
            "its type's day, every column",
            f"SELECT * FROM events WHERE event_type = 'payment' AND event_date = '{day}'",
            payment_day,
        ),
        measure(
            conn,
            "payload without the view",
            f"SELECT sum({amount}) FROM events WHERE event_type = 'payment' AND event_date = '{day}' "
            f"AND event_name = '{NAME}'",
            payment_day,
        ),
        measure(
            conn,
            "typed view",
            f"SELECT sum({FIELD}) FROM {VIEW} WHERE event_date = '{day}'",
            payment_day,
        ),
    ]
    typed_files, conn = typed_table(conn, out, day)
    scans.append(
        measure(conn, "typed table (materialised)", f"SELECT sum({FIELD}) FROM typed_{VIEW}", typed_files)
    )
    _, counted = athena.run(conn, f"SELECT count(*) FROM {VIEW} WHERE event_date = '{day}'")
    per_name = Counter(str(r[0]) for r in athena.run(conn, "SELECT event_name FROM unique_events")[1])
    return {
        "events": events,
        "hours": hours,
        "day": day,
        "rows": sum(per_name.values()),
        "type_rows": int(counted[0][0]),
        "partitions": len(partitions),
        "lake_bytes": sum(f.stat().st_size for f in every),
        "scans": scans,
    }


def table(result: dict[str, Any]) -> str:
    scans: list[Scan] = result["scans"]
    whole, partitions, payload, view, typed = scans
    per_event = view.bytes / result["type_rows"]
    lines = [
        f"Demo lake: {result['events']:,} records over {result['hours']} h, compacted (one object per "
        f"partition): {result['rows']:,} events in {result['partitions']} partitions, "
        f"{result['lake_bytes'] / MB:.2f} MB. Question: `sum({FIELD})` of the {result['type_rows']:,} "
        f"`{NAME}` events of {result['day']}.",
        "",
        "| query | objects | columns read | bytes read | vs whole table | vs typed view |",
        "|---|---|---|---|---|---|",
    ]
    for s in scans:
        lines.append(
            f"| {s.name} | {s.files} | {len(s.columns)} ({', '.join(s.columns)}) | {s.bytes:,} | "
            f"{s.bytes / whole.bytes:.4f} | {s.bytes / view.bytes:.3f} |"
        )
    lines += [
        "",
        f"Through the view a question reads {per_event:,.0f} bytes per event of its type (the payloads and "
        f"the dedupe window's columns); the typed table {typed.bytes / result['type_rows']:,.1f}. Athena "
        f"bills at least 10 MB a query, so the view costs the minimum until a question covers "
        f"{ATHENA_MINIMUM_BYTES / per_event:,.0f} events of the type; past that the typed table reads "
        f"{view.bytes / max(typed.bytes, 1):,.0f}x less. The payload read directly costs "
        f"{payload.bytes / view.bytes:.2f}x the view: the view's extra is the dedupe window's columns. "
        f"The view reads {view.bytes / partitions.bytes:.0%} of its partitions' bytes: the payloads of "
        "every event of its type (of every name of that type) are most of them.",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None, prog: str = "tools/event_catalog/bytes_scanned.py") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--hours", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--write", action="store_true", help=f"write the results to {RESULTS.name}")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="eventlake-typed-views-") as scratch:
        text = table(run(args.events, args.hours, args.seed, Path(scratch) / "lake"))
    print(text)
    if args.write:
        intro = (
            "# Typed views: bytes scanned\n\nWritten by `tools/event_catalog/bytes_scanned.py --write` "
            f"(`--events {args.events} --hours {args.hours} --seed {args.seed}`). Each query's objects and "
            "columns from DuckDB's plan of it; the bytes are those columns' compressed chunks in those "
            "objects (their Parquet footers), what Athena bills as data scanned.\n"
        )
        RESULTS.write_text(f"{intro}\n{text}\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
