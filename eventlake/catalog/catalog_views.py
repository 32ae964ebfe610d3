"""The catalog's typed views in a Glue catalog, and a question answered through one as Athena answers it.

``eventlake demo`` creates ``unique_events`` and every typed view in the embedded Glue with the ``TableInput``
the program deploys (``infra.athena_spec.view_table_input``, ``EventViewSpec.table_input``), then answers
``DEMO_QUESTION`` with each view's SQL read back from Glue, not from the repository: what the demo prints is
what the deployed definition answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventlake.athena import engine as athena
from infra import event_views_spec
from infra.athena_spec import VIEW_QUERY, VIEW_TABLE_TYPE, ViewSpec, decode_view_text, view_table_input
from infra.settings import Settings

DEMO_VIEW = "payment_order_completed"
# The README's first typed question (Query), over every date of the demo's lake.
DEMO_QUESTION = (
    "SELECT total_currency, count(*) AS orders, round(sum(total_amount), 2) AS revenue\n"
    f"FROM {DEMO_VIEW}\nGROUP BY total_currency ORDER BY revenue DESC"
)


def table_inputs(settings: Settings) -> list[dict[str, Any]]:
    """``unique_events`` first (each typed view reads it), then one typed view per catalog entry."""
    views = event_views_spec.from_settings(settings)
    return [view_table_input(ViewSpec.from_settings(settings)), *(v.table_input() for v in views)]


def create_in_glue(glue: Any, settings: Settings) -> list[str]:
    """Create (or update, as a deploy would) the stack's views in its Glue database: their names."""
    names = []
    for table in table_inputs(settings):
        try:
            glue.create_table(DatabaseName=settings.glue_database, TableInput=table)
        except glue.exceptions.AlreadyExistsException:
            glue.update_table(DatabaseName=settings.glue_database, TableInput=table)
        names.append(str(table["Name"]))
    return names


def glue_views(glue: Any, database: str) -> dict[str, str]:
    """Each ``VIRTUAL_VIEW`` of a Glue database: its name and the SELECT its Presto definition holds."""
    out = {}
    for page in glue.get_paginator("get_tables").paginate(DatabaseName=database):
        for table in page["TableList"]:
            if table.get("TableType") == VIEW_TABLE_TYPE:
                out[str(table["Name"])] = str(decode_view_text(table["ViewOriginalText"])["originalSql"])
    return out


def create_local_views(conn: Any, database: str, views: dict[str, str]) -> None:
    """The typed views in a local Athena session (``athena.connect``), from the SQL Glue holds; the session
    has its own ``unique_events`` over the same lake, which they read."""
    for name, sql in views.items():
        if name == VIEW_QUERY:
            continue
        duck = athena.to_duckdb(sql, database).replace(
            f"FROM {VIEW_QUERY}", f"FROM {database}.{VIEW_QUERY}", 1
        )
        conn.execute(f"CREATE OR REPLACE VIEW {database}.{name} AS {duck}")


@dataclass(frozen=True)
class TypedAnswer:
    """A question through a typed view, as the demo prints it, and the views Glue held."""

    sql: str
    columns: list[str]
    rows: Sequence[tuple[Any, ...]]
    views: list[str]  # the typed views Glue held

    def document(self) -> dict[str, Any]:
        return {
            "sql": self.sql,
            "views": self.views,
            "rows": [dict(zip(self.columns, row, strict=True)) for row in self.rows],
        }


def answer(
    glue: Any,
    settings: Settings,
    root: Path,
    partitions: Sequence[athena.CatalogPartition],
    sql: str = DEMO_QUESTION,
) -> TypedAnswer:
    """``sql`` over the lake mirrored at ``root`` (the catalog's ``partitions``), through the views Glue
    holds for the stack's database."""
    database = settings.glue_database
    views = glue_views(glue, database)
    conn = athena.connect(root, database, partitions, processor=settings.processing)
    create_local_views(conn, database, views)
    columns, rows = athena.run(conn, sql)
    return TypedAnswer(sql, columns, rows, sorted(n for n in views if n != VIEW_QUERY))
