"""``eventlake check``: the lake checks, and the invariant when the run's record is there, on an existing lake
(a local mirror, or a bucket read in place) without re-running anything. An object that cannot be read is a
reported violation, never a crash. The invariant is the mode's the record names: the Lambda's
(``eventlake.checks.invariant``) or, for ``processor: jq``, the query's (``eventlake.checks.query_mode``).

A bucket is read straight from S3, each object once and one at a time in memory: a production month (60+
GB) cannot be copied to a disk first. ``--from``/``--to`` limit either source to some hours."""

from __future__ import annotations

import argparse
import dataclasses
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from eventlake.athena import catalog_reader
from eventlake.athena import engine as athena
from eventlake.checks import lake_contents, run_record
from eventlake.checks.invariant import MAX_LISTED
from eventlake.checks.lake_contents import LakeContents, LakeObject
from eventlake.checks.mode_invariants import RunFacts, invariant_for
from eventlake.cli import progress
from eventlake.cli.common import CHECK_FAILED, OK, CliError, Context, DefaultsHelp, aws_errors
from eventlake.cli.output import Field, console, emit, warn
from eventlake.operations import recovery
from infra import processors
from infra.delivery_spec import DeliverySpec

READABLE = "every object readable and on the layout"
VIEW_READABLE = "the unique-events view can be queried"
# A table lists each check's first violations below it, whole (they name objects by their keys).
COLUMNS = [Field("check", min_width=24), Field("violations", right=True), Field("examples", shown=False)]
EXAMPLES = 3  # violations listed per check; the JSON's ``violations`` has up to invariant.MAX_LISTED each
# The zone of the arrival-hour folders (errors/, raw/): Firehose's custom_time_zone, which no stack changes.
FOLDER_TIME_ZONE = DeliverySpec.custom_time_zone
Hours = tuple[datetime | None, datetime | None]  # first and last hour checked, both included (None: open)


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        "check",
        parents=parents,
        help="check an existing lake: objects readable and on the layout, and the invariant",
        description="Check a lake without re-running anything: every object is read (a truncated, stray or "
        "unreadable one is a violation), and when the run's record is there (`eventlake demo` writes it "
        "beside its mirror) the invariant is checked too. A bucket is read in place: one LIST a thousand "
        "keys, then one GET an object (compacted copies and strays are not read), its count and size said "
        "on stderr first.",
        formatter_class=DefaultsHelp,
    )
    source = command.add_mutually_exclusive_group()
    source.add_argument("--lake", type=Path, help="a local mirror (default out/<stack>/lake)")
    source.add_argument(
        "--bucket", help="a lake bucket, read straight from S3 (each object once, nothing copied to disk)"
    )
    command.add_argument(
        "--from",
        dest="first",
        type=_hours,
        metavar="HOUR",
        help="first hour checked, UTC: 2026-11-25T07, or a date for its first hour. An object's hour is its "
        "partition's event hour (events/), or its folder's arrival hour (errors/, raw/); only those hours' "
        "objects are read, and the invariant (it spans the whole run) is not checked",
    )
    command.add_argument(
        "--to",
        dest="last",
        type=_hours,
        metavar="HOUR",
        help="last hour checked, included (a date: its last)",
    )
    command.set_defaults(run=run)


