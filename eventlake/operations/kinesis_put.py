"""What ``eventlake send`` and ``eventlake replay`` share: the producer's batching and per-entry retries
(``eventlake.traffic.producer``), a progress bar, and AWS errors as one-line CLI errors."""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventlake.cli import progress
from eventlake.cli.common import CliError, Context, aws_errors
from eventlake.traffic import producer
from eventlake.traffic.sample_events import Expect, Outgoing

Advance = progress.Advance

# Errors a user fixes with a flag or their credentials (exit 2); any other AWS failure is exit 1.


def outgoing(data: bytes, key: str) -> Outgoing:
    """A record to put; what the lake makes of it is the transform's business, not the sender's."""
    return Outgoing(data, key, Expect.VALID)


def client(context: Context, service: str) -> Any:
    with aws_errors(f"{service} client"):
        return context.client(service)


@contextmanager
def progress_bar(output: str, label: str, total: int) -> Iterator[Advance | None]:
    """A rich progress bar on stderr for table output on a terminal; nothing for JSON or a pipe."""
    from rich.console import Console

    console = Console(stderr=True)
    if output != "table" or not console.is_terminal or total == 0:
        yield None
        return
    with progress.bar(console, label, total) as advance:
        yield advance


def put(
    kinesis: Any,
    stream_name: str,
    records: Sequence[Outgoing],
    *,
    progress: Advance | None = None,
    ledger: producer.Ledger | None = None,
) -> producer.Ledger:
    """Put ``records`` with the producer's batching and retries; entries still throttled after every retry
    are counted in ``ledger.failed``, not raised. An error of a whole call is one line, with the count
    accepted before it."""
    ledger = producer.Ledger() if ledger is None else ledger
    before = len(ledger.records)
    try:
        with aws_errors(f"PutRecords to stream {stream_name}", "check --stack, --region and --endpoint-url"):
            producer.send(
                kinesis,
                stream_name,
                records,
                rng=random.Random(),  # jitter differs from run to run, as it must between producers
                progress=progress,
                keep_going=True,
                ledger=ledger,
            )
    except CliError as exc:
        accepted = len(ledger.records) - before
        raise CliError(f"{exc} ({accepted:,} records accepted before)", exc.code) from None
    return ledger


def warn(command: str, message: str) -> None:
    sys.stderr.write(f"eventlake {command}: warning: {message}\n")
