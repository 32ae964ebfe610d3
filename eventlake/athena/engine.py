"""The project's Athena queries (``glue/sql/*.sql``), run locally on DuckDB over a lake of Parquet files.

Athena SQL is Trino SQL; sqlglot translates it to DuckDB. Where the translation would be silently wrong or
fails, this module rewrites the function itself: Trino's ``format_datetime`` (Joda pattern) and
``to_iso8601`` have no sqlglot mapping, and ``json_extract_scalar`` must give NULL for an object or
array, where DuckDB's ``->>`` returns its JSON text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp

from eventlake.athena import semantics
from eventlake.firehose_formats.java_time import DatePatternError, java_tokens
from glue import partition_query, schema
from infra import event_views_spec, processors
from infra.settings import PROJECT_ROOT

SQL_DIR = PROJECT_ROOT / "glue" / "sql"
# Where ad-hoc connections put the view; the runner passes the stack's Glue database instead.
LOCAL_DATABASE = "eventlake"
# glue/sql/unique_events.sql, deployed as a view of the same name (infra/athena_spec.py): one row per event.
UNIQUE_EVENTS_VIEW = "unique_events"

# Glue column type -> DuckDB type; local compaction casts its source view with the same map.
DUCKDB_TYPES = {
    "string": "VARCHAR",
    "bigint": "BIGINT",
    "int": "INTEGER",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
}
# The types sqlglot needs to type a query's columns: the table's, and the view's (the same columns).
_TABLE_TYPES = {
    table: {
        c.name: {"string": "VARCHAR", "int": "INT"}.get(c.type, c.type.upper())
        for c in (*schema.COLUMNS, *schema.PARTITION_KEYS)
    }
    for table in (schema.TABLE_NAME, UNIQUE_EVENTS_VIEW)
}
# The catalog's typed views (infra/event_views_spec.py), created on first use by ``create_event_views``.
_TABLE_TYPES.update(
    {
        view: {name: {"string": "VARCHAR"}.get(kind, kind.upper()) for name, kind in columns.items()}
        for view, columns in event_views_spec.local_column_types().items()
    }
)
_HEADER = re.compile(r"--\s*(name|description):\s*(.*)")


TranslationError = semantics.TranslationError  # Athena SQL that cannot be run faithfully on DuckDB


# --- the queries ----------------------------------------------------------------------------------------


def query_header(sql: str) -> dict[str, str]:
    """The ``-- name:`` and ``-- description:`` comments at the top of a query file."""
    header: dict[str, str] = {}
    for line in sql.splitlines():
        match = _HEADER.fullmatch(line.strip())
        if not match:
            break
        header[match.group(1)] = match.group(2).strip()
    return header


def load_queries(sql_dir: Path = SQL_DIR) -> dict[str, str]:
    """Query name -> Athena SQL (the whole file, header comments included), sorted by name."""
    queries: dict[str, str] = {}
    for path in sorted(sql_dir.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        name = query_header(text).get("name")
        if not name:
            raise ValueError(f"{path} does not start with a '-- name: ...' comment")
        if name in queries:
            raise ValueError(f"query name {name!r} is used twice")
        queries[name] = text.strip() + "\n"
    return dict(sorted(queries.items()))


# --- Athena -> DuckDB -----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def to_duckdb(sql: str, database: str = LOCAL_DATABASE) -> str:
    """Translate Athena SQL to DuckDB SQL that gives Athena's answer (``eventlake.athena.semantics``),
    raising :class:`TranslationError` for what cannot be mapped. ``database``: the query's default one.

    A pure function of its text (the tables' types are fixed at import), kept once per text: every
    connection translates the same views again (the unique-events view, one typed view per event type),
    at tens of milliseconds each in sqlglot."""
    return ";\n".join(statement.sql(dialect="duckdb") for statement in _translated(sql, database))


def _parse(sql: str) -> list[exp.Expression]:
    try:
        return [s for s in sqlglot.parse(semantics.typed_literals(sql), read="athena") if s is not None]
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError) as exc:
        raise TranslationError(f"not valid Athena SQL: {str(exc).splitlines()[0]}") from None


def _translated(sql: str, database: str) -> list[exp.Expression]:
    out = []
    for statement in _parse(sql):
        statement = _name_columns(statement)
        semantics.annotate(statement, _TABLE_TYPES, database)
        out.append(semantics.rewrite(statement, _rewrite))
    return out


def approximate_columns(sql: str) -> list[str]:
    """The output columns of the last statement that Athena computes approximately (``approx_distinct``,
    ``approx_percentile``): allowed, but DuckDB's estimate is not Athena's, so the result must say so."""
    statements = _parse(sql)
    if not statements or not isinstance(statements[-1], exp.Select):
        return []
    named = _name_columns(statements[-1])
    return [item.alias_or_name for item in named.expressions if semantics.approximate(item.walk())]


def _name_columns(statement: exp.Expression) -> exp.Expression:
    """Athena names an unaliased output expression ``_col<position>``; DuckDB would use its SQL text."""
    if isinstance(statement, exp.Select):
        statement = statement.copy()
        for position, item in enumerate(statement.expressions):
            if not isinstance(item, exp.Alias | exp.Column | exp.Star):
                item.replace(exp.alias_(item.copy(), f"_col{position}"))
    return statement


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Anonymous):
        name = node.name.lower()
        if name == "format_datetime":
            return _format_datetime(node)
        if name == "to_iso8601":
            return _to_iso8601(node)
    if isinstance(node, exp.JSONExtractScalar) and not node.meta.get("scalar_only"):
        # Trino gives NULL for invalid JSON, a missing path, an object or an array; DuckDB's ->> raises on
        # invalid JSON and returns the JSON text of objects and arrays.
        copy = node.copy()
        copy.meta["scalar_only"] = True
        valid = exp.Anonymous(this="json_valid", expressions=[node.this.copy()])
        kind = exp.Anonymous(this="json_type", expressions=[node.this.copy(), node.expression.copy()])
        containers = [exp.Literal.string("OBJECT"), exp.Literal.string("ARRAY")]
        scalar = exp.and_(valid, exp.Not(this=exp.In(this=kind, expressions=containers)))
        return exp.Case(ifs=[exp.If(this=scalar, true=copy)])
    if isinstance(node, exp.JSONExtract) and not node.meta.get("valid_only"):
        # Trino gives NULL for invalid JSON; DuckDB's -> raises (the typed views read json_extract's text).
        copy = node.copy()
        copy.meta["valid_only"] = True
        valid = exp.Anonymous(this="json_valid", expressions=[node.this.copy()])
        return exp.Case(ifs=[exp.If(this=valid, true=copy)])
    return node


def _format_datetime(node: exp.Anonymous) -> exp.Expression:
    args = node.expressions
    if len(args) != 2 or not (isinstance(args[1], exp.Literal) and args[1].is_string):
        raise TranslationError(
            "format_datetime: only format_datetime(<timestamp>, '<literal pattern>') translates"
        )
    zone = semantics.zone_of(args[0])
    value = semantics.duckdb_sql(f"{{x}} AT TIME ZONE '{zone}'", x=args[0]) if zone else args[0].copy()
    return exp.Anonymous(
        this="strftime", expressions=[value, exp.Literal.string(joda_to_strftime(args[1].this))]
    )


def _to_iso8601(node: exp.Anonymous) -> exp.Expression:
    """Trino's ``to_iso8601``: ``2026-11-25T13:00:00.000`` for a zoneless timestamp(3), ``2026-11-25`` for a
    date, the offset (``Z`` for UTC) after a timestamp with time zone."""
    if len(node.expressions) != 1:
        raise TranslationError("to_iso8601: takes exactly one argument")
    (arg,) = node.expressions
    zone = semantics.zone_of(arg)
    if zone:
        return semantics.iso8601(arg, zone)
    is_date = semantics.type_of(arg).is_type(exp.DataType.Type.DATE) or (
        isinstance(arg, exp.Cast) and arg.to.is_type(exp.DataType.Type.DATE)
    )
    pattern = "%Y-%m-%d" if is_date else "%Y-%m-%dT%H:%M:%S.%g"
    return exp.Anonymous(this="strftime", expressions=[arg.copy(), exp.Literal.string(pattern)])


_STRFTIME = {
    ("y", 4): "%Y",
    ("y", 2): "%y",
    ("y", 1): "%Y",
    ("u", 4): "%Y",
    ("M", 1): "%-m",
    ("M", 2): "%m",
    ("M", 3): "%b",
    ("M", 4): "%B",
    ("d", 1): "%-d",
    ("d", 2): "%d",
    ("H", 1): "%-H",
    ("H", 2): "%H",
    ("h", 1): "%-I",
    ("h", 2): "%I",
    ("m", 1): "%-M",
    ("m", 2): "%M",
    ("s", 1): "%-S",
    ("s", 2): "%S",
    ("S", 3): "%g",
    ("S", 6): "%f",
    ("S", 9): "%n",
    ("a", 1): "%p",
    ("E", 3): "%a",
    ("E", 4): "%A",
    ("D", 1): "%-j",
    ("D", 3): "%j",
}


def joda_to_strftime(pattern: str) -> str:
    """A ``format_datetime`` pattern as a DuckDB ``strftime`` format (the letters both can express)."""
    try:
        tokens = java_tokens(pattern)
    except DatePatternError as exc:
        raise TranslationError(f"format_datetime: {exc}") from None
    out: list[str] = []
    for token in tokens:
        if isinstance(token, str):
            out.append(token.replace("%", "%%"))
            continue
        code = _STRFTIME.get(token)
        if code is None:
            letter, count = token
            raise TranslationError(
                f"format_datetime: pattern {letter * count!r} has no DuckDB strftime equivalent"
            )
        out.append(code)
    return "".join(out)


# --- Athena (Trino) semantics that DuckDB would hide ------------------------------------------------------

_DOUBLE_TYPES = {exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT}
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)


def athena_divergences(sql: str) -> list[str]:
    """Patterns whose answer differs between Athena (Trino) and DuckDB, so a query right locally would be
    wrong on AWS. Each must be written the way both engines agree on.

    - A decimal literal (``100.0``, ``1e2``) is a DECIMAL in Trino: ``100.0 * x / count(*)`` keeps one decimal
      and a later ``round(..., 2)`` rounds an already-truncated value; DuckDB computes a double.
    - ``a / b`` of integers truncates in Trino and not in DuckDB: cast one side to DOUBLE.
    - ``json_extract`` returns JSON in Trino (strings quoted, objects as JSON values), text in DuckDB.
    - Partition columns are strings: Trino refuses ``event_hour = 7`` (varchar = integer), DuckDB casts.
    """
    problems: list[str] = []
    tree = sqlglot.parse_one(semantics.typed_literals(sql), read="athena")
    semantics.annotate(tree, _TABLE_TYPES, LOCAL_DATABASE)
    for node in tree.walk():
        if isinstance(node, exp.Literal) and node.is_number and not _inside_double_cast(node):
            if any(c in node.this for c in ".eE"):
                problems.append(
                    f"decimal literal {node.this} is a DECIMAL in Athena: write CAST(... AS DOUBLE)"
                )
        elif isinstance(node, exp.Div) and not any(_is_double(side) for side in (node.left, node.right)):
            kind = semantics.type_of(node)
            if kind.is_type(exp.DataType.Type.DECIMAL):
                scale = (semantics.decimal_params(kind) or (0, 0))[1]
                problems.append(
                    f"division {node.sql('athena')} is a DECIMAL division in Athena, rounded to {scale} "
                    "decimals: CAST a side AS DOUBLE for a fraction"
                )
            else:
                problems.append(
                    f"division {node.sql('athena')} truncates integers in Athena: CAST a side AS DOUBLE"
                )
        elif isinstance(node, exp.JSONExtract):
            problems.append("json_extract returns JSON in Athena, text in DuckDB: use json_extract_scalar")
        elif isinstance(node, (*_COMPARISONS, exp.In)):
            columns = [c.name for c in node.find_all(exp.Column)]
            numbers = [lit for lit in node.find_all(exp.Literal) if lit.is_number]
            if numbers and any(name in schema.PARTITION_KEY_NAMES for name in columns):
                problems.append(
                    f"{node.sql('athena')}: partition columns are strings in Athena: quote the values"
                )
    return problems


def _is_double_cast(node: exp.Expression) -> bool:
    return isinstance(node, exp.Cast) and node.to.this in _DOUBLE_TYPES


def _is_double(node: exp.Expression) -> bool:
    """A DOUBLE by construction: a cast to DOUBLE, or arithmetic with one (Trino widens the result)."""
    if isinstance(node, exp.Paren):
        return _is_double(node.this)
    if isinstance(node, (exp.Mul, exp.Add, exp.Sub, exp.Div)):
        return _is_double(node.left) or _is_double(node.right)
    return _is_double_cast(node)


def _inside_double_cast(node: exp.Expression) -> bool:
    parent = node.parent
    return parent is not None and _is_double_cast(parent)


# --- the local lake ---------------------------------------------------------------------------------------


def _columns() -> list[tuple[str, str]]:
    """(name, DuckDB type) of the table as Glue declares it: data columns, then the partition keys."""
    return [(c.name, DUCKDB_TYPES[c.type]) for c in (*schema.COLUMNS, *schema.PARTITION_KEYS)]


@dataclass(frozen=True)
class CatalogPartition:
    """A partition as the Glue catalog knows it: its values (in partition-key order) and its location."""

    values: tuple[str, ...]
    location: str  # s3://<bucket>/events/event_type=.../
    # The partition's own column list (Glue keeps one per partition); empty when unknown.
    columns: tuple[str, ...] = ()


def catalog_partitions(glue: Any, database: str, table: str) -> list[CatalogPartition]:
    """Every partition of a table as the local Athena reads it (values, location, columns), from a Glue
    client (the embedded AWS's or a real one)."""
    pages = glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=table)
    return [
        CatalogPartition(
            tuple(p["Values"]),
            p["StorageDescriptor"]["Location"],
            tuple(c["Name"] for c in p["StorageDescriptor"].get("Columns", [])),
        )
        for page in pages
        for p in page["Partitions"]
    ]


def partition_files(lake_root: Path, partitions: Sequence[CatalogPartition]) -> list[Path]:
    """The Parquet files Athena would read: those directly under each known partition's location, in the
    local mirror of the bucket (``lake_root`` holds the bucket's keys)."""
    files: list[Path] = []
    for partition in partitions:
        _, _, key = partition.location.removeprefix("s3://").partition("/")
        files.extend(sorted((Path(lake_root) / key).glob("*.parquet")))
    return files


def create_view(
    conn: duckdb.DuckDBPyConnection,
    lake_root: Path,
    database: str = LOCAL_DATABASE,
    partitions: Sequence[CatalogPartition] | None = None,
    processor: processors.Processor = processors.LAMBDA,
) -> None:
    """(Re)create ``<database>.events`` over the lake's objects, read as the processor that wrote them says
    its Glue table is (its input format), and its ``unique_events`` view (its saved queries').

    With ``partitions`` (the Glue catalog's), only the files of those partitions are read, as Athena reads a
    Hive table: an object in a partition nobody registered is invisible. Without, every data file under the
    data root is read (what ``MSCK REPAIR TABLE`` would register). An empty lake gets an empty view with the
    same columns; call this again once the first objects exist.
    """
    body = _TABLE_READERS[processor.table.input_format](lake_root, partitions)
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {database}")
    conn.execute(f"CREATE OR REPLACE VIEW {database}.{schema.TABLE_NAME} AS {body}")
    # The view the program deploys (a Glue VIRTUAL_VIEW of the same SELECT), so queries can name it here too.
    view_sql = load_queries(processor.sql_dir).get(UNIQUE_EVENTS_VIEW)
    if view_sql is not None:
        conn.execute(f"CREATE OR REPLACE VIEW {database}.{UNIQUE_EVENTS_VIEW} AS {to_duckdb(view_sql)}")


def _parquet_table(lake_root: Path, partitions: Sequence[CatalogPartition] | None) -> str:
    """The SELECT of a Parquet table (the transform's rows), its columns cast to their Glue types."""
    columns = _columns()
    data_root = Path(lake_root) / schema.DATA_ROOT
    # Objects written before a column was added lack it: Athena reads it as NULL, DuckDB needs union_by_name,
    # which opens every file when the view is bound. When the catalog says every partition has the table's
    # columns, no file can lack one, and only the files a query's partitions select are opened.
    uniform = partitions is not None and all(p.columns == schema.COLUMN_NAMES for p in partitions)
    if partitions is not None:
        files = [f.as_posix().replace("'", "''") for f in partition_files(lake_root, partitions)]
        paths = "[" + ", ".join(f"'{f}'" for f in files) + "]" if files else None
    else:
        any_file = any(data_root.glob("**/*.parquet"))
        paths = (
            f"'{(data_root / '**' / '*.parquet').as_posix().replace(chr(39), chr(39) * 2)}'"
            if any_file
            else None
        )
    if paths:
        hive_types = ", ".join(f"'{c.name}': 'VARCHAR'" for c in schema.PARTITION_KEYS)
        select = ", ".join(f'CAST("{name}" AS {kind}) AS "{name}"' for name, kind in columns)
        source = (
            f"read_parquet({paths}, hive_partitioning = true, hive_types = {{{hive_types}}}, "
            f"hive_types_autocast = false, union_by_name = {str(not uniform).lower()})"
        )
        body = f"SELECT {select} FROM {source}"
    else:
        select = ", ".join(f'CAST(NULL AS {kind}) AS "{name}"' for name, kind in columns)
        body = f"SELECT {select} WHERE false"
    return body


def _text_table(lake_root: Path, partitions: Sequence[CatalogPartition] | None) -> str:
    """The SELECT of a text table (processor jq): one ``record`` column per line of the GZIP JSON Lines
    objects, read as text the way Hive's TextInputFormat and LazySimpleSerDe (delimiter U+0001, no quoting)
    read them."""
    names = [f'"{n}"' for n in (*(c.name for c in partition_query.COLUMNS), *schema.PARTITION_KEY_NAMES)]
    pattern = f"*{partition_query.OUTPUT_EXTENSION}"
    if partitions is not None:
        files = [
            path
            for p in partitions
            for path in sorted(
                (Path(lake_root) / p.location.removeprefix("s3://").partition("/")[2]).glob(pattern)
            )
        ]
    else:
        files = sorted((Path(lake_root) / schema.DATA_ROOT).glob(f"**/{pattern}"))
    if files:
        paths = "[" + ", ".join("'" + f.as_posix().replace("'", "''") + "'" for f in files) + "]"
        hive_types = ", ".join(f"'{name}': 'VARCHAR'" for name in schema.PARTITION_KEY_NAMES)
        source = (
            f"read_csv({paths}, columns = {{'record': 'VARCHAR'}}, delim = '\x01', quote = '', escape = '', "
            "header = false, auto_detect = false, compression = 'gzip', hive_partitioning = true, "
            f"hive_types = {{{hive_types}}}, hive_types_autocast = false)"
        )
        body = f"SELECT {', '.join(names)} FROM {source}"
    else:
        body = f"SELECT {', '.join(f'CAST(NULL AS VARCHAR) AS {n}' for n in names)} WHERE false"
    return body


# How the local engine reads a table, by its Glue input format (as Athena picks a table's reader).
_TABLE_READERS = {
    schema.PARQUET_INPUT_FORMAT: _parquet_table,
    partition_query.TEXT_INPUT_FORMAT: _text_table,
}


def connect(
    lake_root: Path,
    database: str = LOCAL_DATABASE,
    partitions: Sequence[CatalogPartition] | None = None,
    processor: processors.Processor = processors.LAMBDA,
) -> duckdb.DuckDBPyConnection:
    """In-memory DuckDB with Athena's view of the lake: ``<database>.events``, partition columns as strings,
    as the ``processor`` that wrote the lake shapes its table.

    The database is the session's default schema, as a query's database context is in Athena, so the
    project's queries name the table unqualified. The session time zone is UTC, as Athena's is.
    """
    conn = duckdb.connect(":memory:")
    conn.execute("SET TimeZone = 'UTC'")
    create_view(conn, lake_root, database, partitions, processor)
    conn.execute(f"USE memory.{database}")
    return conn


def create_event_views(conn: duckdb.DuckDBPyConnection, athena_sql: str) -> None:
    """Create the catalog's typed views a statement names (the SQL the program deploys, over this session's
    ``unique_events``), once each: creating all of them on every connection would bind each over the lake."""
    named = {(t.db, t.name.lower()) for s in _parse(athena_sql) for t in s.find_all(exp.Table)}
    own = (schema.TABLE_NAME, UNIQUE_EVENTS_VIEW)
    if not any(name in _TABLE_TYPES and name not in own for _, name in named):
        return
    current = conn.execute("SELECT current_schema()").fetchone()[0]  # type: ignore[index]
    for database, name in sorted(named):
        database = database or current
        columns = conn.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
            [database, UNIQUE_EVENTS_VIEW],
        ).fetchall()
        processor = processors.reading({column for (column,) in columns})
        view = next((v for v in event_views_spec.local_views(processor) if v.name == name), None)
        if view is not None:
            sql = to_duckdb(view.original_sql(), database).replace(
                f"FROM {UNIQUE_EVENTS_VIEW}", f"FROM {database}.{UNIQUE_EVENTS_VIEW}", 1
            )
            conn.execute(f"CREATE VIEW IF NOT EXISTS {database}.{name} AS {sql}")


def run(conn: duckdb.DuckDBPyConnection, athena_sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run Athena SQL on the local lake: (column names, rows)."""
    create_event_views(conn, athena_sql)
    result = conn.execute(to_duckdb(athena_sql))
    names = [column[0] for column in result.description or []]
    return names, result.fetchall()
