"""The invariant over a mirror's Parquet objects as they stream by (``lake_contents.ParquetRows``): the lake
is read from its files, never held as Python rows, and each fault put into the *files* still breaks it.

A small run's mirror is copied, one Parquet object is rewritten (a row left out, a row written twice) or moved
to another partition's folder, the copy is read again and checked against the run's own ledger and log.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventlake.checks import invariant
from eventlake.checks import lake_contents as lake
from eventlake.checks.invariant import EXACTLY_ONCE, PARTITION, InvariantResult, check
from eventlake.firehose_formats import conversion
from eventlake.simulator.demo import DemoOptions, Report, run_demo
from glue import schema

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Report:
    out = tmp_path_factory.mktemp("small") / "lake"
    report = run_demo(DemoOptions(events=400, types=6, hours=2, out=out))
    assert report.ok, report.invariant.violations
    return report


def _recheck(report: Report, root: Path) -> InvariantResult:
    contents = lake.read(root, lake.local_objects(root))
    assert isinstance(contents.rows, lake.ParquetRows)  # read from the files, not kept as Python rows
    return check(
        report.ledger.records,
        contents,
        rejections=report.rejections,
        dedupe=report.settings.dedupe_mode,
        backup_enabled=report.spec.source_backup,
    )


def _copy(report: Report, tmp_path: Path) -> Path:
    root = tmp_path / "lake"
    shutil.copytree(report.options.out_dir, root)
    return root


def _data_object(root: Path) -> Path:
    """The first data object holding at least two rows."""
    return next(
        path
        for path in sorted((root / schema.DATA_ROOT).rglob("*"))
        if path.is_file() and conversion.read_parquet(path.read_bytes()).num_rows >= 2
    )


def _rewrite(path: Path, report: Report, change: Callable[[pa.Table], pa.Table]) -> pa.Table:
    table = conversion.read_parquet(path.read_bytes())
    path.write_bytes(conversion.to_parquet(change(table), compression=report.spec.parquet_compression))
    return table


def _index(report: Report, table: pa.Table) -> int:
    """The ledger index of the record the table's first row came from."""
    lineage = tuple(
        table.column(c)[0].as_py()
        for c in ("source_shard_id", "source_sequence_number", "source_subsequence_number")
    )
    return next(s.index for s in report.ledger.records if s.lineage == lineage)


def _violation(result: InvariantResult, text: str) -> str:
    (found,) = [v for v in result.violations if text in v]
    return found


def test_the_copied_lake_holds_the_invariant(small: Report, tmp_path: Path) -> None:
    result = _recheck(small, _copy(small, tmp_path))
    assert result.ok, result.violations
    assert result.rows == len(small.lake.rows) > 0


def test_a_lost_record_breaks_it(small: Report, tmp_path: Path) -> None:
    root = _copy(small, tmp_path)
    table = _rewrite(_data_object(root), small, lambda t: t.slice(1))
    result = _recheck(small, root)
    assert not result.ok
    assert result.failed_checks[EXACTLY_ONCE] == 1
    assert f"record #{_index(small, table)} " in _violation(result, "found 0 times: nowhere")


def test_a_duplicated_row_breaks_it(small: Report, tmp_path: Path) -> None:
    root = _copy(small, tmp_path)
    table = _rewrite(_data_object(root), small, lambda t: pa.concat_tables([t, t.slice(0, 1)]))
    result = _recheck(small, root)
    assert result.failed_checks[EXACTLY_ONCE] == 1
    assert f"record #{_index(small, table)} " in _violation(result, "found 2 times: row, row")


def test_a_row_in_the_wrong_partition_breaks_it(small: Report, tmp_path: Path) -> None:
    root = _copy(small, tmp_path)
    path = _data_object(root)
    rows = conversion.read_parquet(path.read_bytes()).num_rows
    hour = path.parent.name  # event_hour=HH
    wrong = path.parent.parent / f"event_hour={(int(hour.split('=')[1]) + 5) % 24:02d}"
    wrong.mkdir(exist_ok=True)
    path.rename(wrong / path.name)
    result = _recheck(small, root)
    assert result.failed_checks[PARTITION] == rows
    assert result.failed_checks[EXACTLY_ONCE] == 0  # every record still there once: only its place is wrong


def test_parquet_rows_read_like_a_list(small: Report) -> None:
    rows = small.lake.rows
    assert isinstance(rows, lake.ParquetRows)
    as_list = list(rows)
    assert (
        len(rows) == len(as_list)
        and rows == as_list
        and rows[-1] == as_list[-1]
        and rows[1:3] == as_list[1:3]
    )
    flags = [r.values.get("is_duplicate") for r in as_list]
    assert list(lake.column_values(rows, "is_duplicate")) == flags
    assert small.duplicates_marked == sum(1 for f in flags if f is True) > 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


@given(a=json_values, b=json_values)
def test_payloads_compare_as_type_strictly_as_before(a: object, b: object) -> None:
    assert invariant.same_json(a, b) == (invariant.canonical_json(a) == invariant.canonical_json(b))
    assert invariant.same_json(a, a)  # NaN too: compared as text, as before


@pytest.mark.parametrize(
    ("a", "b"),
    [(1, 1.0), (1, True), (0, False), ({"x": 1}, {"x": 1.0}), ([float("nan")], [None]), (2**70, 2**70 + 1)],
)
def test_payloads_that_python_calls_equal_differ_here(a: object, b: object) -> None:
    assert not invariant.same_json(a, b)
