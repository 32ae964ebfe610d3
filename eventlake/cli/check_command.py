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
from eventlake.checks.invariant import CHECKS, MAX_LISTED, InvariantResult, check, unique_rows
from eventlake.cli import catalog_reader
from eventlake.cli.common import CHECK_FAILED, OK, CliError, Context, DefaultsHelp, mirrored_bucket
from eventlake.cli.output import Field, emit, warn
from infra import athena_spec
from infra.settings import PROCESSOR_JQ

READABLE = "every object readable and on the layout"
VIEW_READABLE = "the unique-events view can be queried"
# A table lists each check's first violations below it, whole (they name objects by their keys).
COLUMNS = [Field("check", min_width=24), Field("violations", right=True), Field("examples", shown=False)]
EXAMPLES = 3  # violations listed per check; the JSON's ``violations`` has up to invariant.MAX_LISTED each


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
            return check_lake(root, args.output, f"s3://{args.bucket}")
    root = args.lake or Path("out") / args.stack / "lake"
    if not root.is_dir():
        raise CliError(
            f"--lake {root} is not a directory (run `eventlake demo` first, or pass --lake/--bucket)"
        )
    return check_lake(root, args.output)


def check_lake(root: Path, output: str, name: str | None = None) -> int:
    """Report every violation, each naming the object behind it where one is; return 1 if there is any, or
    if the lake holds no object at all (most likely the wrong --lake or --bucket: a warning, not a pass)."""
    name = name or str(root)
    problems: list[str] = []
    objects = lake_contents.local_objects(root)
    contents = lake_contents.read(root, objects, problems)
    # The mirror's manifest names what it wrote: an object deleted since, or one added (a stray copy).
    blamed = {problem.split(": ", 1)[0] for problem in problems}
    for problem in lake_contents.mirror_problems(root, objects):
        key = problem.split(": ", 1)[0]
        if key not in blamed:
            problems.append(problem)
            if key not in {o.key for o in objects}:
                contents.missing.append(key)
    examples: dict[str, list[str]] = {READABLE: problems}
    rows: list[tuple[str, int, str]] = [(READABLE, len(problems), "; ".join(problems[:EXAMPLES]))]
    record = run_record.read(root)
    if record is not None and record.compacted:  # the table as its catalog read it: the compacted copies
        contents = dataclasses.replace(contents, rows=lake_contents.table_rows(root, record.locations))
    violations = len(problems)
    if record is not None:
        as_sent = record.processor == PROCESSOR_JQ
        names: list[str] = []
        view: list[tuple[Any, ...]] | None = None
        try:
            catalog = catalog_reader.locations_catalog(record.locations) or None
            conn = athena.connect(root, partitions=catalog, as_sent=as_sent)
            sql_dir = athena_spec.JQ_SQL_DIR if as_sent else athena.SQL_DIR
            names, view = athena.run(conn, athena.load_queries(sql_dir)[athena.UNIQUE_EVENTS_VIEW])
        except Exception as exc:  # an unreadable object stops the scan: a violation, not a crash
            violations += 1
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            rows.append((VIEW_READABLE, 1, reason))
            examples[VIEW_READABLE] = [reason]
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
        for check_name in checks:
            listed = result.examples.get(check_name, [])
            rows.append((check_name, result.failed_checks[check_name], "; ".join(listed[:EXAMPLES])))
            examples[check_name] = listed
    warnings = []
    if not objects:
        warnings.append(f"{name} holds no lake objects: nothing was checked (is --lake or --bucket right?)")
    for message in warnings:
        warn("check", message)
    listed_below = [
        line
        for check_name, found in examples.items()
        if found
        for line in [f"{check_name}:", *(f"  x {message}" for message in found[:EXAMPLES])]
    ]
    if any(len(found) > EXAMPLES for found in examples.values()):
        listed_below.append(f"More of each check's violations (up to {MAX_LISTED}): --output json.")
    emit(
        output,
        f"eventlake check {name} ({len(objects):,} objects, {len(contents.rows) + len(contents.lines):,} rows"
        + ("" if record else "; no run record: lake checks only")
        + ")",
        COLUMNS,
        rows,
        footer=listed_below,
        violations=[{"check": c, "message": m} for c, listed in examples.items() for m in listed],
        warnings=warnings,
    )
    return CHECK_FAILED if violations or not objects else OK
