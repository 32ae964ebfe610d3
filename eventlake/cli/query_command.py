"""``eventlake query``: Athena SQL over a local lake, with the same translation (sqlglot -> DuckDB) and the
same ``events`` table and ``unique_events`` view the demo uses. A lake written with ``processor: jq`` (its run
record says so) gets that mode's table, view and saved queries (``glue/sql_jq``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from eventlake.athena import engine as athena
from eventlake.checks import run_record
from eventlake.cli.common import OK, CliError, Context, DefaultsHelp, mirrored_bucket, suggest
from eventlake.cli.output import emit, value_columns
from infra.athena_spec import JQ_SQL_DIR
from infra.settings import PROCESSOR_JQ


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
    source.add_argument("--bucket", help="a lake bucket, mirrored to a temporary directory first")
    command.add_argument("--database", default=athena.LOCAL_DATABASE, help="the query's database context")
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    as_sent = not args.bucket and run_record.recorded_processor(_local_root(args)) == PROCESSOR_JQ
    saved = athena.load_queries(JQ_SQL_DIR if as_sent else athena.SQL_DIR)
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
    for problem in athena.athena_divergences(sql):
        sys.stderr.write(f"eventlake query: warning: {problem}\n")
    if args.bucket:
        context = Context.from_args(args)
        with mirrored_bucket(context, args.bucket) as root:
            return _answer(args, root, sql, title)
    return _answer(args, _local_root(args), sql, title, as_sent)


def _local_root(args: argparse.Namespace) -> Path:
    return args.lake or Path("out") / args.stack / "lake"


def _answer(args: argparse.Namespace, root: Path, sql: str, title: str, as_sent: bool = False) -> int:
    try:
        names, rows = athena.run(athena.connect(root, args.database, as_sent=as_sent), sql)
    except Exception as exc:  # bad SQL or a translation gap: one line, usage error
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CliError(f"{type(exc).__name__}: {message}") from None
    # A table cuts long values at the end to keep one line per row; the JSON has them whole.
    emit(args.output, title, value_columns(names, rows), rows)
    return OK
