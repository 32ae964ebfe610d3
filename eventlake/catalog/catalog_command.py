"""``eventlake catalog infer|check``: the event catalog (``glue/event_types/``) against what a lake holds.

Both read each event once (``unique_events``, the same view the typed views read) over the event dates
``--from``/``--to`` select, in either processor mode: from a local mirror's recorded partitions, or from a
bucket through the stack's Glue catalog (only the selected dates' partitions are fetched, as Athena would read
them; the stack's ``processor`` says how its objects are read).
``infer`` proposes a schema per event name (fields, types, presence, examples) and writes the files for a
person to review and commit; ``check`` reports drift per event name and exits 1 when there is any.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from eventlake.athena import catalog_reader
from eventlake.athena import engine as athena
from eventlake.catalog import catalog_drift
from eventlake.catalog.catalog_inference import ITEMS, Observed, observe, propose
from eventlake.checks import lake_contents, run_record
from eventlake.cli.common import CHECK_FAILED, OK, CliError, Context, DefaultsHelp, aws_errors
from eventlake.cli.output import console, emit
from glue import event_catalog, schema
from infra import processors
from infra.catalog_spec import CatalogSpec
from infra.processors import Processor

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        "catalog",
        parents=parents,
        help="infer event schemas from a lake, or check a lake against the catalog (drift)",
        description="The event catalog (glue/event_types/) against a local lake or a bucket: `infer` "
        "proposes schemas from what was sent, `check` reports drift per event name (exit 1 when any).",
        formatter_class=DefaultsHelp,
    )
    command.add_argument("action", choices=("infer", "check"))
    source = command.add_mutually_exclusive_group()
    source.add_argument("--lake", type=Path, help="a local mirror (default out/<stack>/lake)")
    source.add_argument(
        "--bucket",
        help="a lake bucket, read through the stack's Glue catalog: only the partitions of the --from/--to "
        "event dates are fetched (with --endpoint-url, --region)",
    )
    command.add_argument("--from", dest="start", help="first event date read (yyyy-mm-dd)")
    command.add_argument("--to", dest="end", help="last event date read (yyyy-mm-dd)")
    command.add_argument(
        "--catalog", type=Path, default=event_catalog.CATALOG_DIR, help="the catalog directory checked"
    )
    command.add_argument("--write", type=Path, help="infer: write the proposed files into this directory")
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    for flag, day in (("--from", args.start), ("--to", args.end)):
        if day is not None and not _DAY.fullmatch(day):
            raise CliError(f"{flag} {day!r} is not a date (yyyy-mm-dd)")
    if args.bucket:
        events, where = _bucket_events(args), f"s3://{args.bucket}"
    else:
        root: Path = args.lake or Path("out") / args.stack / "lake"
        if not root.is_dir() or not lake_contents.local_objects(root):
            raise CliError(
                f"--lake {root} holds no lake objects (run `eventlake demo` first, or pass --lake)"
            )
        events, where = _lake_events(root, args.start, args.end), str(root)
    if not events:  # nothing read is not "no drift": most likely the wrong dates, lake or bucket
        raise CliError(f"{where} holds no events{_dates(args.start, args.end)}: nothing to {args.action}")
    if args.action == "infer":
        return _infer(args, events)
    try:
        catalog = event_catalog.load_catalog(args.catalog)
    except event_catalog.CatalogError as exc:
        raise CliError(str(exc)) from None
    drift = catalog_drift.check(catalog, events)
    findings = drift.sorted()
    title = f"catalog check: {sum(drift.events.values())} events of {len(drift.events)} names, "
    title += f"{len(findings)} drift findings" if findings else "no drift"
    emit(
        args.output,
        title,
        ["event name", "drift", "path", "events", "example"],
        [f.row() for f in findings],
        events=drift.events,
    )
    return CHECK_FAILED if findings else OK


def _lake_events(root: Path, start: str | None, end: str | None) -> list[tuple[str, dict[str, Any]]]:
    """(event name, payload) of every event once in the selected event dates, from a local mirror."""
    # A mirror without a run record is read as the transform's lake, as eventlake query reads it.
    processor = processors.processor_named(run_record.recorded_processor(root) or processors.LAMBDA.name)
    try:
        partitions = catalog_reader.recorded_catalog(root)
    except catalog_reader.NoCatalog as exc:
        raise CliError(str(exc)) from None
    return list(_events(root, partitions, processor, start, end))


def _bucket_events(args: argparse.Namespace) -> list[tuple[str, dict[str, Any]]]:
    """The same from a bucket: the partitions the stack's Glue table lists, those of the selected dates
    only, fetched at their catalog locations into a temporary directory and read as that stack writes."""
    context = Context.from_args(args)
    catalog = CatalogSpec.from_settings(context.settings)
    with aws_errors(f"reading the Glue table {catalog.database_name}.{catalog.table_name}", "check --stack"):
        partitions = catalog_reader.glue_catalog(
            context.client("glue"), catalog.database_name, catalog.table_name
        )
    selected = [p for p in partitions if in_dates(p, args.start, args.end)]
    if not selected:  # before any GET
        raise CliError(
            f"{catalog.database_name}.{catalog.table_name} lists no partition{_dates(args.start, args.end)}: "
            f"nothing to {args.action} in s3://{args.bucket}"
        )
    with tempfile.TemporaryDirectory(prefix="eventlake-catalog-") as scratch:
        root = Path(scratch) / "lake"
        with aws_errors(f"reading s3://{args.bucket}", "check --bucket, --region and --endpoint-url"):
            _fetch(context.client("s3"), args.bucket, selected, root)
        return list(_events(root, selected, context.settings.processing, args.start, args.end))


def _dates(start: str | None, end: str | None) -> str:
    if start and end:
        return f" with an event date from {start} to {end}"
    if start or end:
        return f" with an event date {'from' if start else 'up to'} {start or end}"
    return ""


def in_dates(partition: athena.CatalogPartition, start: str | None, end: str | None) -> bool:
    """Whether a partition's event date is within ``start``..``end`` (yyyy-mm-dd strings, both included)."""
    day = partition.values[schema.PARTITION_KEY_NAMES.index("event_date")]
    return (start is None or day >= start) and (end is None or day <= end)


