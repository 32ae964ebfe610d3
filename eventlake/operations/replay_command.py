"""``eventlake replay``: re-send the raw source backup of some arrival hours (after a fix in the transform).

The backup objects under ``raw/yyyy/MM/dd/HH/`` (``schema.BACKUP_PREFIX``, evaluated for each hour of
``--from`` .. ``--to``, both included, UTC; a date is its whole day) are read, decompressed and cut back into
the records exactly as the producer put them (``record_framing.split_backup``: one JSON object per record,
terminated by "\\n"), then put on the stream again with the producer's batching and retries. Events that
already landed come back marked as duplicates by the transform's dedupe (its claims are kept
``dedupeTtlDays``); the lake's ``unique_events`` view shows each once. A piece of a backup that is not one
JSON object (a record put without its terminator, or with a newline inside, or not JSON at all) is held back
and reported with its object and byte offset; exit 1 if any was, or if some record was still rejected after
the last retry.

A KPL aggregate in the backup (an aggregating producer's record, which Firehose de-aggregated for the
transform; the raw backup keeps it as put) is re-sent whole, byte for byte, with its first user record's
partition key, as the KPL sent it: replay re-sends what was sent, and the transform's dedupe marks its user
records that already landed, one by one.
"""

from __future__ import annotations

import argparse
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from eventlake.cli.common import CHECK_FAILED, OK, CliError, Context, DefaultsHelp
from eventlake.cli.output import END, MIDDLE, Field, emit
from eventlake.firehose_formats import backup, prefixes
from eventlake.operations import kinesis_put, recovery
from eventlake.traffic import producer, record_framing
from eventlake.traffic.record_framing import HeldBack, HeldBackKind
from infra.delivery_spec import DeliverySpec

COLUMNS = [
    Field("object", fit=MIDDLE, min_width=24),
    Field("records", right=True),
    Field("held_back", header="held back", right=True),
    Field("accepted", right=True),
    Field("failed", right=True),
    Field("note", fit=END, min_width=10),
]
TOTAL = "(total)"
HOUR_FORMAT = recovery.HOUR_FORMAT


def arrival_hours(text: str) -> tuple[datetime, datetime]:
    """An hour, or a date for its 24 hours (``recovery.parse_hours``, the one parser of --from/--to)."""
    try:
        return recovery.parse_hours(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        "replay",
        parents=parents,
        help="re-send the raw source backup of some arrival hours (after a fix in the transform)",
        description="Read the raw backup objects of the arrival hours --from .. --to (both included, UTC), "
        "cut them back into the records exactly as put (one JSON object per record, terminated by a "
        "newline; a KPL aggregate whole, byte for byte) and put them on the stream again. Events already in "
        "the lake come back marked as duplicates. Pieces that are not one JSON object are held back and "
        "reported (exit 1).",
        formatter_class=DefaultsHelp,
    )
    command.add_argument(
        "--from",
        dest="start",
        type=arrival_hours,
        required=True,
        metavar="HOUR",
        help="first arrival hour: 2026-11-25T07, or a date for its first hour",
    )
    command.add_argument(
        "--to",
        dest="end",
        type=arrival_hours,
        metavar="HOUR",
        help="last arrival hour, included: an hour, or a date for its last hour (default: --from's last)",
    )
    command.add_argument("--bucket", help="the lake bucket (default: the stack's, in the caller's account)")
    command.add_argument(
        "--partition-key-field",
        default="event_uuid",
        help="the field whose value is the partition key (a random UUID when absent or not a string)",
    )
    command.add_argument("--dry-run", action="store_true", help="read and count, send nothing")
    command.set_defaults(run=run)


@dataclass
class ReplayedObject:
    """What one backup object gave (counts only: a long replay does not keep the records)."""

    key: str
    records: int = 0
    held_back: list[HeldBack] = field(default_factory=list)
    unterminated: int = 0
    unglued: int = 0
    aggregates: int = 0
    aggregated_events: int = 0
    accepted: int = 0
    failed: int = 0
    unreadable: str | None = None

    def row(self) -> tuple[Any, ...]:
        notes = [f"unreadable: {self.unreadable}"] if self.unreadable else []
        for kind in HeldBackKind:
            pieces = [h for h in self.held_back if h.kind is kind]
            if pieces:
                notes.append(f"{len(pieces)} {kind} (first at byte {pieces[0].offset})")
        if self.unglued:
            notes.append(f"{self.unglued} records put without a newline cut out of the next (re-sent as put)")
        if self.unterminated > self.unglued:
            notes.append("last record has no newline (re-sent as it was)")
        if self.aggregates:
            events = self.aggregated_events
            notes.append(f"{self.aggregates} KPL aggregates of {events} events (re-sent whole)")
        return (self.key, self.records, len(self.held_back), self.accepted, self.failed, "; ".join(notes))


