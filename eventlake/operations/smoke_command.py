"""``eventlake smoke``: after ``pulumi up``, prove the deployed pipeline end to end. Send a tagged batch
(valid events, an exact re-send and a malformed record) to the stack's stream, wait (bounded) until Firehose
has written their objects, and check what came out: the rows with their dedupe marks, and the malformed
record's original bytes under ``errors/processing-failed/``. Exit 0 when every check passes, 1 otherwise
(a wait that times out says so, and is a failure). While it waits, what it has found so far is shown on
stderr (a spinner on a terminal, a line whenever it changes elsewhere)."""

from __future__ import annotations

import argparse
import base64
import json
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eventlake.cli.common import CHECK_FAILED, OK, Context, DefaultsHelp, positive_int
from eventlake.cli.output import END, Field, emit
from eventlake.firehose_formats import conversion
from eventlake.traffic.producer import send
from eventlake.traffic.sample_events import Expect, Outgoing
from glue import schema
from glue.errors import ErrorOutputType

SMOKE_TYPE = "smoke"
VALID_EVENTS = 3
COLUMNS = [Field("check", min_width=24), Field("ok"), Field("detail", fit=END, min_width=16)]
QUIET_SECONDS = 30.0  # off a terminal, a waiting line at least this often even when nothing changed
TIMED_OUT = "the batch's objects arrived before --timeout"


@dataclass(frozen=True)
class SmokeBatch:
    tag: str
    valid: list[Outgoing]
    duplicate: Outgoing
    malformed: Outgoing

    @property
    def records(self) -> list[Outgoing]:
        return [*self.valid, self.duplicate, self.malformed]


def smoke_batch(tag: str, now: float) -> SmokeBatch:
    """Events of their own type (``smoke``), so they land in their own partitions and never mix with data."""
    valid = []
    for i in range(VALID_EVENTS):
        event = {
            "event_uuid": str(uuid.uuid4()),
            "event_name": f"{SMOKE_TYPE}:check",
            "created_at": int(now),
            "smoke_tag": tag,
            "n": i,
        }
        data = (json.dumps(event) + "\n").encode()
        valid.append(Outgoing(data, event["event_uuid"], Expect.VALID, event_uuid=event["event_uuid"]))
    first = valid[0]
    duplicate = Outgoing(first.data, first.partition_key, Expect.DUPLICATE, event_uuid=first.event_uuid)
    malformed = Outgoing(f"smoke {tag}: not json\n".encode(), tag, Expect.MALFORMED)
    return SmokeBatch(tag, valid, duplicate, malformed)


@dataclass
class Seen:
    rows: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[bytes] = field(default_factory=list)
    # Valid records of the batch found under errors/processing-failed/ (the Lambda failed or lost them): a
    # failure, but an answer: the record will not land as a row, so there is nothing left to wait for.
    failed: list[bytes] = field(default_factory=list)
    objects: set[str] = field(default_factory=set)
    timed_out: bool = False
    waited: float = 0.0  # seconds

    def progress(self) -> str:
        error = "found" if self.rejected else "not yet"
        failed = f", {len(self.failed)} valid under errors/processing-failed/" if self.failed else ""
        return (
            f"{len(self.rows)} of {VALID_EVENTS + 1} rows with the tag{failed}, the malformed record's error "
            f"record {error} ({len(self.objects)} new objects read)"
        )

    def accounted_for(self, batch: SmokeBatch) -> bool:
        """Every record of the batch is somewhere it stays: each valid one (and the re-send) a row or a
        processing-failed record, the malformed one its error record."""
        return len(self.rows) + len(self.failed) >= VALID_EVENTS + 1 and batch.malformed.data in self.rejected


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        "smoke",
        parents=parents,
        help="smoke-test a deployed stack: send a tagged batch, wait for its objects, check them",
        description=__doc__,
        formatter_class=DefaultsHelp,
    )
    command.add_argument("--bucket", help="the lake bucket (default: the stack's, from its name rule)")
    command.add_argument(
        "--timeout", type=positive_int, default=1800, help="seconds to wait (the S3 buffer interval, x1.5)"
    )
    command.add_argument("--poll", type=float, default=15.0, help="seconds between looks at the bucket")
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    context = Context.from_args(args)
    kinesis, s3 = context.client("kinesis"), context.client("s3")
    bucket = args.bucket or _bucket_name(context)
    started = time.time()
    batch = smoke_batch(uuid.uuid4().hex, started)
    ledger = send(kinesis, context.stream_name, batch.records, rng=random.Random())
    with _waiting(context.output, bucket, args.timeout) as shown:
        seen = wait(s3, bucket, batch, started, timeout=args.timeout, poll=args.poll, progress=shown)
    checks = verdict(batch, seen, accepted=len(ledger.records))
    if seen.timed_out:
        sys.stderr.write(
            f"eventlake smoke: error: timed out after {seen.waited:,.0f} s (--timeout {args.timeout}) "
            f"waiting for the batch's objects in s3://{bucket}: {seen.progress()}\n"
        )
    emit(
        context.output,
        f"eventlake smoke: stack {context.settings.stack}, tag {batch.tag}, bucket {bucket}"
        + (f": timed out after {seen.waited:,.0f} s" if seen.timed_out else ""),
        COLUMNS,
        checks,
        timed_out=seen.timed_out,
        waited_seconds=round(seen.waited, 1),
        failed_records=len(seen.failed),
    )
    return OK if all(ok for _, ok, _ in checks) else CHECK_FAILED


