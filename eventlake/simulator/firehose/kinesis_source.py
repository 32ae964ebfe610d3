"""Firehose's Kinesis source: one shard iterator per shard, GetRecords until caught up.

Firehose starts reading a stream at ``LATEST`` when the delivery stream is created, so the reader
takes its iterators when it is constructed (before anything is produced) and sees every later record
exactly once; nothing written before it registered is delivered, as on AWS.

KPL aggregated records are de-aggregated here, as they are read, because that is all AWS documents: "Amazon
Data Firehose de-aggregates the records before it delivers them to the destination. If you configure your
Firehose stream to transform the data, Amazon Data Firehose de-aggregates the records before it delivers them
to AWS Lambda" (Firehose guide, "Configure source settings for Amazon Kinesis Data Streams"; Kinesis guide,
"Use the KPL with Amazon Data Firehose"). Each user record becomes one ``SourceRecord`` with the aggregate's
shard, sequence number and arrival time and its own partition key, data and subsequence number (0, 1, ... in
the aggregate), so the Lambda's ``kinesisRecordMetadata`` and ``recordId`` are per user record. Everything
downstream but the raw backup sees user records; where AWS's documentation is silent the model chooses:

- the raw source backup (``raw/``) holds each Kinesis record's bytes as put, an aggregate whole ("Firehose can
  back up all untransformed records", data-transformation-source-record-backup: it does not say before or
  after de-aggregation). Chosen so that ``eventlake replay`` re-sends exactly what was sent, an aggregate as
  one Kinesis record byte for byte; ``raw/`` then holds JSON lines and aggregates one after another, which
  ``kpl_aggregation.split_records`` cuts apart again (an aggregate ends where the MD5 of its protobuf does).
  were AWS to back up the user records instead, replay would re-send them one a record, as any JSON line;
- a ``processing-failed`` record's ``rawData`` is the user record's bytes (the record the Lambda was given);
  a ``format-conversion-failed`` record also names its ``sequenceNumber`` and ``subSequenceNumber``, as the
  conversion guide documents; the Lambda's row names its Kinesis record and its place in it
  (``source_sequence_number``, ``source_subsequence_number``), so every later error record does too.

A record that is not an aggregate (``kpl_aggregation.deaggregate``: no magic number, an MD5 that does not
match, protobuf that does not parse, ...) is delivered as one record with its bytes as put, subsequence 0:
what awslabs' reference de-aggregators (the KCL, ``aws-kinesis-agg``) do with a corrupt aggregate; Firehose
documents nothing for it. The transform then rejects it (not UTF-8 JSON), so a corrupt aggregate lands whole
under the processing-failed error prefix, as on AWS with this Lambda, and in ``raw/`` as put.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from typing import Any

from aws_contract import limits
from eventlake.firehose_formats.source_records import SourceRecord, deaggregated


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
        return [user for r in response["Records"] for user in deaggregated(shard, r)]

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
