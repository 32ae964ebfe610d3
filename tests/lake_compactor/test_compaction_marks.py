"""The marks a compaction writes (``CompactionStatement.select_sql`` with ``mark``), run as the local runner
runs it (translated to DuckDB): exact against a reference written here from ``glue/marks.py``'s rule, and the
same bytes whatever order or split the rows come in, however often the partition is compacted."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventlake.athena import engine as athena
from glue import schema
from lake_compactor.compaction_plan import CompactionStatement

VALUES = {"event_type": "payment", "event_date": "2026-11-25", "event_hour": "07"}
HOUR = datetime(2026, 11, 25, 7, tzinfo=UTC).replace(tzinfo=None)
UUIDS = (
    "aaaaaaaa-0000-4000-8000-000000000001",
    "AAAAAAAA-0000-4000-8000-000000000001",
    "bbbbbbbb-0000-4000-8000-00000000000b",
)
NAMES = ("payment:order:completed", "payment:refund")
DB = "lake"


def _statement(
    include_current: bool, sources: tuple[str, ...], fields: tuple[str, ...]
) -> CompactionStatement:
    return CompactionStatement(
        database=DB,
        table="events",
        source_table="events_landing",
        values=VALUES,
        include_current=include_current,
        sources=sources,
        target="s3://bucket/compacted/x/",
        fingerprint_fields=fields,
    )


@st.composite
def partitions(draw: Any) -> list[dict[str, Any]]:
    """Rows of one partition: a few ids, some reused by other events, repeats, arrival ties across shards,
    and records stored twice (Firehose redelivery: the same row again); the marks they carry are noise."""
    rows = []
    for number in range(draw(st.integers(1, 14))):
        second = draw(st.integers(0, 2))
        row = {
            "event_uuid": draw(st.sampled_from(UUIDS)),
            "event_name": draw(st.sampled_from(NAMES)),
            "event_subtype": "order",
            "created_at": int(HOUR.replace(tzinfo=UTC).timestamp()) + second,
            "created_datetime": HOUR + timedelta(seconds=second),
            "is_duplicate": draw(st.sampled_from([None, True, False])),
            "uuid_reused": draw(st.sampled_from([None, True, False])),
            "payload": draw(st.sampled_from(['{"amount":1}', '{"amount":2}', "{}"])),
            "source_shard_id": draw(st.sampled_from(["shardId-000000000000", "shardId-000000000001"])),
            "source_sequence_number": str(draw(st.sampled_from([9, 10, 11, 100]))) + f"{number:03d}",
            "source_subsequence_number": draw(st.sampled_from([None, 0, 1])),
            "source_arrival_datetime": HOUR + timedelta(milliseconds=draw(st.integers(0, 3))),
        }
        rows.append(row)
        for _ in range(draw(st.integers(0, 1))):  # redelivered: the same record, marked differently
            rows.append(dict(row, is_duplicate=draw(st.sampled_from([None, True, False]))))
    return rows


def _expected(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The rule of ``glue/marks.py``, row by row, with the default fingerprint (name, time)."""
    out = []
    by_id: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_id.setdefault(row["event_uuid"].lower(), []).append(row)
    for copies in by_id.values():
        copies = sorted(
            copies,
            key=lambda r: (
                r["source_arrival_datetime"],
                r["source_shard_id"],
                len(r["source_sequence_number"]),
                r["source_sequence_number"],
                -1 if r["source_subsequence_number"] is None else r["source_subsequence_number"],
                r["event_uuid"],
                r["event_name"],
                r["created_at"],
                r["payload"],
            ),
        )
        first_of_print: dict[tuple[Any, ...], int] = {}
        for rank, row in enumerate(copies, 1):
            first = first_of_print.setdefault((row["event_name"], row["created_datetime"]), rank)
            out.append(_data(dict(row, is_duplicate=rank != first, uuid_reused=first != 1)))
    return sorted(out, key=repr)


def _data(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[c] for c in schema.COLUMN_NAMES)


