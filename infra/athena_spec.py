"""Athena for the lake as plain data: the stack's workgroup, the saved queries (``glue/sql/*.sql``) and the
unique-events view, derived from settings, ``glue.schema`` and the query files.

``infra/analytics.py`` renders it as pulumi-aws Args; ``view_table_input`` is the Glue ``TableInput`` of the
view, which the embedded AWS can create from the same object. No Pulumi here: the local runner imports
this module.

Athena keeps a view in Glue as a ``VIRTUAL_VIEW`` table whose ``ViewOriginalText`` is
``/* Presto View: <base64 of JSON> */`` (the Presto/Trino Hive-connector view format: ``originalSql``,
``catalog``, ``schema``, ``columns`` with engine types, ``owner``, ``runAsInvoker``), so a view created here
is the one ``CREATE VIEW`` in Athena would store.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_contract import limits
from glue import schema
from infra import processors
from infra.catalog_spec import CatalogSpec
from infra.settings import Settings, reads, settings_args

SQL_DIR = processors.LAMBDA.sql_dir
# processor: jq: the queries over the records as sent (the table has one ``record`` column).
JQ_SQL_DIR = processors.JQ.sql_dir


def sql_dir_for(settings: Settings) -> Path:
    """The stack's saved queries: over the Lambda's columns, or over the records as sent (jq mode)."""
    return processors.processor_for(settings).sql_dir


# Query results go to the lake bucket under this prefix (kept apart from the table's data, and expired).
RESULTS_ROOT = "athena-results/"
ENGINE_VERSION = "Athena engine version 3"
RESULTS_ENCRYPTION = "SSE_KMS"

# The saved query whose SELECT the view stores; the view takes the query's name.
VIEW_QUERY = "unique_events"
VIEW_TABLE_TYPE = "VIRTUAL_VIEW"
VIEW_PARAMETERS: dict[str, str] = {"presto_view": "true", "comment": "Presto View"}
PRESTO_VIEW_PREFIX = "/* Presto View: "
PRESTO_VIEW_SUFFIX = " */"
PRESTO_VIEW_EXPANDED_TEXT = "/* Presto View */"
DATA_CATALOG = "awsdatacatalog"
VIEW_OWNER = "eventlake"
# Glue (Hive) type -> the engine type the view definition declares. Athena's timestamps have milliseconds.
PRESTO_TYPES: dict[str, str] = {
    "string": "varchar",
    "bigint": "bigint",
    "double": "double",
    "boolean": "boolean",
    "timestamp": "timestamp(3)",
}

_HEADER = re.compile(r"--\s*(name|description):\s*(.*)")


@dataclass(frozen=True)
class NamedQuerySpec:
    """One ``glue/sql`` file as an Athena saved query: its ``-- name:`` and ``-- description:`` header
    lines, and the file's text as the query."""

    name: str
    description: str | None
    query: str
    body: str  # the SQL after the header lines (what a view stores)

    @classmethod
    def from_file(cls, path: Path) -> NamedQuerySpec:
        text = path.read_text(encoding="utf-8")
        header: dict[str, str] = {}
        lines = text.splitlines()
        header_lines = 0
        for line in lines:
            match = _HEADER.fullmatch(line.strip())
            if not match:
                break
            header[match.group(1)] = match.group(2).strip()
            header_lines += 1
        name = header.get("name")
        if not name:
            raise ValueError(f"{path} does not start with a '-- name: ...' comment")
        if len(name) > limits.ATHENA_NAMED_QUERY_NAME_MAX_CHARS:
            raise ValueError(f"{path}: query name longer than {limits.ATHENA_NAMED_QUERY_NAME_MAX_CHARS}")
        if len(text) > limits.ATHENA_NAMED_QUERY_MAX_CHARS:
            raise ValueError(f"{path}: query longer than {limits.ATHENA_NAMED_QUERY_MAX_CHARS} characters")
        description = header.get("description") or None
        if description is not None:
            description = description[: limits.ATHENA_NAMED_QUERY_DESCRIPTION_MAX_CHARS]
        return cls(
            name=name, description=description, query=text, body="\n".join(lines[header_lines:]).strip()
        )


