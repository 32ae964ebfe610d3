"""``eventlake send``: put JSON lines (a file, stdin, or generated sample events) on the stack's stream.

Each non-blank line is one record: its bytes exactly as in the input, terminated by "\\n" (the producer
contract of ``eventlake.traffic.record_framing``, which keeps the raw backup replayable). Every line is
checked before anything is sent: one JSON object in UTF-8, as the transform reads it, and within Kinesis'
per-record limit. A bad line would otherwise only fail later, in the pipeline, as an error record, so it
stops the send (each one named by line number, exit 2) unless ``--skip-invalid`` sends the rest. The
partition key is the event's ``event_uuid`` (``--partition-key-field``), or a random UUID when the object
has no usable value. Records go out in PutRecords batches (500 records / 5 MiB) with per-entry retries,
backoff and jitter; exit 1 if some were still rejected after the last retry.

``--aggregate`` packs lines into KPL aggregated records (``aws_contract.kpl_aggregation``), each line keeping
its own bytes and partition key inside, and, as the KPL does, only lines bound for one shard together (each
line's own key picks its shard, from ListShards' hash key ranges), so the copies of an event stay on one shard
in the order sent: fewer Kinesis records, so fewer shards by the 1,000
records/s limit and fewer PUT payload units. At most 25 KB a record (``AGGREGATE_MAX_BYTES``: one PUT payload
unit and five of Firehose's 5 KB steps), which Firehose de-aggregates before the transform sees them.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aws_contract import kpl_aggregation, limits
from eventlake.cli.common import (
    CHECK_FAILED,
    OK,
    CliError,
    Context,
    DefaultsHelp,
    aws_errors,
    emit,
    positive_int,
    share,
)
from eventlake.operations import kinesis_put
from eventlake.traffic import producer, record_framing, sample_events
from eventlake.traffic.sample_events import Outgoing

COLUMNS = ["stream", "source", "events", "records", "skipped", "accepted", "failed", "retried", "calls"]
MAX_LISTED = 5  # oversize lines named in the error before "and N more"
MAX_BAD_LINES = 20  # invalid lines reported one per line before "and N more"


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        "send",
        parents=parents,
        help="put JSON lines (a file, stdin, or generated events) on the stack's Kinesis stream",
        description="Put JSON lines on the stack's stream, one record per line (its bytes as in the input, "
        "newline-terminated; blank lines skipped), in PutRecords batches with per-entry retries. Every line "
        "must be one JSON object in UTF-8: bad lines are named by number and nothing is sent (exit 2) unless "
        "--skip-invalid. Prints the count accepted; exit 1 if some records were still rejected after the "
        "last retry.",
        formatter_class=DefaultsHelp,
    )
    source = command.add_mutually_exclusive_group(required=True)
    source.add_argument("file", nargs="?", metavar="FILE", help="a JSON-lines file, or - for stdin")
    source.add_argument("--generate", type=positive_int, metavar="N", help="send N generated sample events")
    command.add_argument(
        "--partition-key-field",
        default="event_uuid",
        help="the field whose value is the partition key (a random UUID when absent or not a string)",
    )
    command.add_argument(
        "--skip-invalid",
        action="store_true",
        help="send the valid lines and skip the others (not UTF-8, not one JSON object, over the record "
        "limit), saying how many; without it a bad line sends nothing",
    )
    command.add_argument(
        "--aggregate",
        action="store_true",
        help="pack the lines bound for each shard into KPL aggregated records of at most "
        f"{kpl_aggregation.AGGREGATE_MAX_BYTES:,} bytes (one 25 KB PUT payload unit), each line keeping its "
        "bytes and partition key; Firehose de-aggregates them before the transform. A lone line, or one too "
        "large to share a record, goes as itself",
    )
    generated = command.add_argument_group("with --generate")
    generated.add_argument("--seed", type=int, default=1, help="seed of the generated events")
    generated.add_argument(
        "--duplicate-share", type=share, default=sample_events.DEFAULT_DUPLICATE_SHARE, help="exact re-sends"
    )
    generated.add_argument(
        "--malformed-share",
        type=share,
        default=sample_events.DEFAULT_MALFORMED_SHARE,
        help="malformed records",
    )
    generated.add_argument(
        "--hours",
        type=positive_int,
        default=sample_events.DEFAULT_HOURS,
        help="hours the event times spread over",
    )
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    skipped = 0
    if args.generate:
        records, source = _generated(args)
    else:
        records, source, skipped = _read(args.file, args.partition_key_field, args.skip_invalid)
    events = len(records)
    context = Context.from_args(args)
    stream = context.stream_name
    kinesis = kinesis_put.client(context, "kinesis")
    if args.aggregate:
        with aws_errors(f"ListShards of stream {stream}", "check --stack, --region and --endpoint-url"):
            shards = producer.stream_shards(kinesis, stream)
        records = aggregated(records, shards)
    with kinesis_put.progress_bar(args.output, f"Sending to {stream}", len(records)) as advance:
        ledger = kinesis_put.put(kinesis, stream, records, progress=advance)
    emit(
        args.output,
        f"eventlake send: {source} -> {stream}",
        COLUMNS,
        [
            (
                stream,
                source,
                events,
                len(records),
                skipped,
                len(ledger.records),
                len(ledger.failed),
                ledger.retried_entries,
                ledger.calls,
            )
        ],
    )
    return CHECK_FAILED if ledger.failed else OK


def aggregated(records: list[Outgoing], shards: list[kpl_aggregation.ShardRange]) -> list[Outgoing]:
    """``records`` packed in order into KPL aggregated records of the records bound for one shard (a lone one
    as itself), each keyed by its first record's partition key, as the KPL does."""
    users = (kpl_aggregation.UserRecord(r.partition_key, r.data) for r in records)
    packed = kpl_aggregation.pack_by_shard(users, shards)
    return [kinesis_put.outgoing(e.data, e.partition_key) for e in packed]


