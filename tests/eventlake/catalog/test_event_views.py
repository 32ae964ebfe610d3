"""The typed views (``infra.event_views_spec``): their SQL, and their answers in the local engine on a lake of
the sample generator's events, in both processor modes.

The expected values are computed here in Python from the payloads as sent (a field's value when its JSON type
is the declared one, else NULL), not by the SQL under test; and, for every event whose values have their
declared types, equal to ``json_extract_scalar`` on the payload.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlglot
import typed_lake
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from benchmarks import pruning as bench_pruning
from eventlake.athena import engine as athena
from glue import event_catalog, schema
from glue.event_catalog import CatalogError, DeclaredField, EventType
from infra import event_views_spec, processors
from infra.athena_spec import presto_type
from infra.event_views_spec import MAX_DEPTH, EventViewSpec, event_view, event_views
from infra.settings import Settings

CATALOG = event_catalog.load_catalog()
KINDS = {"string": str, "boolean": bool}


def leaves(entry: EventType) -> list[DeclaredField]:
    """The declared fields that get a column: leaves down to MAX_DEPTH, and what stops there."""
    out: list[DeclaredField] = []

    def visit(field: DeclaredField) -> None:
        if field.type == "object" and field.properties and len(field.path) < MAX_DEPTH:
            for child in field.properties:
                visit(child)
        else:
            out.append(field)

    for field in entry.fields:
        visit(field)
    return out


def expected(field: DeclaredField, payload: dict[str, Any]) -> Any:
    """What the view must read: the value when of the declared JSON type, else None."""
    value: Any = payload
    for name in field.path:
        if not isinstance(value, dict) or name not in value:
            return None
        value = value[name]
    if field.type == "integer":
        return value if type(value) is int else None
    if field.type == "number":
        return float(value) if type(value) in (int, float) else None
    if field.type == "object":
        return value if isinstance(value, dict) else None
    if field.type == "array":
        return value if isinstance(value, list) else None
    return value if type(value) is KINDS[field.type] else None


# --- the SQL ----------------------------------------------------------------------------------------


def _processor(uses_lambda: bool) -> processors.Processor:
    """The processor a case names: the transform's (marks, ``payload``) or jq's (``record``)."""
    return processors.LAMBDA if uses_lambda else processors.JQ


@pytest.mark.parametrize("uses_lambda", [True, False], ids=["lambda", "jq"])
def test_every_entry_has_a_view_selecting_exactly_its_columns_from_unique_events(uses_lambda: bool) -> None:
    views = event_views("eventlake_dev", _processor(uses_lambda), ("events", "unique_events"))
    assert [v.name for v in views] == [e.view_name for e in CATALOG]
    for view, entry in zip(views, CATALOG, strict=True):
        statement = sqlglot.parse_one(view.original_sql(), read="athena")
        assert [s.alias_or_name for s in statement.selects] == [c.name for c in view.columns]
        assert {t.name for t in statement.find_all(exp.Table)} == {"unique_events"}
        assert len({c.name for c in view.columns}) == len(view.columns)
        names = [c.name for c in view.columns]
        marks = ["is_duplicate", "uuid_reused"] if uses_lambda else []
        assert names[: 3 + len(marks)] == ["event_uuid", "created_datetime", "event_subtype", *marks]
        assert names[-3:] == list(schema.PARTITION_KEY_NAMES)
        fields = names[3 + len(marks) : -3]
        assert fields == [event_catalog.column_name(f.path) for f in leaves(entry)]
        where = statement.args["where"].this
        assert {(c.left.name, c.right.this) for c in where.flatten()} == {
            ("event_type", entry.event_type),
            ("event_name", entry.name),
        }
        source = "payload" if uses_lambda else "record"
        assert all(source in c.expression for c in view.columns if c.name in fields)
        for column in view.columns:
            presto_type(column.type)  # every column has its Trino type


def test_a_view_name_taken_by_a_table_or_view_is_refused_in_one_line(tmp_path: Path) -> None:
    entry = EventType("events", 1, (DeclaredField(("x",), "string"),))
    (tmp_path / entry.file_name).write_text(event_catalog.dumps(entry), encoding="utf-8")
    with pytest.raises(
        CatalogError, match=r"^events\.json: view name 'events' is already a table or view of db$"
    ):
        event_views("db", processors.LAMBDA, ("events", "unique_events"), tmp_path)
    landing = Settings(stack="dev")
    assert "events_landing" in event_views_spec.taken_names(landing)


def test_a_field_column_repeating_another_is_refused() -> None:
    twins = EventType(
        "a:b",
        1,
        (
            DeclaredField(("user_id",), "string"),
            DeclaredField(("user",), "object", properties=(DeclaredField(("user", "id"), "string"),)),
        ),
        source="a.b.json",
    )
    with pytest.raises(CatalogError, match=r"^a\.b\.json: field column 'user_id' of view a_b repeats"):
        event_view(twins, "db", processors.LAMBDA)
    envelope = EventType("a:b", 1, (DeclaredField(("event_date",), "string"),), source="a.b.json")
    with pytest.raises(CatalogError, match="'event_date' of view a_b repeats an envelope column"):
        event_view(envelope, "db", processors.LAMBDA)


_field_names = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True)


def _tree(depth: int, path: tuple[str, ...]) -> st.SearchStrategy[tuple[DeclaredField, ...]]:
    def one(name: str) -> st.SearchStrategy[DeclaredField]:
        here = (*path, name)
        kinds = ["string", "integer", "number", "boolean", "array"] + (["object"] if depth else [])
        return st.sampled_from(kinds).flatmap(
            lambda kind: (
                _tree(depth - 1, here).map(lambda props: DeclaredField(here, kind, properties=props))
                if kind == "object"
                else st.just(DeclaredField(here, kind))
            )
        )

    return st.lists(_field_names, min_size=1, max_size=3, unique=True).flatmap(
        lambda names: st.tuples(*(one(n) for n in names))
    )


@settings(max_examples=40)
@given(_tree(4, ()), st.booleans())
def test_any_declared_tree_gives_one_typed_column_per_leaf_and_sql_both_engines_read(
    fields: tuple[DeclaredField, ...], uses_lambda: bool
) -> None:
    entry = EventType("t:x", 1, fields)
    try:
        view = event_view(entry, "db", _processor(uses_lambda))
    except CatalogError as exc:  # two paths that snake-case to one column (a_b.c and a.b_c cannot: no _)
        assert "repeats" in str(exc)
        return
    statement = sqlglot.parse_one(view.original_sql(), read="athena")
    assert [s.alias_or_name for s in statement.selects] == [c.name for c in view.columns]
    by_name = {c.name: c for c in view.columns}
    for leaf in leaves(entry):
        column = by_name[event_catalog.column_name(leaf.path)]
        assert column.type == event_views_spec.GLUE_TYPES[leaf.type]
        assert f"'$.{'.'.join(leaf.path)}'" in column.expression
        assert len(leaf.path) <= MAX_DEPTH
    athena.to_duckdb(view.original_sql())  # the local engine translates it


def test_names_are_escaped_as_sql_literals() -> None:
    """The loader admits no quote in an event name; the SQL escapes one anyway."""
    view = EventViewSpec("db", "x", "it's:x", "it's", 1, (), "x.json")
    where = sqlglot.parse_one(view.original_sql() + "", read="athena").args["where"].this
    assert {c.right.this for c in where.flatten()} == {"it's", "it's:x"}


# --- answers in the local engine --------------------------------------------------------------------

WRONG = {  # event name -> (field path, a value of another type, a column that must read NULL)
    "payment:order:completed": (("total", "amount"), "12.50", "total_amount"),
    "support:ticket:opened": (("ticket_id",), 12.5, "ticket_id"),
    "feature_flag.evaluated": (("value",), "true", "value"),
    "session:ended": (("pages",), "7", "pages"),
    "review:submitted": (("text",), 5, "text"),
    "checkout:started": (("items",), {"sku": "SKU-1"}, "items"),
    "shipment:delivered": (("location",), [1, 2], "location_lat"),  # an object's leaves, when it is not one
    "account:created": (("user",), "u-1", "user_user_id"),
}


def _with_wrong_types(events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], set[str]]:
    """The first event of each name in WRONG with that field's value replaced; their uuids."""
    done: set[str] = set()
    out = []
    for event in events:
        name = event["event_name"]
        if name in WRONG and name not in {e.split("|")[0] for e in done}:
            path, value, _ = WRONG[name]
            event = json.loads(json.dumps(event))
            node = event
            for part in path[:-1]:
                node = node[part]
            node[path[-1]] = value
            done.add(f"{name}|{event['event_uuid']}")
        out.append(event)
    return out, {d.split("|")[1] for d in done}


