"""The local Firehose's record format conversion, measured: the Lambda's rows to Parquet, against a floor.

``python -m benchmarks --conversion`` converts ``--records`` rows as the transform emits them (JSON lines, the
Glue columns) with ``firehose_formats.conversion`` (the OpenX JSON SerDe's rules, then the table's Parquet),
and, in the same process and on the same rows, the least any converter does: ``json.loads`` of each line and
``pyarrow.Table.from_pylist`` with the table's Arrow schema, written with the same codec. It prints each one's
CPU seconds (the best of ``--repeats``), records per CPU-second and the ratio to the floor: a ratio, because
this machine's speed varies 2-5x between runs (it was once a test's CPU-time bound; a bound is a benchmark's
business, not a test's). The local pipeline needs about 10,000 records a second to run a production hour in
minutes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyarrow as pa

from eventlake.firehose_formats.conversion import arrow_schema, convert, to_parquet
from transform_lambda.events import Event, Lineage, dumps, enrich

CODEC = "SNAPPY"  # the table's Parquet compression as Firehose writes it (glue/schema.py)
START = 1_764_072_000  # 2025-11-25T12:00:00Z: fixed, so runs convert the same rows


@dataclass(frozen=True)
class Timing:
    name: str
    cpu_seconds: float
    records: int

    @property
    def per_second(self) -> float:
        return self.records / self.cpu_seconds


def lambda_row(index: int) -> bytes:
    """One row as the transform returns it to Firehose (every derived column, a nested payload)."""
    event = Event(
        event_uuid=f"3f2b8c1e-9a4d-4e6f-8b7a-{index:012d}",
        event_name="payment:order:completed",
        event_type="payment",
        event_subtype="order",
        created_at=START + 0.123 + index,
        payload={"amount": index / 4, "currency": "EUR", "lines": [{"sku": "x"}]},
    )
    sequence = f"4954698668313554428650745793632162567570019247{index:010d}"
    lineage = Lineage("shardId-000000000000", sequence, None)
    return (dumps(enrich(event, lineage, is_duplicate=index % 7 == 0)) + "\n").encode()


def converted(records: list[bytes]) -> None:
    table, _, failures = convert(records)
    if failures or table.num_rows != len(records):
        raise SystemExit(f"the converter refused {len(failures)} of {len(records)} rows")
    to_parquet(table, compression=CODEC)


def floor_table(records: list[bytes]) -> pa.Table:
    """The table's columns from each line by ``json.loads`` alone: no SerDe rule, no timestamp parsed."""
    schema = arrow_schema()
    rows = [json.loads(r) for r in records]
    return pa.Table.from_pylist(
        [{name: row.get(name) for name in schema.names} for row in rows], schema=_relaxed(schema)
    )


def floor(records: list[bytes]) -> None:
    to_parquet(floor_table(records), compression=CODEC)


def _relaxed(schema: pa.Schema) -> pa.Schema:
    """The table's columns with timestamps read as text: the floor parses nothing the SerDe would."""
    return pa.schema(
        [pa.field(f.name, pa.string() if pa.types.is_timestamp(f.type) else f.type) for f in schema]
    )


def best_cpu(work: Callable[[list[bytes]], None], records: list[bytes], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        work(records)
        best = min(best, time.process_time() - start)
    return best


def table(timings: list[Timing], floor_timing: Timing) -> str:
    lines = [
        "| path | CPU s (best) | records / CPU s | x the floor |",
        "| --- | ---: | ---: | ---: |",
    ]
    for t in timings:
        ratio = t.cpu_seconds / floor_timing.cpu_seconds
        lines.append(f"| {t.name} | {t.cpu_seconds:.3f} | {t.per_second:,.0f} | {ratio:.2f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None, prog: str = "python -m benchmarks --conversion") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    parser.add_argument("--records", type=int, default=20_000, help="rows (default %(default)s)")
    parser.add_argument("--repeats", type=int, default=5, help="rounds, the best kept (default %(default)s)")
    parser.add_argument("--write", action="store_true", help="write the results to BENCHMARKS.md")
    args = parser.parse_args(argv)
    records = [lambda_row(i) for i in range(args.records)]
    floor_seconds = best_cpu(floor, records, args.repeats)
    base = Timing("floor: json.loads + Table.from_pylist + Parquet", floor_seconds, len(records))
    mine = Timing("firehose_formats.conversion", best_cpu(converted, records, args.repeats), len(records))
    text = table([mine, base], base)
    print(text)
    if args.write:
        from benchmarks.transform import write_section

        intro = (
            "Written by `python -m benchmarks --conversion --write` (part of `make bench`): "
            f"{len(records):,} rows as the transform emits them, converted to {CODEC} Parquet by the local "
            "Firehose's conversion (the OpenX JSON SerDe's rules), against the least any converter does on "
            f"the same rows in the same process. CPU seconds, the best of {args.repeats}."
        )
        write_section("Record format conversion", f"{intro}\n\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