def _read(name: str, field: str, skip_invalid: bool) -> tuple[list[Outgoing], str, int]:
    """The records of a JSON-lines input, and how many of its lines were skipped as invalid."""
    blob, source = _input(name)
    lines = record_framing.input_lines(blob)
    if not lines:
        raise CliError(f"{source} has no records (it is empty or only blank lines): nothing sent")
    records: list[Outgoing] = []
    invalid: list[str] = []
    oversize: list[str] = []
    skipped: list[int] = []
    for line in lines:
        problem = line_problem(line.data)
        key = record_framing.partition_key(line.data, field) if problem is None else ""
        if problem is not None:
            invalid.append(f"{source} line {line.number}: {problem}")
        elif record_framing.record_size(line.data, key) > limits.KINESIS_RECORD_MAX_BYTES:
            oversize.append(f"line {line.number}")
        else:
            records.append(kinesis_put.outgoing(line.data, key))
            continue
        skipped.append(line.number)
    if skip_invalid:
        if skipped:
            listed = ", ".join(str(n) for n in skipped[:MAX_BAD_LINES])
            more = f" and {len(skipped) - MAX_BAD_LINES:,} more" if len(skipped) > MAX_BAD_LINES else ""
            sys.stderr.write(
                f"eventlake send: skipped {len(skipped):,} of {len(lines):,} lines (not one JSON object in "
                f"UTF-8, or over the record limit): line{'s' if len(skipped) > 1 else ''} {listed}{more}\n"
            )
        if not records:
            raise CliError(f"{source}: none of its {len(lines):,} lines is valid: nothing sent")
        return records, source, len(skipped)
    if invalid:
        more = len(invalid) - MAX_BAD_LINES
        summary = (
            f"{source}: {len(invalid):,} of {len(lines):,} lines are not one JSON object in UTF-8"
            + (f" (the first {MAX_BAD_LINES} above, {more:,} more)" if more > 0 else "")
            + (f", {len(oversize):,} over the record limit" if oversize else "")
            + ": nothing sent (--skip-invalid sends the valid ones)"
        )
        raise CliError("\n".join([*invalid[:MAX_BAD_LINES], summary]))
    if oversize:
        more = f" and {len(oversize) - MAX_LISTED} more" if len(oversize) > MAX_LISTED else ""
        raise CliError(
            f"{source}: {', '.join(oversize[:MAX_LISTED])}{more} over Kinesis' "
            f"{limits.KINESIS_RECORD_MAX_BYTES:,}-byte record limit (data and partition key): nothing sent"
        )
    return records, source, 0


def _input(name: str) -> tuple[bytes, str]:
    if name == "-":
        return sys.stdin.buffer.read(), "stdin"
    path = Path(name)
    if not path.is_file():
        raise CliError(f"FILE {name} is not a file (pass a JSON-lines file, - for stdin, or --generate N)")
    try:
        return path.read_bytes(), name
    except OSError as exc:
        raise CliError(f"FILE {name}: {exc.strerror}") from None


def line_problem(data: bytes) -> str | None:
    """Why a line is not one JSON object in UTF-8 as the transform reads it (strict JSON, no NaN), or None."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 (byte {exc.start + 1})"
    if record_framing.json_object(data) is not None:
        return None
    try:
        value = json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":
            return f"more than one JSON value (another starts at column {exc.colno})"
        return f"not JSON ({exc.msg} at column {exc.colno})"
    except RecursionError:
        return "not JSON (nested too deeply to read)"
    except ValueError as exc:  # NaN, Infinity
        return f"not JSON ({exc})"
    return f"a JSON {_json_kind(value)}, not an object"


def _not_json(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    return "null" if value is None else "number"


def _generated(args: argparse.Namespace) -> tuple[list[Outgoing], str]:
    if args.duplicate_share + args.malformed_share >= 1:
        raise CliError(
            f"--duplicate-share {args.duplicate_share} + --malformed-share {args.malformed_share} must stay "
            "below 1 (the rest are the valid first copies)"
        )
    records = sample_events.generate(
        args.generate,
        rng=random.Random(args.seed),
        duplicate_share=args.duplicate_share,
        malformed_share=args.malformed_share,
        start=sample_events.window_start(datetime.now(UTC), args.hours),
        hours=args.hours,
    )
    return records, f"{args.generate:,} generated events (seed {args.seed})"
