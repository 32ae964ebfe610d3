"""A query's result kept as the Arrow table DuckDB returns, handed out row by row as ``fetchall`` would.

The demo keeps every query's result for its report and the invariant; a production hour's unique-events view
is about a million rows of 14 columns, gigabytes as Python tuples, a few hundred megabytes as Arrow columns.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

import duckdb
import pyarrow as pa

from eventlake.athena import engine

_BATCH_ROWS = 50_000


class ArrowResultRows(Sequence[tuple[Any, ...]]):
    """Rows as tuples, read from the columns on demand: ``len``, iteration, indexing, slicing, ``==``."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        for batch in self.table.to_batches(max_chunksize=_BATCH_ROWS):
            yield from zip(*(column.to_pylist() for column in batch.columns), strict=True)

    @overload
    def __getitem__(self, index: int) -> tuple[Any, ...]: ...
    @overload
    def __getitem__(self, index: slice) -> list[tuple[Any, ...]]: ...
    def __getitem__(self, index: int | slice) -> tuple[Any, ...] | list[tuple[Any, ...]]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step == 1:
                return list(ArrowResultRows(self.table.slice(start, max(0, stop - start))))
            return list(self)[index]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("row index out of range")
        return next(iter(ArrowResultRows(self.table.slice(index, 1))))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ArrowResultRows({len(self):,} rows: {', '.join(self.table.column_names)})"


def _same_as_fetchall(kind: pa.DataType) -> bool:
    """Types whose Arrow values are ``fetchall``'s, type for type (not DuckDB's decimals, intervals, ...)."""
    return (
        pa.types.is_string(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_date(kind)
        or (pa.types.is_timestamp(kind) and kind.tz is None)
    )


def run(conn: duckdb.DuckDBPyConnection, athena_sql: str) -> tuple[list[str], Sequence[tuple[Any, ...]]]:
    """``engine.run``: (column names, rows), the rows kept as Arrow columns when every column's type reads
    back as ``fetchall`` gives it; else ``fetchall``'s own list."""
    engine.create_event_views(conn, athena_sql)
    table = conn.sql(engine.to_duckdb(athena_sql)).to_arrow_table()
    if all(_same_as_fetchall(f.type) for f in table.schema):
        return list(table.column_names), ArrowResultRows(table)
    return engine.run(conn, athena_sql)


# What ``invariant.unique_rows`` reads of the unique-events view.
_VIEW_LINEAGE = ("event_uuid", "source_shard_id", "source_sequence_number")


class ViewLineages(Sequence[tuple[str, tuple[str, str]]]):
    """``invariant.unique_rows`` of a view kept as Arrow columns, made as it is iterated (the invariant reads
    it twice) from the three columns it needs, never held as a million tuples."""

    def __init__(self, rows: ArrowResultRows) -> None:
        self._rows = ArrowResultRows(rows.table.select(list(_VIEW_LINEAGE)))

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[tuple[str, tuple[str, str]]]:
        for event_uuid, shard, sequence in self._rows:
            yield str(event_uuid).lower(), (shard, sequence)

    @overload
    def __getitem__(self, index: int) -> tuple[str, tuple[str, str]]: ...
    @overload
    def __getitem__(self, index: slice) -> list[tuple[str, tuple[str, str]]]: ...
    def __getitem__(
        self, index: int | slice
    ) -> tuple[str, tuple[str, str]] | list[tuple[str, tuple[str, str]]]:
        return list(self)[index]
