"""Query results kept as Arrow columns (``result_rows``) hand out exactly what ``fetchall`` gives."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventlake.athena import engine as athena
from eventlake.athena import result_rows
from eventlake.checks.invariant import unique_rows
from eventlake.simulator.demo import DemoOptions, run_demo

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("arrow-rows") / "lake"
    assert run_demo(DemoOptions(events=300, types=4, hours=2, out=out)).ok
    return out


@pytest.mark.parametrize("name", sorted(athena.load_queries()))
def test_every_query_gives_fetchall_s_rows(lake: Path, name: str) -> None:
    sql = athena.load_queries()[name]
    conn = athena.connect(lake)
    try:
        expected_columns, expected = athena.run(conn, sql)
        columns, rows = result_rows.run(conn, sql)
    finally:
        conn.close()
    if name == athena.UNIQUE_EVENTS_VIEW:  # the one that is every event: it must be kept as Arrow columns
        assert isinstance(rows, result_rows.ArrowResultRows)
    assert columns == expected_columns and len(rows) == len(expected)
    if "ORDER BY" not in sql.upper().rsplit(")", 1)[-1]:  # no order asked for: DuckDB's may differ per run
        rows, expected = sorted(rows, key=repr), sorted(expected, key=repr)
    assert list(rows) == expected and rows == expected
    for got, want in zip(rows, expected, strict=True):  # type for type, not only ==
        assert [type(v) for v in got] == [type(v) for v in want]
    if expected:
        assert rows[0] == expected[0] and rows[-1] == expected[-1] and rows[1:3] == expected[1:3]
        assert rows[::2] == expected[::2]
        with pytest.raises(IndexError):
            rows[len(expected)]


@given(
    values=st.lists(st.integers(-5, 5), max_size=30), start=st.integers(-35, 35), stop=st.integers(-35, 35)
)
def test_indexing_and_slicing_are_a_list_s(values: list[int], start: int, stop: int) -> None:
    table = pa.table({"n": values, "s": [str(v) for v in values]})
    rows, expected = result_rows.ArrowResultRows(table), list(zip(values, map(str, values), strict=True))
    assert rows == expected and len(rows) == len(expected)
    assert rows[start:stop] == expected[start:stop] and rows[start:stop:2] == expected[start:stop:2]
    if -len(expected) <= start < len(expected):
        assert rows[start] == expected[start]
    else:
        with pytest.raises(IndexError):
            rows[start]


def test_the_view_s_lineages_are_what_the_invariant_reads_of_it(lake: Path) -> None:
    conn = athena.connect(lake)
    try:
        columns, rows = result_rows.run(conn, athena.load_queries()[athena.UNIQUE_EVENTS_VIEW])
    finally:
        conn.close()
    assert isinstance(rows, result_rows.ArrowResultRows) and len(rows) > 0
    lineages = result_rows.ViewLineages(rows)
    assert list(lineages) == unique_rows(columns, rows) == list(lineages)  # re-iterable
    assert len(lineages) == len(rows) and lineages[0] == unique_rows(columns, rows)[0]
