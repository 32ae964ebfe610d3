"""``eventlake query``: Athena SQL over a local lake, with the same translation (sqlglot -> DuckDB) and the
same ``events`` table and ``unique_events`` view the demo uses, read through the table's catalog as Athena
reads it (``catalog_reader``). The default database is the stack's Glue database, so the README's Athena
statements run as written. A lake written with ``processor: jq`` (its run record says so) gets that mode's
table, view and saved queries (``glue/sql_jq``). An answer Athena would not give is refused, never printed."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from eventlake.athena import catalog_reader
from eventlake.athena import engine as athena
from eventlake.checks import lake_contents, run_record
from eventlake.cli.common import OK, CliError, Context, DefaultsHelp, aws_errors, suggest
from eventlake.cli.output import console, emit, value_columns, warn
from infra import processors
from infra.catalog_spec import CatalogSpec


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        "query",
        parents=parents,
        help="run Athena SQL (inline, a file, or a saved query by name) over a local lake",
        description="Run Athena SQL over a local lake: the `events` table and the `unique_events` view, "
        "translated to DuckDB the way the demo runs the project's queries.",
        formatter_class=DefaultsHelp,
    )
    what = command.add_mutually_exclusive_group(required=True)
    what.add_argument("sql", nargs="?", help="the query text")
    what.add_argument("--file", type=Path, help="a .sql file")
    what.add_argument("--name", help=f"a saved query of glue/sql/ ({', '.join(athena.load_queries())})")
    source = command.add_mutually_exclusive_group()
    source.add_argument("--lake", type=Path, help="a local mirror (default out/<stack>/lake)")
    source.add_argument(
        "--bucket",
        help="a lake bucket, read through the stack's Glue catalog: only the partitions the query's "
        "partition filters select are fetched",
    )
    command.add_argument(
        "--database",
        help="the query's database context (default: the stack's Glue database, eventlake_<stack>)",
    )
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    context = Context.from_args(args)
    # A bucket is read as its stack's processor wrote it (a jq stack's objects are the records as sent, not
    # the transform's Parquet); a local lake as its run recorded, or without a record as the transform's.
    if args.bucket:
        processor = processors.processor_for(context.settings)
    else:
        recorded = run_record.recorded_processor(_local_root(args))
        processor = processors.processor_named(recorded or processors.LAMBDA.name)
    saved = athena.load_queries(processor.sql_dir)
    if args.name is not None:
        if args.name not in saved:
            raise CliError(f"--name {args.name!r} is not a saved query{suggest(args.name, saved)}")
        sql, title = saved[args.name], args.name
    elif args.file is not None:
        if not args.file.is_file():
            raise CliError(f"--file {args.file} does not exist")
        sql, title = args.file.read_text(encoding="utf-8"), str(args.file)
    else:
        sql, title = args.sql, "query"
    catalog = CatalogSpec.from_settings(context.settings)
    database = args.database or catalog.database_name
    try:  # a refusal first, alone on its line: no warning about a statement that will not run
        athena.to_duckdb(sql, database)
        problems = athena.athena_divergences(sql)
        approximate = athena.approximate_columns(sql)
    except athena.TranslationError as exc:
        raise CliError(str(exc)) from None
    except Exception as exc:  # sqlglot's own parse errors: one line
        raise CliError(f"not valid Athena SQL: {_first_line(exc)}") from None
    for problem in problems:
        warn("query", problem)
    if args.bucket:
        with aws_errors(
            f"reading the Glue table {catalog.database_name}.{catalog.table_name}", "check --stack"
        ):
            partitions = catalog_reader.glue_catalog(
                context.client("glue"), catalog.database_name, catalog.table_name
            )
        selected = catalog_reader.selected_partitions(sql, partitions)
        with tempfile.TemporaryDirectory(prefix="eventlake-query-") as scratch:
            root = Path(scratch) / "lake"
            with aws_errors(f"reading s3://{args.bucket}", "check --bucket, --region and --endpoint-url"):
                catalog_reader.download_partitions(
                    context.client("s3"), args.bucket, selected, root, console(stderr=True)
                )
            return _answer(args, root, sql, title, database, selected, approximate, processor)
    root = _local_root(args)
    if not root.is_dir():
        raise CliError(
            f"--lake {root} is not a directory (run `eventlake demo` first, or pass --lake/--bucket)"
        )
    if not lake_contents.local_objects(root):
        raise CliError(f"--lake {root} holds no lake objects: nothing to query (is --lake right?)")
    try:
        partitions = catalog_reader.recorded_catalog(root)
    except catalog_reader.NoCatalog as exc:
        raise CliError(str(exc)) from None
    return _answer(args, root, sql, title, database, partitions, approximate, processor)


def _local_root(args: argparse.Namespace) -> Path:
    return args.lake or Path("out") / args.stack / "lake"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _answer(
    args: argparse.Namespace,
    root: Path,
    sql: str,
    title: str,
    database: str,
    partitions: list[athena.CatalogPartition],
    approximate: list[str],
    processor: processors.Processor,
) -> int:
    try:
        names, rows = athena.run(athena.connect(root, database, partitions, processor), sql)
    except athena.TranslationError as exc:  # what the local engine cannot answer as Athena would
        raise CliError(str(exc)) from None
    except Exception as exc:  # bad SQL, or what Athena raises too (a failed CAST, a division by zero)
        raise CliError(f"{type(exc).__name__}: {_first_line(exc)}") from None
    extra: dict[str, Any] = {}
    if approximate:
        # approx_distinct / approx_percentile: estimates, and DuckDB's are not Athena's.
        note = f"approximate (an estimate; Athena's estimate differs): {', '.join(approximate)}"
        warn("query", note)
        title = f"{title} ({note})"
        extra["approximate"] = approximate
    # A table cuts long values at the end to keep one line per row; the JSON has them whole.
    emit(args.output, title, value_columns(names, rows), rows, **extra)
    return OK
