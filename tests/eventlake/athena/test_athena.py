"""Every query in glue/sql, run on DuckDB over a tiny lake written the way Firehose writes it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlglot

from eventlake.athena import engine as athena
from eventlake.firehose_formats.conversion import convert, to_parquet
from eventlake.firehose_formats.prefixes import evaluate, object_key, object_name
from glue import schema
from infra.settings import PROJECT_ROOT
from transform_lambda.events import Event, Lineage, dumps, enrich, partition_keys

SQL_DIR = PROJECT_ROOT / "glue" / "sql"
UUID_A = "3f2b8c1e-9a4d-4e6f-8b7a-00000000000a"
UUID_B = "3f2b8c1e-9a4d-4e6f-8b7a-00000000000b"
UUID_C = "3f2b8c1e-9a4d-4e6f-8b7a-00000000000c"
UUID_D = "3f2b8c1e-9a4d-4e6f-8b7a-00000000000d"
T7 = datetime(2026, 11, 25, 7, 10, tzinfo=UTC).timestamp()


def emitted(
    uuid: str, name: str, created_at: float, payload: dict, *, arrival: float, seq: int, dup: bool
) -> tuple[bytes, dict[str, str]]:
    """One record as the Lambda emits it, and its partition keys."""
    parts = name.split(":")
    event = Event(uuid, name, parts[0], parts[1] if len(parts) > 1 else None, created_at, payload)
    lineage = Lineage(
        "shardId-000000000000", f"49546986683135544286507457936321625675700192{seq:012d}", int(arrival * 1000)
    )
    return (dumps(enrich(event, lineage, is_duplicate=dup)) + "\n").encode(), partition_keys(event)


def deliver(lake: Path, records: Iterable[tuple[bytes, dict[str, str]]], *, when: datetime) -> None:
    """Group by partition, convert and write one Parquet object per partition, keyed like Firehose."""
    groups: dict[str, list[bytes]] = {}
    for data, keys in records:
        prefix = evaluate(schema.DATA_PREFIX, arrival=when, partition_keys=keys)
        groups.setdefault(prefix, []).append(data)
    for prefix, datas in groups.items():
        table, _, failures = convert(datas)
        assert not failures
        name = object_name(
            delivery_stream_name="eventlake-test", version=1, delivery_time=when, extension=".parquet"
        )
        path = lake / object_key(prefix, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(to_parquet(table, compression="SNAPPY"))


EUR = {"total": {"amount": 12.5, "currency": "EUR"}}
CHF = {"total": {"amount": "3", "currency": "CHF"}}
NESTED = {"total": {"amount": {"value": 1}}}
PAY = "payment:order:completed"


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    first = [
        # A arrives three times; the copy processed first is not the one that reached Kinesis first.
        emitted(UUID_A, PAY, T7, EUR, arrival=T7 + 5, seq=2, dup=False),
        emitted(UUID_C, "account:created", T7 + 60, NESTED, arrival=T7 + 61, seq=3, dup=False),
        # D happened at 23:30 the day before and reached Kinesis at 07:10:30: a late arrival.
        emitted(UUID_D, "payment:refund", T7 - 7 * 3600 - 2400, CHF, arrival=T7 + 30, seq=4, dup=False),
    ]
    second = [
        emitted(UUID_A.upper(), PAY, T7, EUR, arrival=T7 + 2, seq=1, dup=True),
        emitted(UUID_A, PAY, T7, EUR, arrival=T7 + 9, seq=5, dup=True),
        emitted(
            UUID_B, PAY, T7 + 3600, {"total": {"amount": 99}, "x": [1]}, arrival=T7 + 3601, seq=6, dup=False
        ),
    ]
    deliver(tmp_path, first, when=datetime(2026, 11, 25, 7, 15, tzinfo=UTC))
    deliver(tmp_path, second, when=datetime(2026, 11, 25, 8, 15, tzinfo=UTC))
    # Objects outside events/ (errors, raw backup) must not be read as data.
    (tmp_path / "errors/format-conversion-failed/2026/11/25/07").mkdir(parents=True)
    (tmp_path / "errors/format-conversion-failed/2026/11/25/07/x.parquet").write_bytes(b"not parquet")
    return tmp_path


def run(lake: Path, name: str) -> tuple[list[str], list[tuple]]:
    return athena.run(athena.connect(lake), athena.load_queries()[name])


# --- the query files ------------------------------------------------------------------------------------


def test_queries_are_loaded_sorted_with_headers_matching_their_files() -> None:
    queries = athena.load_queries()
    assert list(queries) == sorted(queries)
    assert {"events_per_type_and_hour", "duplicates", "unique_events", "latest_events"} <= set(queries)
    assert set(queries) == {path.stem for path in SQL_DIR.glob("*.sql")}
    for text in queries.values():
        header = athena.query_header(text)
        assert text.startswith("-- name: ") and header["description"]


def test_queries_read_the_schema_table_and_parse_as_athena_sql() -> None:
    """Unqualified, so they run in whichever stack's database is the query's context."""
    for name, text in athena.load_queries().items():
        tables = {(t.db, t.name) for t in sqlglot.parse_one(text, read="athena").find_all(sqlglot.exp.Table)}
        assert tables == {("", schema.TABLE_NAME)}, name


def test_dedupe_window_partitions_by_every_partition_column() -> None:
    text = athena.load_queries()["unique_events"]
    window = next(sqlglot.parse_one(text, read="athena").find_all(sqlglot.exp.Window))
    partition_by = {c.name for e in window.args["partition_by"] for c in e.find_all(sqlglot.exp.Column)}
    assert set(schema.PARTITION_KEY_NAMES) <= partition_by


# --- the local lake -------------------------------------------------------------------------------------


def test_view_has_glue_columns_and_string_partitions(lake: Path) -> None:
    conn = athena.connect(lake)
    described = conn.execute("DESCRIBE events").fetchall()
    assert [row[0] for row in described] == [*schema.COLUMN_NAMES, *schema.PARTITION_KEY_NAMES]
    types = dict((row[0], row[1]) for row in described)
    assert types["created_at"] == "BIGINT" and types["created_datetime"] == "TIMESTAMP"
    assert all(types[name] == "VARCHAR" for name in schema.PARTITION_KEY_NAMES)
    hours = athena.run(conn, "SELECT DISTINCT event_hour FROM events ORDER BY 1")[1]
    assert hours == [("07",), ("08",), ("23",)]


def test_empty_lake_gives_an_empty_view_with_the_right_columns(tmp_path: Path) -> None:
    conn = athena.connect(tmp_path)
    names, rows = athena.run(conn, "SELECT * FROM events")
    assert names == [*schema.COLUMN_NAMES, *schema.PARTITION_KEY_NAMES] and rows == []
    for name, text in athena.load_queries().items():
        names, rows = athena.run(conn, text)
        assert names and rows == [], name
    # Once objects exist, recreating the view picks them up.
    deliver(tmp_path, [emitted(UUID_B, "a:b", T7, {}, arrival=T7, seq=1, dup=False)], when=datetime.now(UTC))
    athena.create_view(conn, tmp_path)
    assert athena.run(conn, "SELECT count(*) FROM events")[1] == [(1,)]


# --- every query, with real results ---------------------------------------------------------------------


def test_events_per_type_and_hour(lake: Path) -> None:
    names, rows = run(lake, "events_per_type_and_hour")
    assert names == ["event_type", "event_date", "event_hour", "events"]
    assert rows == [
        ("account", "2026-11-25", "07", 1),
        ("payment", "2026-11-24", "23", 1),
        ("payment", "2026-11-25", "07", 3),
        ("payment", "2026-11-25", "08", 1),
    ]


def test_duplicates(lake: Path) -> None:
    names, rows = run(lake, "duplicates")
    assert names == ["event_type", "events", "duplicates", "duplicate_percent"]
    assert rows == [("payment", 5, 2, Decimal("40.00")), ("account", 1, 0, Decimal("0.00"))]


def test_unique_events_keeps_the_earliest_arrival_of_each_event(lake: Path) -> None:
    names, rows = run(lake, "unique_events")
    assert names == [*schema.COLUMN_NAMES, *schema.PARTITION_KEY_NAMES]
    got = {row[0].lower(): dict(zip(names, row, strict=True)) for row in rows}
    assert sorted(got) == [UUID_A, UUID_B, UUID_C, UUID_D]
    first_a = got[UUID_A]
    # The copy that reached Kinesis first, upper-case id and all, even though it is the one marked duplicate.
    assert first_a["event_uuid"] == UUID_A.upper()
    assert first_a["source_arrival_datetime"] == datetime(2026, 11, 25, 7, 10, 2)
    assert first_a["is_duplicate"] is True
    assert (first_a["event_type"], first_a["event_date"], first_a["event_hour"]) == (
        "payment",
        "2026-11-25",
        "07",
    )


def test_unique_events_keeps_a_different_event_that_reuses_an_id_in_the_same_type_hour(
    tmp_path: Path,
) -> None:
    """Two rows, one id, the same type-hour, another name and time: two events, both kept (each its earliest
    copy); a repeat of either is not."""
    deliver(
        tmp_path,
        [
            emitted(UUID_A, PAY, T7, EUR, arrival=T7 + 1, seq=1, dup=False),
            emitted(UUID_A, "payment:refund", T7 + 120, CHF, arrival=T7 + 2, seq=2, dup=False),
            emitted(UUID_A, "payment:refund", T7 + 120, CHF, arrival=T7 + 3, seq=3, dup=True),
            emitted(UUID_A, PAY, T7, EUR, arrival=T7 + 4, seq=4, dup=True),
        ],
        when=datetime(2026, 11, 25, 7, 15, tzinfo=UTC),
    )
    names, rows = run(tmp_path, "unique_events")
    kept = sorted(
        (row[names.index("event_name")], row[names.index("source_sequence_number")][-1]) for row in rows
    )
    assert kept == [(PAY, "1"), ("payment:refund", "2")]


def test_unique_events_still_filters_on_partitions(lake: Path) -> None:
    text = athena.load_queries()["unique_events"]
    wrapped = f"SELECT event_uuid FROM ({text}) AS u WHERE event_type = 'payment' AND event_hour = '07'"
    assert athena.run(athena.connect(lake), wrapped)[1] == [(UUID_A.upper(),)]


def test_latest_events(lake: Path) -> None:
    names, rows = run(lake, "latest_events")
    assert names == [
        "event_uuid", "event_name", "created", "total_amount", "currency",
        "event_type", "event_date", "event_hour",
    ]  # fmt: skip
    assert [r[:1] + r[2:5] for r in rows] == [
        (UUID_B, "2026-11-25T08:10:00.000", "99", None),
        (UUID_C, "2026-11-25T07:11:00.000", None, None),  # an object is not a scalar: NULL, as in Athena
        (UUID_A, "2026-11-25T07:10:00.000", "12.5", "EUR"),
        (UUID_D, "2026-11-24T23:30:00.000", "3", "CHF"),
    ]


def test_late_arrivals(lake: Path) -> None:
    names, rows = run(lake, "late_arrivals")
    assert names == ["event_type", "arrival_hour", "late_events", "max_lag"]
    assert rows == [("payment", "2026-11-25 07", 1, timedelta(hours=7, minutes=40, seconds=30))]


def test_latest_events_limit_is_20(tmp_path: Path) -> None:
    records = [
        emitted(
            f"3f2b8c1e-9a4d-4e6f-8b7a-{i:012d}", "page:viewed", T7 + i, {}, arrival=T7 + i, seq=i, dup=False
        )
        for i in range(25)
    ]
    deliver(tmp_path, records, when=datetime.now(UTC))
    rows = run(tmp_path, "latest_events")[1]
    assert len(rows) == 20 and rows[0][0].endswith("000000000024")


# --- translation ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("yyyy-MM-dd HH:mm:ss.SSS", "%Y-%m-%d %H:%M:%S.%g"),
        ("yyyy/MM/dd/HH", "%Y/%m/%d/%H"),
        ("yy M d H m s", "%y %-m %-d %-H %-M %-S"),
        ("EEE, dd MMM yyyy hh a", "%a, %d %b %Y %I %p"),
        ("'at' HH'h' 100%", "at %Hh 100%%"),
    ],
)
def test_format_datetime_patterns(pattern: str, expected: str) -> None:
    assert athena.joda_to_strftime(pattern) == expected


def test_format_datetime_and_to_iso8601_run_like_trino() -> None:
    conn = athena.connect(Path("/nonexistent-lake"))
    sql = (
        "SELECT format_datetime(TIMESTAMP '2026-11-25 07:08:09.123', 'yyyy-MM-dd''T''HH'), "
        "to_iso8601(TIMESTAMP '2026-11-25 07:08:09.123'), to_iso8601(CAST('2026-11-25' AS DATE))"
    )
    assert athena.run(conn, sql)[1] == [("2026-11-25T07", "2026-11-25T07:08:09.123", "2026-11-25")]


@pytest.mark.parametrize(
    ("sql", "function"),
    [
        ("SELECT format_datetime(x, 'yyyy QQ')", "format_datetime"),
        ("SELECT format_datetime(x, p) FROM t", "format_datetime"),
        ("SELECT format_datetime(x, 'yyyy''')", "format_datetime"),
        ("SELECT to_iso8601(a, b) FROM t", "to_iso8601"),
    ],
)
def test_untranslatable_functions_raise_naming_the_function(sql: str, function: str) -> None:
    with pytest.raises(athena.TranslationError, match=function):
        athena.to_duckdb(sql)


def test_json_extract_scalar_keeps_trino_semantics() -> None:
    rows = [
        json.dumps({"amount": 1.5}),
        json.dumps({"amount": {"v": 1}}),
        "not json",
        "{}",
        json.dumps({"amount": [1]}),
    ]
    values = ", ".join("('" + r.replace("'", "''") + "')" for r in rows)
    sql = f"SELECT json_extract_scalar(p, '$.amount') FROM (VALUES {values}) AS t(p)"
    got = athena.run(athena.connect(Path("/nonexistent-lake")), sql)[1]
    assert got == [("1.5",), (None,), (None,), (None,), (None,)]


def test_unaliased_expressions_are_named_like_athena(tmp_path: Path) -> None:
    sql = "SELECT event_type, count(*), max(event_hour) AS top, 1 + 1 FROM events GROUP BY event_type"
    names, rows = athena.run(athena.connect(tmp_path), sql)
    assert names == ["event_type", "_col1", "top", "_col3"] and rows == []


# --- Athena's semantics, not DuckDB's -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "pattern"),
    [
        ("SELECT round(100.0 * count_if(is_duplicate) / count(*), 2) FROM events", "decimal literal 100.0"),
        ("SELECT 1e2 * count(*) FROM events", "decimal literal 1e2"),
        ("SELECT count_if(is_duplicate) / count(*) FROM events", "truncates integers"),
        ("SELECT json_extract(payload, '$.total') FROM events", "json_extract returns JSON"),
        ("SELECT count(*) FROM events WHERE event_hour = 7", "partition columns are strings"),
        ("SELECT count(*) FROM events WHERE event_hour IN (7, 8)", "partition columns are strings"),
    ],
)
def test_patterns_where_athena_and_duckdb_disagree_are_refused(sql: str, pattern: str) -> None:
    assert any(pattern in problem for problem in athena.athena_divergences(sql))


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT round(CAST(count_if(is_duplicate) AS DOUBLE) * 100 / count(*), 2) FROM events",
        "SELECT CAST(1.5 AS DOUBLE) FROM events WHERE event_hour = '07'",
        "SELECT json_extract_scalar(payload, '$.total.amount') FROM events",
    ],
)
def test_the_portable_spellings_pass(sql: str) -> None:
    assert athena.athena_divergences(sql) == []


def test_every_deployed_query_is_free_of_divergent_patterns() -> None:
    assert {name: athena.athena_divergences(sql) for name, sql in athena.load_queries().items()} == {
        name: [] for name in athena.load_queries()
    }


def test_exact_answers_on_a_generated_lake_with_known_counts(tmp_path: Path) -> None:
    """Counts chosen so a DECIMAL-truncated percentage would differ (1 of 21 is 4.76 %, Trino's
    ``100.0 * 1 / 21`` would give 4.8 before rounding); every answer computed independently here."""
    plan = {"alpha": (21, 1), "beta": (30, 2), "gamma": (7, 0)}  # type -> (rows, of which duplicates)
    records = []
    seq = 0
    for event_type, (rows, duplicates) in plan.items():
        for i in range(rows):
            seq += 1
            hour = i % 3  # hours 07, 08, 09
            created = T7 + hour * 3600
            uuid = (
                f"3f2b8c1e-9a4d-4e6f-8b7a-{seq:012d}"
                if i >= duplicates
                else f"3f2b8c1e-9a4d-4e6f-8b7a-{i:012x}ff"
            )
            late = 7200 if event_type == "gamma" and i < 2 else 0
            records.append(
                emitted(
                    uuid,
                    f"{event_type}:x",
                    created,
                    {"n": i},
                    arrival=created + 1 + late,
                    seq=seq,
                    dup=i < duplicates,
                )
            )
    deliver(tmp_path, records, when=datetime(2026, 11, 25, 12, tzinfo=UTC))

    _, duplicates = run(tmp_path, "duplicates")
    assert duplicates == [("beta", 30, 2, 6.67), ("alpha", 21, 1, 4.76), ("gamma", 7, 0, 0.0)]
    assert all(type(row[3]) is float for row in duplicates)  # a DOUBLE, as the CAST makes it in Athena too
    _, per_hour = run(tmp_path, "events_per_type_and_hour")
    expected = sorted(
        (t, "2026-11-25", f"{7 + h:02d}", sum(1 for i in range(rows) if i % 3 == h))
        for t, (rows, _) in plan.items()
        for h in range(3)
    )
    assert per_hour == expected
    _, late = run(tmp_path, "late_arrivals")
    assert [(row[0], row[2]) for row in late] == [("gamma", 1), ("gamma", 1)]  # two arrival hours, one each
    _, unique = run(tmp_path, "unique_events")
    assert len(unique) == sum(rows for rows, _ in plan.values())  # every id distinct here


def test_the_unique_events_view_exists_locally_as_deployed(lake: Path) -> None:
    conn = athena.connect(lake)
    via_view = athena.run(conn, "SELECT event_uuid FROM unique_events ORDER BY event_uuid")[1]
    via_query = sorted((row[0],) for row in run(lake, "unique_events")[1])
    assert via_view == via_query and len(via_view) == 4