@pytest.fixture(scope="module", params=[False, True], ids=["lambda", "jq"])
def lake(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, list, set]:
    as_sent: bool = request.param
    events, wrong = _with_wrong_types(typed_lake.sample_events(per_name=12))
    root = tmp_path_factory.mktemp("jq" if as_sent else "lambda")
    # every fifth event delivered twice: the view reads unique_events, one row per event
    typed_lake.write_lake(root, events, as_sent=as_sent, copies=lambda i: 2 if i % 5 == 0 else 1)
    return typed_lake.connect(root, as_sent=as_sent), events, wrong


@pytest.mark.parametrize("entry", CATALOG, ids=lambda e: e.view_name)
def test_each_view_reads_every_event_of_its_name_with_its_declared_types(
    lake: tuple[Any, list, set], entry: EventType
) -> None:
    conn, events, _ = lake
    fields = leaves(entry)
    columns = [event_catalog.column_name(f.path) for f in fields]
    _, rows = athena.run(conn, f"SELECT event_uuid, event_type, {', '.join(columns)} FROM {entry.view_name}")
    got = {row[0]: row for row in rows}
    mine = [e for e in events if e["event_name"] == entry.name]
    assert len(rows) == len(got) == len(mine) > 0  # one row per event, copies dropped
    for event in mine:
        row = got[event["event_uuid"]]
        assert row[1] == entry.event_type
        payload = typed_lake.payload_of(event)
        for field, value in zip(fields, row[2:], strict=True):
            want = expected(field, payload)
            if field.type in ("object", "array"):
                assert (json.loads(value) if value is not None else None) == want, (event, field.path)
            else:
                assert value == want, (event["event_uuid"], field.path, value, want)


