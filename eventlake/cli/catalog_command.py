"""``eventlake catalog infer|check``: the event catalog (``glue/event_types/``) against what a lake holds.

Both read each event once (``unique_events``, the same view the typed views read) from a local mirror's
registered partitions, in either processor mode, over the event dates ``--from``/``--to`` select.
``infer`` proposes a schema per event name (fields, types, presence, examples) and writes the files for a
person to review and commit; ``check`` reports drift per event name and exits 1 when there is any.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from eventlake import catalog_drift
from eventlake.athena import engine as athena
from eventlake.catalog_inference import ITEMS, Observed, observe, propose
from eventlake.checks import lake_contents, run_record
from eventlake.cli import catalog_reader
from eventlake.cli.common import CHECK_FAILED, OK, CliError, DefaultsHelp
from eventlake.cli.output import emit
from glue import event_catalog, schema
from infra.settings import PROCESSOR_JQ

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        "catalog",
        parents=parents,
        help="infer event schemas from a lake, or check a lake against the catalog (drift)",
        description="The event catalog (glue/event_types/) against a local lake: `infer` proposes schemas "
        "from what was sent, `check` reports drift per event name (exit 1 when any).",
        formatter_class=DefaultsHelp,
    )
    command.add_argument("action", choices=("infer", "check"))
    command.add_argument("--lake", type=Path, help="a local mirror (default out/<stack>/lake)")
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
    root: Path = args.lake or Path("out") / args.stack / "lake"
    if not root.is_dir() or not lake_contents.local_objects(root):
        raise CliError(f"--lake {root} holds no lake objects (run `eventlake demo` first, or pass --lake)")
    events = list(_events(root, args.start, args.end))
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


def _events(root: Path, start: str | None, end: str | None) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event name, payload) of every event once, in the selected event dates."""
    as_sent = run_record.recorded_processor(root) == PROCESSOR_JQ
    try:
        partitions = catalog_reader.recorded_catalog(root)
    except catalog_reader.NoCatalog as exc:
        raise CliError(str(exc)) from None
    column = "record" if as_sent else "payload"
    bounds = [f"event_date >= '{start}'"] if start else []
    bounds += [f"event_date <= '{end}'"] if end else []
    where = f" WHERE {' AND '.join(bounds)}" if bounds else ""
    conn = athena.connect(root, partitions=partitions, as_sent=as_sent)
    _, rows = athena.run(conn, f"SELECT event_name, {column} FROM unique_events{where}")
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
