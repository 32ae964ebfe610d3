"""The typed views as plain data: one Glue view per catalog entry (``glue/event_types/``), read from
``unique_events``, with the envelope columns and one typed column per declared field.

``infra/event_views.py`` deploys them as ``unique_events`` is deployed (a ``VIRTUAL_VIEW`` holding a Presto
view definition, ``infra.athena_spec.ViewSpec``); the local engine creates the same SQL
(``eventlake.athena.engine.create_event_views``), so a view answers locally as it would on Athena. No Pulumi
here.

A field's column reads the JSON text of its value (``json_format(json_extract(...))``) and keeps it only when
it is of the declared JSON type: a string must start with ``"``, an integer must cast to ``bigint`` (digits
only: ``"12"`` in quotes, ``12.5`` and ``true`` read NULL), a number to ``double``, a boolean is ``true`` or
``false``. So a value of the wrong type reads NULL instead of failing the query, or of being read as another
type's text (``json_extract_scalar`` alone would read ``"12"`` as 12 and ``12`` as the string ``'12'``).

Objects nest into one column per declared leaf down to ``MAX_DEPTH`` names (``item.price.amount`` ->
``item_price_amount``); an object deeper, an object without declared properties, and every array are one
column holding the value's JSON text (``json_extract``/``json_parse`` read further into it).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from aws_contract import limits
from glue import event_catalog, schema
from glue.event_catalog import DeclaredField, EventType
from infra import processors
from infra.athena_spec import (
    DATA_CATALOG,
    PRESTO_VIEW_EXPANDED_TEXT,
    PRESTO_VIEW_PREFIX,
    PRESTO_VIEW_SUFFIX,
    VIEW_OWNER,
    VIEW_PARAMETERS,
    VIEW_QUERY,
    VIEW_TABLE_TYPE,
    presto_type,
)
from infra.compaction_spec import CompactionSpec
from infra.processors import Processor
from infra.settings import Settings

# A leaf at most this many names deep gets its own column (``item.price.amount``); deeper is JSON text.
MAX_DEPTH = 3
# Glue (Hive) type of a declared JSON type; objects and arrays are JSON text.
GLUE_TYPES = {
    "string": "string",
    "integer": "bigint",
    "number": "double",
    "boolean": "boolean",
    "object": "string",
    "array": "string",
}


@dataclass(frozen=True)
class ViewColumn:
    """One column of a typed view: its Glue type and comment, and the Athena expression that computes it."""

    name: str
    type: str
    comment: str
    expression: str


def envelope(processor: Processor) -> tuple[tuple[ViewColumn, ...], tuple[ViewColumn, ...]]:
    """The columns before the fields (id, time, subtype, the marks where the processor's table has them) and
    after them (the partition columns), each read as is from ``unique_events``."""
    by_name = {c.name: c for c in (*schema.COLUMNS, *schema.PARTITION_KEYS)}
    first = ["event_uuid", "created_datetime", "event_subtype", *processor.mark_columns]
    head = tuple(ViewColumn(n, by_name[n].type, by_name[n].comment, n) for n in first)
    tail = tuple(ViewColumn(c.name, c.type, c.comment, c.name) for c in schema.PARTITION_KEYS)
    return head, tail


def field_columns(entry: EventType, source: str) -> tuple[ViewColumn, ...]:
    """One column per declared leaf (``MAX_DEPTH`` deep), in declaration order."""
    out: list[ViewColumn] = []
    for field in entry.fields:
        _collect(field, source, out)
    return tuple(out)


def _collect(field: DeclaredField, source: str, out: list[ViewColumn]) -> None:
    if field.type == "object" and field.properties and len(field.path) < MAX_DEPTH:
        for child in field.properties:
            _collect(child, source, out)
        return
    comment = field.description or f"{'.'.join(field.path)}: {field.type}" + (
        ", JSON text" if field.type in ("object", "array") else ""
    )
    out.append(
        ViewColumn(
            name=event_catalog.column_name(field.path),
            type=GLUE_TYPES[field.type],
            comment=comment[: limits.GLUE_COLUMN_COMMENT_MAX_CHARS],
            expression=typed_expression(field, source),
        )
    )


def json_path(path: tuple[str, ...]) -> str:
    """``$.total.amount``: field names are identifiers (the loader's rule), so no quoting is needed."""
    return "$." + ".".join(path)


def typed_expression(field: DeclaredField, source: str) -> str:
    """The Athena expression of one column: the value when of the declared type, else NULL."""
    path = json_path(field.path)
    text = f"json_format(json_extract({source}, '{path}'))"
    if field.type == "string":
        return f"IF(starts_with({text}, '\"'), json_extract_scalar({source}, '{path}'))"
    if field.type == "integer":
        return f"TRY_CAST({text} AS bigint)"
    if field.type == "number":
        return f"TRY_CAST({text} AS double)"
    if field.type == "boolean":
        return f"CASE {text} WHEN 'true' THEN true WHEN 'false' THEN false END"
    opener = "{" if field.type == "object" else "["
    return f"IF(starts_with({text}, '{opener}'), {text})"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class EventViewSpec:
    """One typed view: its name, the event it selects, its columns, and its SQL over ``unique_events``."""

    database_name: str
    name: str
    event_name: str
    event_type: str
    version: int
    columns: tuple[ViewColumn, ...]
    source: str  # the catalog file

    def original_sql(self) -> str:
        """The SELECT the view stores. Its WHERE names the event's partition value, so Athena prunes to the
        type's partitions whatever the query asks, and passes the query's own partition filters through
        ``unique_events`` (whose window is partitioned by them)."""
        select = ",\n    ".join(
            c.name if c.expression == c.name else f"{c.expression} AS {c.name}" for c in self.columns
        )
        return (
            f"SELECT\n    {select}\nFROM {VIEW_QUERY}\n"
            f"WHERE event_type = {_literal(self.event_type)} AND event_name = {_literal(self.event_name)}"
        )

    def presto_definition(self) -> dict[str, Any]:
        return {
            "originalSql": self.original_sql(),
            "catalog": DATA_CATALOG,
            "schema": self.database_name,
            "columns": [{"name": c.name, "type": presto_type(c.type)} for c in self.columns],
            "owner": VIEW_OWNER,
            "runAsInvoker": False,
        }

    def original_text(self) -> str:
        document = json.dumps(self.presto_definition(), separators=(",", ":"), ensure_ascii=False)
        return PRESTO_VIEW_PREFIX + base64.b64encode(document.encode()).decode() + PRESTO_VIEW_SUFFIX

    def description(self) -> str:
        return f"{self.event_name} events (schema version {self.version}, {self.source}), one row per event"

    def table_input(self) -> dict[str, Any]:
        """The view as Glue ``CreateTable``'s ``TableInput``: what the program deploys
        (``infra/event_views.py`` renders it) and what ``eventlake demo`` creates in the embedded Glue."""
        return {
            "Name": self.name,
            "Description": self.description(),
            "TableType": VIEW_TABLE_TYPE,
            "Parameters": dict(VIEW_PARAMETERS),
            "ViewOriginalText": self.original_text(),
            "ViewExpandedText": PRESTO_VIEW_EXPANDED_TEXT,
            "StorageDescriptor": {
                "Columns": [{"Name": c.name, "Type": c.type, "Comment": c.comment} for c in self.columns]
            },
        }


def event_view(entry: EventType, database_name: str, processor: Processor) -> EventViewSpec:
    """The view of one entry, its fields read from the processor's JSON column (the Lambda's ``payload``, or
    the jq mode's whole ``record``: the same paths); a field whose column repeats another's or an envelope
    column's is refused."""
    head, tail = envelope(processor)
    fields = field_columns(entry, processor.json_column)
    seen = dict.fromkeys((c.name for c in (*head, *tail)), "an envelope column")
    for column in fields:
        if column.name in seen:
            raise event_catalog.CatalogError(
                f"{entry.source}: field column {column.name!r} of view {entry.view_name} repeats "
                f"{seen[column.name]}"
            )
        seen[column.name] = "another field's"
    name = entry.view_name
    if len(name) > limits.GLUE_NAME_MAX_CHARS:
        raise event_catalog.CatalogError(f"{entry.source}: view name {name!r} is longer than Glue allows")
    return EventViewSpec(
        database_name=database_name,
        name=name,
        event_name=entry.name,
        event_type=entry.event_type,
        version=entry.version,
        columns=(*head, *fields, *tail),
        source=entry.source,
    )


def event_views(
    database_name: str,
    processor: Processor,
    taken: tuple[str, ...],
    catalog_dir: Path | None = None,
) -> tuple[EventViewSpec, ...]:
    """Every catalog entry's view (``catalog_dir``: ``glue.event_catalog.CATALOG_DIR``, read when called).
    ``taken``: the database's other tables and views; a view name among them is refused (at preview: the
    program builds these before any resource)."""
    entries = event_catalog.load_catalog(catalog_dir or event_catalog.CATALOG_DIR)
    views = tuple(event_view(e, database_name, processor) for e in entries)
    for view in views:
        if view.name in taken:
            raise event_catalog.CatalogError(
                f"{view.source}: view name {view.name!r} is already a table or view of {database_name}"
            )
    return views


def taken_names(settings: Settings) -> tuple[str, ...]:
    """The names the stack's database already uses: the events table, the unique-events view, and the
    compactor's landing table when it deploys one."""
    compaction = CompactionSpec.from_settings(settings)
    own = (schema.TABLE_NAME, VIEW_QUERY)
    return own if compaction is None else (*own, compaction.source_table)


def from_settings(settings: Settings) -> tuple[EventViewSpec, ...]:
    return event_views(settings.glue_database, settings.processing, taken_names(settings))


def local_views(processor: Processor) -> tuple[EventViewSpec, ...]:
    """Every catalog view for the local engine (the database is the session's; no compactor table there)."""
    return _local_views(processor.name)


@cache
def _local_views(processor_name: str) -> tuple[EventViewSpec, ...]:
    # By name: the catalog is read once per processor and process (a processor object is not hashable).
    return event_views("", processors.processor_named(processor_name), (schema.TABLE_NAME, VIEW_QUERY))


def local_column_types() -> dict[str, dict[str, str]]:
    """View name -> column -> Glue type, over every mode's columns: what the local engine types queries by."""
    out: dict[str, dict[str, str]] = {}
    for processor in processors.PROCESSORS.values():
        for view in local_views(processor):
            out.setdefault(view.name, {}).update({c.name: c.type for c in view.columns})
    return out
