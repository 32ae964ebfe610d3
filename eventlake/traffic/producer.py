"""Puts records on the Kinesis stream the way a careful producer does, and keeps a ledger of it.

PutRecords takes at most 500 records and 5 MiB per call and can fail *some* entries of a call
(throttling): only those are retried, with exponential backoff and full jitter, so nothing is sent twice by
the retry itself. Entries still failing after ``MAX_ATTEMPTS`` raise ``ProducerError``, or with
``keep_going`` stay in ``Ledger.failed`` while the other batches go on (what an operator's tool wants).
The ledger keeps every accepted record's exact bytes, where Kinesis put it (shard, sequence number)
and what the lake must show for it. ``resend_batch_rate`` models a producer that timed out waiting
for a response and sent the whole batch again: the copies are new records (new sequence numbers).

With ``aggregate_for`` (the stream's shards) the records go out as the KPL sends them: packed into KPL
aggregated records, only records bound for one shard together (``kpl_aggregation.pack_by_shard``). The ledger
still keeps one ``Sent`` per record (a user record), with its aggregate's shard and sequence number and its
own subsequence number; ``kinesis_records`` gives back the Kinesis records' bytes as put.
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_contract import kpl_aggregation, limits
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
    subsequence_number: int = 0  # its place in its KPL aggregate (0 when put on its own)
    aggregated: bool = False  # put inside a KPL aggregate (of more than one record)

    @property
    def lineage(self) -> tuple[str, str, int]:
        """(shard, sequence number, subsequence number): the user records of one aggregate share the first
        two, as every record's row and error record name them."""
        return self.shard_id, self.sequence_number, self.subsequence_number

    @property
    def kinesis_lineage(self) -> tuple[str, str]:
        """The Kinesis record it went in (shard, sequence number)."""
        return self.shard_id, self.sequence_number


@dataclass
class Ledger:
    records: list[Sent] = field(default_factory=list)
    calls: int = 0
    retried_entries: int = 0
    resent_batches: int = 0
    failed: list[Outgoing] = field(default_factory=list)  # still rejected after every attempt (keep_going)

    def by_lineage(self) -> dict[tuple[str, str, int], Sent]:
        return {s.lineage: s for s in self.records}


def kinesis_records(sent: Iterable[Sent]) -> Counter[bytes]:
    """The Kinesis records' bytes as put (what the raw backup keeps), from the ledger: a record put on its own
    is its bytes; the records of one aggregate (one shard and sequence number) are encoded again, in their
    subsequence order, as ``pack_by_shard`` encoded them (no explicit hash keys: byte for byte the same)."""
    out: Counter[bytes] = Counter()
    aggregates: dict[tuple[str, str], list[Sent]] = defaultdict(list)
    for s in sent:
        if s.aggregated:
            aggregates[s.kinesis_lineage].append(s)
        else:
            out[s.data] += 1
    for users in aggregates.values():
        users.sort(key=lambda u: u.subsequence_number)
        out[kpl_aggregation.encode([kpl_aggregation.UserRecord(u.partition_key, u.data) for u in users])] += 1
    return out


def stream_shards(kinesis: Any, stream_name: str) -> list[kpl_aggregation.ShardRange]:
    """The stream's open shards and their hash key ranges (ListShards), for ``send(aggregate_for=...)``."""
    shards: list[kpl_aggregation.ShardRange] = []
    arguments: dict[str, Any] = {"StreamName": stream_name}
    while True:
        page = kinesis.list_shards(**arguments)
        for shard in page["Shards"]:
            if shard.get("SequenceNumberRange", {}).get("EndingSequenceNumber") is None:
                keys = shard["HashKeyRange"]
                shards.append(
                    kpl_aggregation.ShardRange(
                        shard["ShardId"], int(keys["StartingHashKey"]), int(keys["EndingHashKey"])
                    )
                )
        if not page.get("NextToken"):
            return shards
        arguments = {"NextToken": page["NextToken"]}


@dataclass(frozen=True, slots=True)
class _Entry:
    """One Kinesis record to put: its bytes and key, and the records it carries (itself, or an aggregate's
    user records)."""

    data: bytes
    partition_key: str
    users: tuple[Outgoing, ...]
    aggregated: bool


def _entries(
    records: Sequence[Outgoing], aggregate_for: Sequence[kpl_aggregation.ShardRange] | None
) -> list[_Entry]:
    if aggregate_for is None:
        return [_Entry(r.data, r.partition_key, (r,), False) for r in records]
    by_id: dict[int, Outgoing] = {}
    users: list[kpl_aggregation.UserRecord] = []
    for r in records:
        user = kpl_aggregation.UserRecord(r.partition_key, r.data)
        by_id[id(user)] = r
        users.append(user)
    return [
        _Entry(e.data, e.partition_key, tuple(by_id[id(u)] for u in e.records), e.aggregated)
        for e in kpl_aggregation.pack_by_shard(users, aggregate_for)
    ]


def batches(records: Sequence[Any]) -> list[list[Any]]:
    """Consecutive groups within PutRecords' count and size limits (of anything with ``data`` and
    ``partition_key``: records, or the entries carrying them)."""
    out: list[list[Any]] = []
    current: list[Any] = []
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
    aggregate_for: Sequence[kpl_aggregation.ShardRange] | None = None,
) -> Ledger:
    """Put ``records`` in order, batch by batch. Pass ``ledger`` to keep what was accepted when a call
    raises (a missing stream, denied access): the ledger then holds every record accepted before. With
    ``aggregate_for`` (``stream_shards``), KPL aggregates of the records bound for each shard are put."""
    ledger = Ledger() if ledger is None else ledger
    for batch in batches(_entries(records, aggregate_for)):
        _put(kinesis, stream_name, batch, ledger, rng=rng, sleep=sleep, resent=False, keep_going=keep_going)
        if resend_batch_rate and rng.random() < resend_batch_rate:
            copies = [_as_copy(e) for e in batch]
            _put(
                kinesis, stream_name, copies, ledger, rng=rng, sleep=sleep, resent=True, keep_going=keep_going
            )
            ledger.resent_batches += 1
        if progress:
            progress(sum(len(e.users) for e in batch))
    return ledger


def _as_copy(entry: _Entry) -> _Entry:
    """A second copy of a Kinesis record (the same bytes): a valid event becomes a duplicate, a bad record
    stays bad."""
    users = tuple(
        Outgoing(
            r.data,
            r.partition_key,
            Expect.MALFORMED if r.expect is Expect.MALFORMED else Expect.DUPLICATE,
            r.reason,
            r.event_uuid,
        )
        for r in entry.users
    )
    return _Entry(entry.data, entry.partition_key, users, entry.aggregated)


def _put(
    kinesis: Any,
    stream_name: str,
    batch: list[_Entry],
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
        failed: list[_Entry] = []
        for entry, result in zip(pending, response["Records"], strict=True):
            if result.get("ErrorCode"):
                failed.append(entry)
                continue
            for place, record in enumerate(entry.users):
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
                        subsequence_number=place if entry.aggregated else 0,
                        aggregated=entry.aggregated,
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
    ledger.failed.extend(r for entry in pending for r in entry.users)
