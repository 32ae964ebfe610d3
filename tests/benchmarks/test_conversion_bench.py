"""The conversion bench at a tiny size: it converts every row, measures the floor on the same rows, and
reports both with their ratio (its timing is not a test)."""

from __future__ import annotations

import io

import pyarrow.parquet as pq
import pytest

from benchmarks import format_conversion as bench_conversion
from eventlake.firehose_formats.conversion import convert


def test_the_bench_reports_the_converter_against_its_floor(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_conversion.main(["--records", "50", "--repeats", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = [line for line in out if line.startswith("| ") and "---" not in line]
    cells = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]] for line in rows[1:]}
    assert set(cells) == {"firehose_formats.conversion", "floor: json.loads + Table.from_pylist + Parquet"}
    assert cells["floor: json.loads + Table.from_pylist + Parquet"][2] == "1.00"
    assert float(cells["firehose_formats.conversion"][2]) > 0


def test_the_floor_writes_the_rows_the_converter_writes() -> None:
    """The floor does the same work, not less: the same rows and columns come out (timestamps as text)."""
    records = [bench_conversion.lambda_row(i) for i in range(20)]
    table, _, failures = convert(records)
    assert not failures
    floor = bench_conversion.floor_table(records)
    assert floor.num_rows == table.num_rows and floor.column_names == table.column_names
    assert floor.column("event_uuid").to_pylist() == table.column("event_uuid").to_pylist()
    assert pq.read_table(io.BytesIO(bench_conversion.to_parquet(floor, compression="SNAPPY"))).num_rows == 20