@pytest.mark.parametrize("entry", CATALOG, ids=lambda e: e.view_name)
def test_each_views_scalars_equal_json_extract_scalar_for_the_events_sent_as_declared(
    lake: tuple[Any, list, set], entry: EventType
) -> None:
    conn, _, wrong = lake
    scalars = [f for f in leaves(entry) if f.type in ("string", "integer", "number", "boolean")]
    if not scalars:
        return
    source = "payload" if "is_duplicate" in _view_columns(conn, entry) else "record"
    checks = " OR ".join(
        f"NOT ({event_catalog.column_name(f.path)} IS NOT DISTINCT FROM "
        f"TRY_CAST(json_extract_scalar(u.{source}, '$.{'.'.join(f.path)}') AS {_sql_type(f)}))"
        for f in scalars
    )
    sql = (
        f"SELECT v.event_uuid FROM {entry.view_name} AS v "
        f"JOIN unique_events AS u ON u.event_uuid = v.event_uuid WHERE {checks}"
    )
    _, differing = athena.run(conn, sql)
    assert {r[0] for r in differing} <= wrong


def _sql_type(field: DeclaredField) -> str:
    return {"string": "varchar", "integer": "bigint", "number": "double", "boolean": "boolean"}[field.type]


def _view_columns(conn: Any, entry: EventType) -> list[str]:
    names, _ = athena.run(conn, f"SELECT * FROM {entry.view_name} LIMIT 0")
    return names


def test_a_value_of_the_wrong_type_reads_null_and_the_rest_of_its_row_reads(
    lake: tuple[Any, list, set],
) -> None:
    conn, events, wrong = lake
    assert len(wrong) == len(WRONG)
    for name, (_, _, column) in WRONG.items():
        entry = next(e for e in CATALOG if e.name == name)
        uuid = next(e["event_uuid"] for e in events if e["event_name"] == name and e["event_uuid"] in wrong)
        _, rows = athena.run(
            conn,
            f"SELECT {column}, event_uuid, event_date FROM {entry.view_name} WHERE event_uuid = '{uuid}'",
        )
        assert rows == [(None, uuid, rows[0][2])], name
        _, others = athena.run(conn, f"SELECT count({column}) FROM {entry.view_name}")
        assert others[0][0] > 0, name  # the other events of the name read theirs


def test_an_analyst_question_through_a_view_equals_the_same_over_the_payloads(
    lake: tuple[Any, list, set],
) -> None:
    """Revenue per currency of the completed orders: through the typed view, and by hand in Python."""
    conn, events, wrong = lake
    _, rows = athena.run(
        conn,
        "SELECT total_currency, count(*) AS orders, sum(total_amount) AS revenue "
        "FROM payment_order_completed WHERE total_amount IS NOT NULL "
        "GROUP BY total_currency ORDER BY total_currency",
    )
    by_hand: dict[str, list[float]] = {}
    for e in events:
        if e["event_name"] == "payment:order:completed" and e["event_uuid"] not in wrong:
            by_hand.setdefault(e["total"]["currency"], []).append(e["total"]["amount"])
    assert [(c, n, round(r, 6)) for c, n, r in rows] == [
        (c, len(v), round(sum(v), 6)) for c, v in sorted(by_hand.items())
    ]


def test_a_one_type_one_day_query_through_a_typed_view_opens_only_that_days_objects(tmp_path: Path) -> None:
    """The pruning bench's lake (types x days x 24 hourly objects, payload {"n": i, "note": ...}): the typed
    view of t07:done, filtered on one day, opens that type's 24 objects of the day and nothing else."""
    types, days = 8, 3
    catalog = bench_pruning.generate_lake(tmp_path, types=types, days=days)
    conn = athena.connect(tmp_path, partitions=catalog)
    entry = EventType("t07:done", 1, (DeclaredField(("n",), "integer"), DeclaredField(("note",), "string")))
    view = event_view(entry, athena.LOCAL_DATABASE, processors.LAMBDA)
    day = "2026-11-02"
    sql = f"SELECT count(*), sum(n) FROM ({view.original_sql()}) AS v WHERE event_date = '{day}'"
    touched = bench_pruning.touched(conn, "typed view", sql, tmp_path, catalog, "t07", day)
    assert touched.lake_files == types * days * 24
    assert touched.files == 24, touched
    _, rows = athena.run(conn, sql)
    assert rows[0][0] > 0 and rows[0][1] is not None
