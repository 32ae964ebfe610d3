"""``eventlake send``: put JSON lines (a file, stdin, or generated sample events) on the stack's stream.

Each non-blank line is one record: its bytes exactly as in the input, terminated by "\\n" (the producer
contract of ``eventlake.traffic.record_framing``, which keeps the raw backup replayable). The partition key
is the event's ``event_uuid`` (``--partition-key-field``), or a random UUID when the line is not a JSON
object or has no usable value: bad input still goes through, and the transform files it under errors/.
Every line is checked against Kinesis' per-record limit before anything is sent. Records go out in
PutRecords batches (500 records / 5 MiB) with per-entry retries, backoff and jitter; exit 1 if some were
still rejected after the last retry.
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aws_contract import limits
from eventlake.cli import kinesis_put
from eventlake.cli.common import CHECK_FAILED, OK, CliError, Context, DefaultsHelp, emit, positive_int, share
from eventlake.traffic import record_framing, sample_events
from eventlake.traffic.sample_events import Outgoing

COLUMNS = ["stream", "source", "records", "accepted", "failed", "retried", "calls"]
MAX_LISTED = 5  # oversize lines named in the error before "and N more"


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        "send",
        parents=parents,
        help="put JSON lines (a file, stdin, or generated events) on the stack's Kinesis stream",
        description="Put JSON lines on the stack's stream, one record per line (its bytes as in the input, "
        "newline-terminated; blank lines skipped), in PutRecords batches with per-entry retries. Prints the "
        "count accepted; exit 1 if some records were still rejected after the last retry.",
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
    records, source = _generated(args) if args.generate else _read(args.file, args.partition_key_field)
    context = Context.from_args(args)
    stream = context.stream_name
    kinesis = kinesis_put.client(context, "kinesis")
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
                len(records),
                len(ledger.records),
                len(ledger.failed),
                ledger.retried_entries,
                ledger.calls,
            )
        ],
    )
    return CHECK_FAILED if ledger.failed else OK


def _read(name: str, field: str) -> tuple[list[Outgoing], str]:
    if name == "-":
        blob, source = sys.stdin.buffer.read(), "stdin"
    else:
        path = Path(name)
        if not path.is_file():
            raise CliError(
                f"FILE {name} is not a file (pass a JSON-lines file, - for stdin, or --generate N)"
            )
        try:
            blob = path.read_bytes()
        except OSError as exc:
            raise CliError(f"FILE {name}: {exc.strerror}") from None
        source = name
    records: list[Outgoing] = []
    oversize: list[str] = []
    for line in record_framing.input_lines(blob):
        key = record_framing.partition_key(line.data, field)
        size = record_framing.record_size(line.data, key)
        if size > limits.KINESIS_RECORD_MAX_BYTES:
            oversize.append(f"line {line.number}")
        records.append(kinesis_put.outgoing(line.data, key))
    if oversize:
        more = f" and {len(oversize) - MAX_LISTED} more" if len(oversize) > MAX_LISTED else ""
        raise CliError(
            f"{source}: {', '.join(oversize[:MAX_LISTED])}{more} over Kinesis' "
            f"{limits.KINESIS_RECORD_MAX_BYTES:,}-byte record limit (data and partition key): nothing sent"
        )
    return records, source


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
