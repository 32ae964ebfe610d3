"""Puts records on the Kinesis stream the way a careful producer does, and keeps a ledger of it.

PutRecords takes at most 500 records and 5 MiB per call and can fail *some* entries of a call
(throttling): only those are retried, with exponential backoff and full jitter, so nothing is sent twice by
the retry itself. Entries still failing after ``MAX_ATTEMPTS`` raise ``ProducerError``, or with
``keep_going`` stay in ``Ledger.failed`` while the other batches go on (what an operator's tool wants).
The ledger keeps every accepted record's exact bytes, where Kinesis put it (shard, sequence number)
and what the lake must show for it. ``resend_batch_rate`` models a producer that timed out waiting
for a response and sent the whole batch again: the copies are new records (new sequence numbers).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_contract import limits
from eventlake.traffic.sample_events import Expect, Outgoing
from glue.errors import Reject

MAX_ATTEMPTS = 8
BASE_BACKOFF_S = 0.05

Progress = Callable[[int], None]


class ProducerError(RuntimeError):
    """Kinesis kept rejecting some records after every retry."""


@dataclass(frozen=True, slots=True)  # a production hour holds a million
class Sent:
    """One record Kinesis accepted: the producer's side of the invariant."""

    index: int
    data: bytes
    partition_key: str
    expect: Expect
    reason: Reject | None
    event_uuid: str | None
    shard_id: str
    sequence_number: str
    resent_batch: bool = False

    @property
    def lineage(self) -> tuple[str, str]:
        return self.shard_id, self.sequence_number


@dataclass
class Ledger:
    records: list[Sent] = field(default_factory=list)
    calls: int = 0
    retried_entries: int = 0
    resent_batches: int = 0
    failed: list[Outgoing] = field(default_factory=list)  # still rejected after every attempt (keep_going)

    def by_lineage(self) -> dict[tuple[str, str], Sent]:
        return {s.lineage: s for s in self.records}


def batches(records: Sequence[Outgoing]) -> list[list[Outgoing]]:
    """Consecutive groups within PutRecords' count and size limits."""
    out: list[list[Outgoing]] = []
    current: list[Outgoing] = []
    size = 0
    for record in records:
        weight = len(record.data) + len(record.partition_key.encode("utf-8"))
        if current and (
            len(current) == limits.PUT_RECORDS_MAX_RECORDS or size + weight > limits.PUT_RECORDS_MAX_BYTES
        ):
            out.append(current)
            current, size = [], 0
        current.append(record)
        size += weight
    if current:
        out.append(current)
    return out


def send(
    kinesis: Any,
    stream_name: str,
    records: Sequence[Outgoing],
    *,
    rng: random.Random,
    resend_batch_rate: float = 0.0,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
    keep_going: bool = False,
    ledger: Ledger | None = None,
) -> Ledger:
    """Put ``records`` in order, batch by batch. Pass ``ledger`` to keep what was accepted when a call
    raises (a missing stream, denied access): the ledger then holds every record accepted before."""
    ledger = Ledger() if ledger is None else ledger
    for batch in batches(records):
        _put(kinesis, stream_name, batch, ledger, rng=rng, sleep=sleep, resent=False, keep_going=keep_going)
        if resend_batch_rate and rng.random() < resend_batch_rate:
            copies = [_as_copy(r) for r in batch]
            _put(
                kinesis, stream_name, copies, ledger, rng=rng, sleep=sleep, resent=True, keep_going=keep_going
            )
            ledger.resent_batches += 1
        if progress:
            progress(len(batch))
    return ledger


def _as_copy(record: Outgoing) -> Outgoing:
    """A second copy of a record: a valid event becomes a duplicate, a bad record stays bad."""
    expect = Expect.MALFORMED if record.expect is Expect.MALFORMED else Expect.DUPLICATE
    return Outgoing(record.data, record.partition_key, expect, record.reason, record.event_uuid)


def _put(
    kinesis: Any,
    stream_name: str,
    batch: list[Outgoing],
    ledger: Ledger,
    *,
    rng: random.Random,
    sleep: Callable[[float], None],
    resent: bool,
    keep_going: bool,
) -> None:
    pending = list(batch)
    for attempt in range(MAX_ATTEMPTS):
        response = kinesis.put_records(
            StreamName=stream_name,
            Records=[{"Data": r.data, "PartitionKey": r.partition_key} for r in pending],
        )
        ledger.calls += 1
        failed: list[Outgoing] = []
        for record, result in zip(pending, response["Records"], strict=True):
            if result.get("ErrorCode"):
                failed.append(record)
                continue
            ledger.records.append(
                Sent(
                    index=len(ledger.records),
                    data=record.data,
                    partition_key=record.partition_key,
                    expect=record.expect,
                    reason=record.reason,
                    event_uuid=record.event_uuid,
                    shard_id=result["ShardId"],
                    sequence_number=result["SequenceNumber"],
                    resent_batch=resent,
                )
            )
        if not failed:
            return
        pending = failed
        if attempt + 1 == MAX_ATTEMPTS:
            break
        ledger.retried_entries += len(failed)
        # Full jitter: spreads retries from many producers over the throttled shard.
        sleep(rng.uniform(0, BASE_BACKOFF_S * 2**attempt))
    if not keep_going:
        raise ProducerError(f"{len(pending)} records still rejected after {MAX_ATTEMPTS} attempts")
    ledger.failed.extend(pending)
