"""What ``eventlake send`` and ``eventlake replay`` share: the producer's batching and per-entry retries
(``eventlake.traffic.producer``), a progress bar, and AWS errors as one-line CLI errors."""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventlake.cli.common import CHECK_FAILED, USAGE, CliError, Context
from eventlake.traffic import producer
from eventlake.traffic.sample_events import Expect, Outgoing

Advance = Callable[[int], None]

# Errors a user fixes with a flag or their credentials (exit 2); any other AWS failure is exit 1.
_CONFIGURATION_ERRORS = {
    "AccessDenied",
    "AccessDeniedException",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "NoSuchBucket",
    "ResourceNotFoundException",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
}


def outgoing(data: bytes, key: str) -> Outgoing:
    """A record to put; what the lake makes of it is the transform's business, not the sender's."""
    return Outgoing(data, key, Expect.VALID)


@contextmanager
def aws_errors(what: str, hint: str = "") -> Iterator[None]:
    """botocore's exceptions as one line: ``what`` failed, the AWS error code, and ``hint`` for a fix."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

    suffix = f" ({hint})" if hint else ""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        message = str(error.get("Message") or exc).splitlines()[0]
        raise CliError(
            f"{what}: {code}: {message}{suffix}", USAGE if code in _CONFIGURATION_ERRORS else CHECK_FAILED
        ) from None
    except ProfileNotFound as exc:
        raise CliError(f"--profile: {exc}") from None
    except NoCredentialsError:
        raise CliError(
            f"{what}: no AWS credentials found (pass --profile, or set them in the environment)"
        ) from None
    except BotoCoreError as exc:  # an unreachable --endpoint-url, a bad --region
        raise CliError(f"{what}: {exc}{suffix}") from None


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
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


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