def total_row(objects: list[ReplayedObject]) -> tuple[Any, ...]:
    held_back = [h for o in objects for h in o.held_back]
    unreadable = sum(1 for o in objects if o.unreadable)
    notes = [f"{unreadable} objects unreadable"] if unreadable else []
    notes += [f"{n} {kind}" for kind in HeldBackKind if (n := sum(1 for h in held_back if h.kind is kind))]
    return (
        TOTAL,
        sum(o.records for o in objects),
        len(held_back),
        sum(o.accepted for o in objects),
        sum(o.failed for o in objects),
        "; ".join(notes),
    )


def run(args: argparse.Namespace) -> int:
    start = args.start[0]
    end = (args.end or args.start)[1]
    if end < start:
        raise CliError(f"--to {end:{HOUR_FORMAT}} is before --from {start:{HOUR_FORMAT}}")
    context = Context.from_args(args)
    settings = context.settings
    spec = DeliverySpec.from_settings(settings)
    if not settings.source_backup:
        kinesis_put.warn(
            "replay", f"stack {args.stack} has sourceBackup off: there may be no raw backup to read"
        )
    if not settings.dedupe_mode.compaction_marks and not args.dry_run:
        kinesis_put.warn(
            "replay",
            f"stack {args.stack} has dedupe {settings.dedupe}: "
            "events already in the lake come back as unmarked duplicates",
        )
    s3 = kinesis_put.client(context, "s3")
    bucket = args.bucket or _stack_bucket(context)
    keys = _backup_keys(s3, bucket, spec, start, end)
    stream = context.stream_name
    kinesis = None if args.dry_run else kinesis_put.client(context, "kinesis")
    objects: list[ReplayedObject] = []
    with kinesis_put.progress_bar(args.output, f"Replaying to {stream}", len(keys)) as advance:
        for key in keys:
            replayed = ReplayedObject(key)
            objects.append(replayed)
            blob = _read(s3, bucket, key, replayed)
            if blob is not None:
                split = record_framing.split_backup(blob)
                replayed.records, replayed.held_back = len(split.records), split.held_back
                replayed.unterminated, replayed.unglued = split.unterminated, split.unglued
                replayed.aggregates, replayed.aggregated_events = split.aggregates, split.aggregated_events
                if kinesis is not None:
                    before = sum(o.accepted for o in objects)
                    _send(kinesis, stream, replayed, split.records, args.partition_key_field, before)
            if advance:
                advance(1)
    hours = recovery.hours_text(start, end)
    emit(
        args.output,
        f"eventlake replay, arrival hours {hours}: {len(objects):,} backup objects in s3://{bucket} "
        f"-> {stream}" + (" (dry run: nothing sent)" if args.dry_run else ""),
        COLUMNS,
        [o.row() for o in objects] + [total_row(objects)],
        hours={"from": f"{start:{HOUR_FORMAT}}", "to": f"{end:{HOUR_FORMAT}}", "text": hours},
    )
    incomplete = any(o.held_back or o.failed or o.unreadable for o in objects)
    return CHECK_FAILED if incomplete else OK


def _stack_bucket(context: Context) -> str:
    return context.bucket()


def _backup_keys(s3: Any, bucket: str, spec: DeliverySpec, start: datetime, end: datetime) -> list[str]:
    """The backup objects of every arrival hour in the window, hour by hour, each hour's in key order."""
    hour_prefixes: list[str] = []
    moment = start
    while moment <= end:
        prefix = prefixes.evaluate(
            spec.backup_prefix, arrival=moment, dynamic_partitioning=False, time_zone=spec.custom_time_zone
        )
        if prefix not in hour_prefixes:
            hour_prefixes.append(prefix)
        moment += timedelta(hours=1)
    keys: list[str] = []
    paginator = s3.get_paginator("list_objects_v2")
    with kinesis_put.aws_errors(f"listing s3://{bucket}", "check --bucket, --stack and --region"):
        for prefix in hour_prefixes:
            found = [
                o["Key"]
                for page in paginator.paginate(Bucket=bucket, Prefix=prefix)
                for o in page.get("Contents", [])
            ]
            keys.extend(sorted(found))
    return keys


def _read(s3: Any, bucket: str, key: str, replayed: ReplayedObject) -> bytes | None:
    """The object decompressed as its extension says, or None with the reason noted (never a crash)."""
    with kinesis_put.aws_errors(f"reading s3://{bucket}/{key}"):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    try:
        return backup.decode(body, key)
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        replayed.unreadable = f"{type(exc).__name__}: {exc}"
        return None


def _send(
    kinesis: Any, stream: str, replayed: ReplayedObject, data: list[bytes], field_name: str, before: int
) -> None:
    """One object's records, with a ledger of their own (a long replay does not keep every record)."""
    records = [kinesis_put.outgoing(d, record_framing.partition_key(d, field_name)) for d in data]
    ledger = producer.Ledger()
    try:
        kinesis_put.put(kinesis, stream, records, ledger=ledger)
    except CliError as exc:
        raise CliError(f"{exc} from {replayed.key}, {before:,} from earlier objects", exc.code) from None
    replayed.accepted, replayed.failed = len(ledger.records), len(ledger.failed)