def _hours(text: str) -> tuple[datetime, datetime]:
    """An hour, or a date for its 24 hours (``recovery.parse_hours``, the one parser of --from/--to)."""
    try:
        return recovery.parse_hours(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    hours: Hours = (args.first[0] if args.first else None, args.last[1] if args.last else None)
    first, last = hours
    if first and last and first > last:
        raise CliError(f"--from {first:{recovery.HOUR_FORMAT}} is after --to {last:{recovery.HOUR_FORMAT}}")
    if args.bucket:
        return check_bucket(Context.from_args(args), args.bucket, args.output, hours)
    root = args.lake or Path("out") / args.stack / "lake"
    if not root.is_dir():
        raise CliError(
            f"--lake {root} is not a directory (run `eventlake demo` first, or pass --lake/--bucket)"
        )
    return check_lake(root, args.output, hours=hours)


def _limited(hours: Hours) -> bool:
    return hours != (None, None)


def _in_hours(key: str, hours: Hours) -> bool:
    return lake_contents.in_hours(key, *hours, FOLDER_TIME_ZONE)


def _selected(objects: list[LakeObject], hours: Hours) -> list[LakeObject]:
    return [o for o in objects if _in_hours(o.key, hours)] if _limited(hours) else objects


def check_bucket(context: Context, bucket: str, output: str, hours: Hours = (None, None)) -> int:
    """The lake checks on a bucket read in place: listed (one LIST a thousand keys), the count and size to
    be read said on stderr, then each object's bytes read once (``lake_contents.bodies_read``) with a
    progress bar, checked and dropped. The same checks, in the same order, as on its mirror
    (``check_lake``); a bucket holds no run record, so no invariant."""
    s3 = context.client("s3")
    where = f"s3://{bucket}"
    hint = "check --bucket, --region and --endpoint-url"
    with aws_errors(f"listing {where}", hint):
        listed = catalog_reader.listed_objects(s3, bucket)
    # In the order a mirror's files are listed (local_objects), so violations are listed alike.
    objects = sorted(
        _selected([LakeObject(key, size) for key, size in listed], hours), key=lambda o: PurePosixPath(o.key)
    )
    fetched = lake_contents.bodies_read(objects)
    err = console(stderr=True)
    catalog_reader.say_reading(
        err, "check", len(fetched), sum(o.size for o in fetched), f"{len(objects):,} listed in {where}"
    )
    reader = catalog_reader.BucketObjects(s3, bucket, {o.key for o in objects})
    problems: list[str] = []
    with aws_errors(f"reading {where}", hint), progress.bar(err, f"Checking {where}", len(objects)) as step:
        contents = lake_contents.read(reader, objects, problems, retain=False, advance=step)
    return _report(where, output, objects, contents, problems, hours)


def check_lake(root: Path, output: str, name: str | None = None, hours: Hours = (None, None)) -> int:
    """Report every violation, each naming the object behind it where one is; return 1 if there is any, or
    if the lake holds no object at all (most likely the wrong --lake or --bucket: a warning, not a pass)."""
    name = name or str(root)
    problems: list[str] = []
    objects = _selected(lake_contents.local_objects(root), hours)
    contents = lake_contents.read(root, objects, problems)
    # The mirror's manifest names what it wrote: an object deleted since, or one added (a stray copy).
    blamed = {problem.split(": ", 1)[0] for problem in problems}
    for problem in lake_contents.mirror_problems(root, objects):
        key = problem.split(": ", 1)[0]
        if key not in blamed and _in_hours(key, hours):
            problems.append(problem)
            if key not in {o.key for o in objects}:
                contents.missing.append(key)
    # The run's record spans every hour: with --from/--to the lake checks alone.
    record = None if _limited(hours) else run_record.read(root)
    return _report(name, output, objects, contents, problems, hours, (root, record) if record else None)


def _report(
    name: str,
    output: str,
    objects: list[LakeObject],
    contents: LakeContents,
    problems: list[str],
    hours: Hours,
    recorded: tuple[Path, run_record.RunRecord] | None = None,
) -> int:
    """The table (or JSON) of every check's violations; ``recorded``: a mirror and its run's record, whose
    invariant is checked too."""
    examples: dict[str, list[str]] = {READABLE: problems}
    rows: list[tuple[str, int, str]] = [(READABLE, len(problems), "; ".join(problems[:EXAMPLES]))]
    violations = len(problems)
    if recorded is not None:
        root, record = recorded
        if record.compacted:  # the table as its catalog reads it: the compacted copies
            contents = dataclasses.replace(contents, rows=lake_contents.table_rows(root, record.locations))
        processor = processors.processor_named(record.processor)
        names: list[str] = []
        view: list[tuple[Any, ...]] | None = None
        try:
            catalog = catalog_reader.locations_catalog(record.locations) or None
            conn = athena.connect(root, partitions=catalog, processor=processor)
            query = athena.load_queries(processor.sql_dir)[athena.UNIQUE_EVENTS_VIEW]
            names, view = athena.run(conn, query)
        except Exception as exc:  # an unreadable object stops the scan: a violation, not a crash
            violations += 1
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            rows.append((VIEW_READABLE, 1, reason))
            examples[VIEW_READABLE] = [reason]
        invariant = invariant_for(processor)
        facts = RunFacts(
            record.rejections, record.dedupe, record.backup_enabled, record.faults, record.compacted
        )
        result = invariant.run(record.sent, contents, facts, None if view is None else (names, view))
        checks = invariant.names
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
    if _limited(hours):
        scope = f"; hours {recovery.hours_text(*hours)}: lake checks only"
    else:
        scope = "" if recorded else "; no run record: lake checks only"
    emit(
        output,
        f"eventlake check {name} ({len(objects):,} objects, {contents.row_count:,} rows{scope})",
        COLUMNS,
        rows,
        footer=listed_below,
        violations=[{"check": c, "message": m} for c, listed in examples.items() for m in listed],
        warnings=warnings,
    )
    return CHECK_FAILED if violations or not objects else OK
