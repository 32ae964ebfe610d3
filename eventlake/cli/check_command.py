"""``eventlake check``: the lake checks, and the invariant when the run's record is there, on an existing lake
(a local mirror, or a bucket mirrored first) without re-running anything. An object that cannot be read is a
reported violation, never a crash. The invariant is the mode's the record names: the Lambda's
(``eventlake.checks.invariant``) or, for ``processor: jq``, the query's (``eventlake.checks.query_mode``)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from eventlake.athena import engine as athena
from eventlake.checks import lake_contents, query_mode, run_record
from eventlake.checks.invariant import CHECKS, InvariantResult, check, unique_rows
from eventlake.cli.common import CHECK_FAILED, OK, CliError, Context, DefaultsHelp, emit, mirrored_bucket
from glue import schema
from infra import athena_spec
from infra.settings import PROCESSOR_JQ


def _catalog(locations: tuple[str, ...]) -> list[athena.CatalogPartition]:
    """The catalog a compacted run recorded: each partition at its location (its values read from it)."""
    out = []
    for location in locations:
        values = lake_contents.hive_partition(location.removeprefix("s3://").partition("/")[2])
        out.append(athena.CatalogPartition(tuple(values[k] for k in schema.PARTITION_KEY_NAMES), location))
    return out


READABLE = "every object readable and on the layout"
VIEW_READABLE = "the unique-events view can be queried"


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        "check",
        parents=parents,
        help="check an existing lake: objects readable and on the layout, and the invariant",
        description="Check a lake without re-running anything: every object is read (a truncated, stray or "
        "unreadable one is a violation), and when the run's record is there (`eventlake demo` writes it "
        "beside its mirror) the invariant is checked too.",
        formatter_class=DefaultsHelp,
    )
    source = command.add_mutually_exclusive_group()
    source.add_argument("--lake", type=Path, help="a local mirror (default out/<stack>/lake)")
    source.add_argument("--bucket", help="a lake bucket, mirrored to a temporary directory first")
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.bucket:
        context = Context.from_args(args)
        with mirrored_bucket(context, args.bucket) as root:
            return check_lake(root, args.output)
    root = args.lake or Path("out") / args.stack / "lake"
    if not root.is_dir():
        raise CliError(
            f"--lake {root} is not a directory (run `eventlake demo` first, or pass --lake/--bucket)"
        )
    return check_lake(root, args.output)


def check_lake(root: Path, output: str) -> int:
    """Report every violation; return 1 if there is any."""
    problems: list[str] = []
    objects = lake_contents.local_objects(root)
    contents = lake_contents.read(root, objects, problems)
    rows: list[tuple[str, int, str]] = [(READABLE, len(problems), "; ".join(problems[:5]))]
    record = run_record.read(root)
    if record is not None and record.compacted:  # the table as its catalog read it: the compacted copies
        contents = dataclasses.replace(contents, rows=lake_contents.table_rows(root, record.locations))
    violations = len(problems)
    if record is not None:
        as_sent = record.processor == PROCESSOR_JQ
        names: list[str] = []
        view: list[tuple[Any, ...]] | None = None
        try:
            conn = athena.connect(root, partitions=_catalog(record.locations) or None, as_sent=as_sent)
            sql_dir = athena_spec.JQ_SQL_DIR if as_sent else athena.SQL_DIR
            names, view = athena.run(conn, athena.load_queries(sql_dir)[athena.UNIQUE_EVENTS_VIEW])
        except Exception as exc:  # an unreadable object stops the scan: a violation, not a crash
            violations += 1
            rows.append((VIEW_READABLE, 1, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"))
        result: InvariantResult
        if as_sent:
            result = query_mode.check_by_query(
                record.sent,
                contents,
                backup_enabled=record.backup_enabled,
                unique=None if view is None else [dict(zip(names, r, strict=True)) for r in view],
            )
            checks = query_mode.QUERY_CHECKS
        else:
            result = check(
                record.sent,
                contents,
                rejections=record.rejections,
                dedupe=record.dedupe,
                backup_enabled=record.backup_enabled,
                faults=record.faults,
                unique=None if view is None else unique_rows(names, view),
                compacted=record.compacted,
            )
            checks = CHECKS
        violations += result.violation_count
        for name in checks:
            listed = [v for v in result.violations][:3] if result.failed_checks[name] else []
            rows.append((name, result.failed_checks[name], "; ".join(listed)))
    emit(
        output,
        f"eventlake check {root} ({len(objects):,} objects, {len(contents.rows) + len(contents.lines):,} rows"
        + ("" if record else "; no run record: lake checks only")
        + ")",
        ["check", "violations", "examples"],
        rows,
    )
    return CHECK_FAILED if violations else OK