def named_queries(sql_dir: Path = SQL_DIR) -> tuple[NamedQuerySpec, ...]:
    """Every query file, sorted by name; a name used twice is an error (Athena would keep both)."""
    queries = sorted((NamedQuerySpec.from_file(p) for p in sql_dir.glob("*.sql")), key=lambda q: q.name)
    names = [q.name for q in queries]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"query names used twice in {sql_dir}: {repeated}")
    return tuple(queries)


@dataclass(frozen=True)
class WorkgroupSpec:
    """The stack's Athena workgroup: its settings override the client's (results location, encryption,
    engine), and it cancels a query past ``bytes_scanned_cutoff``."""

    name: str
    description: str
    engine_version: str
    bytes_scanned_cutoff: int = reads("athena_scan_limit_bytes")
    results_root: str
    encryption_option: str
    protect_data: bool = reads("protect_data")

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkgroupSpec:
        return settings_args(
            cls,
            settings,
            name=settings.resource_name("analysts"),
            description=(
                f"Queries on the {settings.name_prefix} event lake: engine v3, results encrypted with the "
                f"lake key, at most {settings.athena_scan_limit_gb} GB scanned per query"
            ),
            engine_version=ENGINE_VERSION,
            results_root=RESULTS_ROOT,
            encryption_option=RESULTS_ENCRYPTION,
        )

    def output_location(self, bucket: str) -> str:
        return f"s3://{bucket}/{self.results_root}"


@dataclass(frozen=True)
class ViewSpec:
    """The unique-events view: the SELECT of ``glue/sql/unique_events.sql`` over the stack's database, with
    the table's data columns and then its partition keys (a view has no partition keys of its own)."""

    database_name: str
    name: str
    original_sql: str
    columns: tuple[schema.Column, ...]
    owner: str

    @classmethod
    def from_settings(cls, settings: Settings, sql_dir: Path | None = None) -> ViewSpec:
        catalog = CatalogSpec.from_settings(settings)
        sql_dir = sql_dir or sql_dir_for(settings)
        query = next((q for q in named_queries(sql_dir) if q.name == VIEW_QUERY), None)
        if query is None:
            raise ValueError(f"no query named {VIEW_QUERY!r} in {sql_dir}")
        return cls(
            database_name=catalog.database_name,
            name=VIEW_QUERY.lower(),
            original_sql=query.body,
            columns=processors.processor_for(settings).view_columns(catalog.columns) + catalog.partition_keys,
            owner=VIEW_OWNER,
        )

    def presto_definition(self) -> dict[str, Any]:
        return {
            "originalSql": self.original_sql,
            "catalog": DATA_CATALOG,
            "schema": self.database_name,
            "columns": [{"name": c.name, "type": presto_type(c.type)} for c in self.columns],
            "owner": self.owner,
            "runAsInvoker": False,
        }

    def original_text(self) -> str:
        """``ViewOriginalText``: the definition as compact JSON, base64-encoded, in Presto's comment."""
        document = json.dumps(self.presto_definition(), separators=(",", ":"), ensure_ascii=False)
        return PRESTO_VIEW_PREFIX + base64.b64encode(document.encode()).decode() + PRESTO_VIEW_SUFFIX


def presto_type(glue_type: str) -> str:
    if glue_type not in PRESTO_TYPES:
        raise ValueError(f"no Presto type for Glue type {glue_type!r}: add it to PRESTO_TYPES")
    return PRESTO_TYPES[glue_type]


def decode_view_text(original_text: str) -> dict[str, Any]:
    """The JSON inside a ``/* Presto View: ... */`` text."""
    if not (original_text.startswith(PRESTO_VIEW_PREFIX) and original_text.endswith(PRESTO_VIEW_SUFFIX)):
        raise ValueError("not a Presto view text")
    encoded = original_text[len(PRESTO_VIEW_PREFIX) : -len(PRESTO_VIEW_SUFFIX)]
    return json.loads(base64.b64decode(encoded, validate=True))


def view_table_input(spec: ViewSpec) -> dict[str, Any]:
    """The view as Glue ``CreateTable``'s ``TableInput`` (columns in Glue types, no location)."""
    return {
        "Name": spec.name,
        "TableType": VIEW_TABLE_TYPE,
        "Parameters": dict(VIEW_PARAMETERS),
        "ViewOriginalText": spec.original_text(),
        "ViewExpandedText": PRESTO_VIEW_EXPANDED_TEXT,
        "StorageDescriptor": {
            "Columns": [{"Name": c.name, "Type": c.type, "Comment": c.comment} for c in spec.columns]
        },
    }
