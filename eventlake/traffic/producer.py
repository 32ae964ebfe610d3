"""Puts records on the Kinesis stream the way a careful producer does, and keeps a ledger of it.

PutRecords takes at most 500 records and 5 MiB per call and can fail *some* entries of a call
(throttling): only those are retried, with backoff, so nothing is sent twice by the retry itself.
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


@dataclass(frozen=True)
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
) -> Ledger:
    ledger = Ledger()
    for batch in batches(records):
        _put(kinesis, stream_name, batch, ledger, rng=rng, sleep=sleep, resent=False)
        if resend_batch_rate and rng.random() < resend_batch_rate:
            copies = [_as_copy(r) for r in batch]
            _put(kinesis, stream_name, copies, ledger, rng=rng, sleep=sleep, resent=True)
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
        ledger.retried_entries += len(failed)
        pending = failed
        # Full jitter: spreads retries from many producers over the throttled shard.
        sleep(rng.uniform(0, BASE_BACKOFF_S * 2**attempt))
    raise ProducerError(f"{len(pending)} records still rejected after {MAX_ATTEMPTS} attempts")