def _compact(
    current: list[dict[str, Any]], landed: list[list[dict[str, Any]]], fields: tuple[str, ...]
) -> list[tuple[Any, ...]]:
    """One compaction: the partition's current copy plus the landed objects (one list of rows each)."""
    conn = duckdb.connect(":memory:")
    try:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute(f"CREATE SCHEMA {DB}")
        columns = ", ".join(f'"{c.name}" {athena.DUCKDB_TYPES[c.type]}' for c in schema.COLUMNS)
        keys = ", ".join(f'"{k}" VARCHAR' for k in schema.PARTITION_KEY_NAMES)
        conn.execute(f"CREATE TABLE {DB}.events ({columns}, {keys})")
        conn.execute(f'CREATE TABLE {DB}.events_landing ({columns}, {keys}, "$path" VARCHAR)')
        holes = ", ".join("?" for _ in range(len(schema.COLUMNS) + len(schema.PARTITION_KEYS)))
        partition = [VALUES[k] for k in schema.PARTITION_KEY_NAMES]
        for row in current:
            conn.execute(f"INSERT INTO {DB}.events VALUES ({holes})", [*_data(row), *partition])
        sources = []
        for number, rows in enumerate(landed):
            path = f"s3://bucket/events/object-{number}.parquet"
            sources.append(path)
            for row in rows:
                conn.execute(
                    f"INSERT INTO {DB}.events_landing VALUES ({holes}, ?)", [*_data(row), *partition, path]
                )
        statement = _statement(bool(current), tuple(sources), fields)
        return conn.execute(athena.to_duckdb(statement.select_sql())).fetchall()
    finally:
        conn.close()


def _as_rows(result: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    return [dict(zip(schema.COLUMN_NAMES, values, strict=True)) for values in result]


def _split(
    rows: list[dict[str, Any]], rnd: random.Random
) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    rows = rows[:]
    rnd.shuffle(rows)
    cut = rnd.randrange(len(rows) + 1)
    current, rest = rows[:cut], rows[cut:]
    landed: list[list[dict[str, Any]]] = []
    while rest:
        size = rnd.randrange(1, len(rest) + 1)
        landed.append(rest[:size])
        rest = rest[size:]
    if not current and not landed:
        landed = [[]]
    return current, landed


@pytest.mark.slow
@given(partitions(), st.randoms(use_true_random=False))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_marks_are_exact_and_the_same_whatever_the_order_split_or_repetition(
    rows: list[dict[str, Any]], rnd: random.Random
) -> None:
    fields = ("event_name", "created_at")
    first = _compact(*_split(rows, rnd), fields)
    assert sorted(first, key=repr) == _expected(rows)
    # Another order of arrival into objects, another split between the copy and late objects: the same file.
    assert _compact(*_split(rows, rnd), fields) == first
    # Compacted again (nothing new, or its own rows as late objects of an empty copy): nothing changes.
    assert _compact(_as_rows(first), [], fields) == first
    assert _compact([], [_as_rows(first)], fields) == first


def _row(**changes: Any) -> dict[str, Any]:
    """One stored row of the partition's hour, unmarked, with ``changes``."""
    row = {
        "event_uuid": UUIDS[0],
        "event_name": NAMES[0],
        "event_subtype": "order",
        "created_at": int(HOUR.replace(tzinfo=UTC).timestamp()),
        "created_datetime": HOUR,
        "is_duplicate": None,
        "uuid_reused": None,
        "payload": "{}",
        "source_shard_id": "shardId-000000000000",
        "source_sequence_number": "1",
        "source_subsequence_number": 0,
        "source_arrival_datetime": HOUR,
    }
    return {**row, **changes}


def test_one_row_per_event_stays_false_and_a_reused_id_is_marked_in_its_partition() -> None:
    base = _row()
    first = dict(base, source_sequence_number="10")
    resent = dict(base, source_sequence_number="9", source_arrival_datetime=HOUR + timedelta(seconds=1))
    reused = dict(base, event_name=NAMES[1], source_sequence_number="11", is_duplicate=False)
    reused_again = dict(reused, source_sequence_number="100")
    got = {
        r["source_sequence_number"]: (r["is_duplicate"], r["uuid_reused"])
        for r in _as_rows(_compact([resent, reused_again], [[reused], [first]], ("event_name", "created_at")))
    }
    # "9" arrived a second later than "10" though its sequence number is smaller: arrival decides first.
    assert got == {"10": (False, False), "9": (True, False), "11": (False, True), "100": (True, True)}


def test_a_payload_field_in_the_fingerprint_tells_events_apart() -> None:
    row = _row(payload='{"order.id":"a","x":1}')
    other = dict(row, payload='{"x":1,"order.id":"b"}', source_sequence_number="2")
    same = dict(row, payload='{"x":2,"order.id":"a"}', source_sequence_number="3")
    fields = ("event_name", "order.id")
    got = [
        (r["source_sequence_number"], r["is_duplicate"], r["uuid_reused"])
        for r in _as_rows(_compact([], [[row, other, same]], fields))
    ]
    assert sorted(got) == [("1", False, False), ("2", False, True), ("3", True, False)]


def test_without_marks_the_rows_keep_theirs() -> None:
    statement = _statement(True, (), ("event_name", "created_at"))
    plain = CompactionStatement(**{**statement.__dict__, "mark": False})
    assert "row_number" not in plain.select_sql() and "is_duplicate" in plain.select_sql()
    assert "row_number" in statement.select_sql()
