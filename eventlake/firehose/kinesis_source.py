"""Firehose's Kinesis source: one shard iterator per shard, GetRecords until caught up.

Firehose starts reading a stream at ``LATEST`` when the delivery stream is created, so the reader
takes its iterators when it is constructed (before anything is produced) and sees every later record
exactly once; nothing written before it registered is delivered, as on AWS.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from aws_contract import limits


@dataclass(frozen=True, slots=True)  # a production hour holds a million
class SourceRecord:
    """One Kinesis record as Firehose holds it."""

    shard_id: str
    sequence_number: str
    partition_key: str
    data: bytes
    arrival_ms: int
    subsequence_number: int = 0  # non-zero only for KPL-aggregated records (not produced here)

    @property
    def lineage(self) -> tuple[str, str]:
        return self.shard_id, self.sequence_number


class KinesisReader:
    def __init__(self, kinesis: Any, stream_name: str, *, start: str = "LATEST") -> None:
        self._kinesis = kinesis
        self._stream = stream_name
        shards = kinesis.list_shards(StreamName=stream_name)["Shards"]
        self.shard_ids = tuple(s["ShardId"] for s in shards)
        self._iterators: dict[str, str | None] = {
            shard: kinesis.get_shard_iterator(StreamName=stream_name, ShardId=shard, ShardIteratorType=start)[
                "ShardIterator"
            ]
            for shard in self.shard_ids
        }

    def poll(self) -> list[SourceRecord]:
        """One GetRecords per open shard (Firehose polls each shard about once a second)."""
        out: list[SourceRecord] = []
        for shard in self._iterators:
            out.extend(self._get(shard))
        return out

    def _get(self, shard: str) -> list[SourceRecord]:
        """One GetRecords on ``shard`` from where its iterator stands (nothing once the shard is closed)."""
        iterator = self._iterators[shard]
        if iterator is None:
            return []
        response = self._kinesis.get_records(ShardIterator=iterator, Limit=limits.GET_RECORDS_MAX_RECORDS)
        self._iterators[shard] = response.get("NextShardIterator")
        return [
            SourceRecord(
                shard_id=shard,
                sequence_number=str(r["SequenceNumber"]),
                partition_key=r["PartitionKey"],
                data=bytes(r["Data"]),
                arrival_ms=int(r["ApproximateArrivalTimestamp"].timestamp() * 1000),
            )
            for r in response["Records"]
        ]

    def _shard(self, shard: str) -> Iterator[SourceRecord]:
        """One shard's records, page by page, until a GetRecords returns nothing: caught up."""
        while records := self._get(shard):
            yield from records

    def merged(self, order: Callable[[SourceRecord], Any]) -> Iterator[SourceRecord]:
        """Every shard read until caught up, as one stream in ``order`` (each shard's own order must agree
        with it, as arrival order does): a page per shard is held at a time, never the whole stream."""
        return heapq.merge(*(self._shard(shard) for shard in self.shard_ids), key=order)

    def drain(self) -> Iterator[list[SourceRecord]]:
        """Poll until a round returns nothing: the reader has caught up with the stream."""
        while True:
            records = self.poll()
            if not records:
                return
            yield records