@contextmanager
def _waiting(output: str, bucket: str, timeout: int) -> Iterator[Callable[[Seen], None]]:
    """What the wait has found so far, on stderr: a spinner on a terminal (table output), else a line
    whenever it changes (and every QUIET_SECONDS), so a log shows the wait is alive."""
    from rich.console import Console

    err = Console(stderr=True)
    label = f"waiting for the batch's objects in s3://{bucket}"
    if output == "table" and err.is_terminal:
        with err.status(label) as status:
            yield lambda seen: status.update(f"{label}: {seen.progress()} ({_of(seen, timeout)})")
        return
    last: list[tuple[str, float]] = []

    def line(seen: Seen) -> None:
        text = seen.progress()
        if not last or last[0][0] != text or seen.waited - last[0][1] >= QUIET_SECONDS:
            sys.stderr.write(f"eventlake smoke: {label}: {text} ({_of(seen, timeout)})\n")
            last[:] = [(text, seen.waited)]

    yield line


def _of(seen: Seen, timeout: int) -> str:
    return f"{seen.waited:,.0f} s of {timeout:,} s"


def wait(
    s3: Any,
    bucket: str,
    batch: SmokeBatch,
    started: float,
    *,
    timeout: float,
    poll: float,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[Seen], None] | None = None,
) -> Seen:
    """Look at the new objects of the smoke partitions and of the error prefix until every record of the
    batch is accounted for (``Seen.accounted_for``: a valid record under errors/ ends the wait too, a failure
    reported at once rather than at ``timeout``) or time runs out (``Seen.timed_out``); each object is read
    once, and ``progress`` hears after each look."""
    seen = Seen()
    begun = clock()
    deadline = begun + timeout
    while True:
        _look(s3, bucket, batch, started, seen)
        done = seen.accounted_for(batch)
        now = clock()
        seen.waited = now - begun
        if progress is not None:
            progress(seen)
        if done:
            return seen
        if now >= deadline:
            seen.timed_out = True
            return seen
        sleep(min(poll, max(0.0, deadline - now)))


def _look(s3: Any, bucket: str, batch: SmokeBatch, started: float, seen: Seen) -> None:
    smoke_rows = f"{schema.DATA_ROOT}event_type={SMOKE_TYPE}/"
    errors = f"{schema.ERROR_ROOT}{ErrorOutputType.PROCESSING_FAILED.value}/"
    valid = {o.data for o in batch.valid}
    for prefix in (smoke_rows, errors):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                key = item["Key"]
                if key in seen.objects or item["LastModified"].timestamp() < started - 60:
                    continue
                seen.objects.add(key)
                body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                if prefix == smoke_rows:
                    for row in conversion.read_parquet(body).to_pylist():
                        if json.loads(row.get("payload") or "{}").get("smoke_tag") == batch.tag:
                            seen.rows.append(row)
                else:
                    for line in body.splitlines():
                        if line.strip():
                            raw = base64.b64decode(json.loads(line).get("rawData", ""))
                            if raw == batch.malformed.data:
                                seen.rejected.append(raw)
                            elif raw in valid:
                                seen.failed.append(raw)


def verdict(batch: SmokeBatch, seen: Seen, *, accepted: int) -> list[tuple[str, bool, str]]:
    by_uuid: dict[str, list[dict[str, Any]]] = {}
    for row in seen.rows:
        by_uuid.setdefault(str(row["event_uuid"]), []).append(row)
    first = batch.valid[0].event_uuid or ""
    copies = by_uuid.get(first, [])
    marks = sorted(str(row.get("is_duplicate")) for row in copies)
    waited = (
        [(TIMED_OUT, False, f"timed out after {seen.waited:,.0f} s: {seen.progress()}")]
        if seen.timed_out
        else []
    )
    return [
        *waited,
        (
            "the stream accepted the batch",
            accepted == len(batch.records),
            f"{accepted} of {len(batch.records)}",
        ),
        (
            "every valid event is a row",
            all(len(by_uuid.get(o.event_uuid or "", [])) >= 1 for o in batch.valid) and not seen.failed,
            f"{len(seen.rows)} rows with the tag, {len(seen.failed)} under errors/processing-failed/",
        ),
        (
            "the re-send is stored and marked duplicate",
            len(copies) == 2 and marks == ["False", "True"],
            f"copies of the first event: {len(copies)}, is_duplicate {marks}",
        ),
        (
            "the malformed record is under errors/processing-failed/ with its bytes",
            bool(seen.rejected),
            f"{len(seen.rejected)} found",
        ),
        (
            "rows carry the derived fields",
            bool(seen.rows)
            and all(r.get("event_subtype") == "check" and r.get("created_datetime") for r in seen.rows),
            f"checked {len(seen.rows)} rows at {datetime.now(UTC):%H:%M:%S}Z",
        ),
    ]


def _bucket_name(context: Context) -> str:
    return context.bucket()
