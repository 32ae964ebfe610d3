"""``query --bucket`` fetches only the partitions a query's partition filters select: exactly those for which
the WHERE holds when its filters are all on partition columns, every partition when it cannot tell."""

from __future__ import annotations

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from eventlake.athena.catalog_reader import selected_partitions
from eventlake.athena.engine import CatalogPartition
from glue import schema

TYPES, DATES, HOURS = ["a", "b", "c"], ["2026-12-06", "2026-12-07"], ["00", "07", "23"]
VALUES = {"event_type": TYPES, "event_date": DATES, "event_hour": HOURS}


def _partition(values: tuple[str, str, str]) -> CatalogPartition:
    folder = schema.partition_folder(dict(zip(schema.PARTITION_KEY_NAMES, values, strict=True)))
    return CatalogPartition(values, f"s3://lake/{folder}")


@st.composite
def conjunct(draw: st.DrawFn) -> str:
    column = draw(st.sampled_from(schema.PARTITION_KEY_NAMES))
    choices = VALUES[column]
    kind = draw(st.sampled_from(["eq", "in", "between"]))
    if kind == "eq":
        return f"{column} = '{draw(st.sampled_from(choices))}'"
    if kind == "in":
        picked = draw(st.lists(st.sampled_from(choices), min_size=1, max_size=3))
        return f"{column} IN ({', '.join(repr(v) for v in picked)})"
    low, high = sorted(draw(st.lists(st.sampled_from(choices), min_size=2, max_size=2)))
    return f"{column} BETWEEN '{low}' AND '{high}'"


@settings(max_examples=60)
@given(
    st.lists(
        st.tuples(st.sampled_from(TYPES), st.sampled_from(DATES), st.sampled_from(HOURS)),
        unique=True,
        max_size=12,
    ),
    st.lists(conjunct(), max_size=3),
    st.sampled_from(["events", "eventlake_dev.unique_events"]),
)
def test_the_selection_is_exactly_where_the_filters_hold(
    values: list[tuple[str, str, str]], conjuncts: list[str], table: str
) -> None:
    partitions = [_partition(v) for v in values]
    where = " AND ".join(conjuncts)
    sql = f"SELECT count(*) FROM {table}" + (f" WHERE {where}" if where else "")
    conn = duckdb.connect()
    rows = ", ".join(f"('{t}', '{d}', '{h}')" for t, d, h in values) or "('', '', '')"
    holding = {
        tuple(r)
        for r in conn.execute(
            f"SELECT * FROM (VALUES {rows}) AS p(event_type, event_date, event_hour)"
            + (f" WHERE {where}" if where else "")
        ).fetchall()
    }
    assert {p.values for p in selected_partitions(sql, partitions)} == holding & set(values)


def test_what_it_cannot_read_selects_every_partition() -> None:
    partitions = [_partition(("a", DATES[0], "00")), _partition(("b", DATES[1], "07"))]
    for sql in (
        "SELECT count(*) FROM events WHERE event_type = 'a' OR event_hour = '07'",
        "SELECT count(*) FROM events WHERE upper(event_type) = 'A'",
        "SELECT count(*) FROM events e JOIN events f ON e.event_uuid = f.event_uuid WHERE e.event_type = 'a'",
        "SELECT count(*) FROM (SELECT * FROM events WHERE event_type = 'a') WHERE event_hour = '00'",
        "not sql at all (",
    ):
        assert selected_partitions(sql, partitions) == partitions, sql