def _fetch(s3: Any, bucket: str, partitions: list[athena.CatalogPartition], root: Path) -> None:
    """The objects directly under each partition's location (what Athena reads of it), into ``root`` at
    their keys; their count and size on stderr before the first GET, then a progress bar."""
    from eventlake.cli import progress

    listed: list[tuple[str, int]] = []
    for partition in partitions:
        prefix = partition.location.removeprefix("s3://").partition("/")[2]
        listed += catalog_reader.listed_objects(s3, bucket, prefix, delimiter="/")
    err = console(stderr=True)
    what = f"{len(partitions):,} partitions from s3://{bucket}"
    catalog_reader.say_reading(err, "catalog", len(listed), sum(size for _, size in listed), what)
    with progress.bar(err, "Reading the selected partitions", len(listed)) as advance:
        for key, _ in listed:
            target = root / key
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            advance(1)


def _events(
    root: Path,
    partitions: list[athena.CatalogPartition],
    processor: Processor,
    start: str | None,
    end: str | None,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event name, payload) of every event once, in the selected event dates, read from the processor's
    JSON column of unique_events."""
    column = processor.json_column
    bounds = [f"event_date >= '{start}'"] if start else []
    bounds += [f"event_date <= '{end}'"] if end else []
    where = f" WHERE {' AND '.join(bounds)}" if bounds else ""
    conn = athena.connect(root, partitions=partitions, processor=processor)
    # In a fixed order, so the examples and the files proposed are the same on every run and either source.
    order = " ORDER BY event_name, created_datetime, event_uuid"
    _, rows = athena.run(conn, f"SELECT event_name, {column} FROM unique_events{where}{order}")
    for name, text in rows:
        try:
            document = json.loads(text)
        except (TypeError, ValueError):
            continue
        if isinstance(document, dict):
            yield name, {k: v for k, v in document.items() if k not in schema.INPUT_FIELDS}


def _infer(args: argparse.Namespace, events: list[tuple[str, dict[str, Any]]]) -> int:
    by_name: dict[str, list[dict[str, Any]]] = {}
    for name, payload in events:
        by_name.setdefault(name, []).append(payload)
    rows = []
    for name in sorted(by_name):
        if not event_catalog.EVENT_NAME.fullmatch(name):  # jq mode stores names the Lambda rejects
            rows.append((name, "", "(not an event name the catalog can declare: not proposed)", "", ""))
            continue
        observed = observe(by_name[name])
        entry = propose(name, observed)
        rows.extend(_rows(name, observed, entry))
        if args.write is not None:
            args.write.mkdir(parents=True, exist_ok=True)
            (args.write / entry.file_name).write_text(event_catalog.dumps(entry), encoding="utf-8")
    title = f"catalog infer: {len(events)} events of {len(by_name)} names"
    if args.write is not None:
        title += f", proposals written to {args.write} (review them before committing)"
    emit(args.output, title, ["event name", "field", "type", "present", "examples"], rows)
    return OK


def _rows(name: str, observed: Observed, entry: event_catalog.EventType) -> list[tuple[Any, ...]]:
    declared = {f.path: f for f in event_catalog.walk(entry.fields)}
    out = []
    for path, stats in observed.paths.items():
        if ITEMS in path:
            continue
        field = declared.get(path)
        kind = (field.type + ("|null" if field.nullable else "")) if field else "(not an identifier)"
        share = stats.present / observed.parent_count(path)
        out.append((name, ".".join(path), kind, f"{share:.0%}", ", ".join(stats.examples)))
    return out
