"""Kinesis ``PutRecords`` and ``GetRecords`` answered in-process from moto's Kinesis backend, in O(records).

moto 5.2 keeps each shard's records in an ordered dict keyed by consecutive integers but finds the last key
by copying all keys (``list(keys)[-1]``) on every put, and answers ``GetRecords`` by scanning the shard from
its first record: both grow with the shard, so a million records cost hours. Its request and response
serialisation cost another ~190 µs per record. While ``installed`` is active:

- moto's shards find their first and last sequence numbers in O(1) and read from an iterator's position by
  key (moto numbers a shard's records 1, 2, 3, ...), so moto's own path is linear too;
- a client ``attach``-ed here has ``PutRecords`` and ``GetRecords`` answered at botocore's ``before-call``
  (``direct_calls``) by the same backend objects: records go into moto's shards, in moto's numbering, and
  anything else (``ListShards``, ``GetShardIterator``, another client, moto's server) sees them;
- records are stored as slotted ``StoredRecord`` objects with the raw bytes (moto keeps a tracked model object
  per record and its base64 text), with the attributes and ``to_json`` moto's code reads.

``ArrivalClock`` stamps ``ApproximateArrivalTimestamp``: the wall clock by default, or a simulated clock the
local runner sets to spread a production hour of records over an hour of arrival times.

AWS's contract, from https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html and
API_GetRecords.html: at most 500 records and 5 MiB per ``PutRecords`` (each record up to 1 MiB, data plus
partition key; partition key 1-256 characters); each record is placed on the shard whose hash-key range
holds the MD5 of its partition key, and answered in order with its ``ShardId`` and ``SequenceNumber``;
``GetRecords`` returns at most ``Limit`` (up to 10,000) records after the iterator's position, in order, with
``NextShardIterator`` and ``MillisBehindLatest``. A request outside those limits (or with
``ExplicitHashKey``, or on a stream with a Lambda event source) is left to moto, which rejects or handles it.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Any
from unittest import mock

from botocore.parsers import DEFAULT_TIMESTAMP_PARSER
from dateutil.tz import tzlocal
from moto.kinesis.exceptions import ResourceNotFoundError, ShardNotFoundError
from moto.kinesis.models import Shard, Stream, kinesis_backends
from moto.kinesis.utils import compose_shard_iterator, decompose_shard_iterator

from aws_contract import limits
from eventlake.simulator.embedded import direct_calls


class ArrivalClock:
    """Where ``ApproximateArrivalTimestamp`` comes from (epoch seconds): the wall clock unless ``set``."""

    def __init__(self) -> None:
        self._now: Callable[[], float] = time.time

    def now(self) -> float:
        return self._now()

    def set(self, now: Callable[[], float] | None) -> None:
        """Stamp arrivals with ``now()`` from here on (None: the wall clock again)."""
        self._now = now or time.time


CLOCK = ArrivalClock()


class StoredRecord:
    """One record in a moto shard: what moto's ``Record`` offers its readers, without its weight."""

    __slots__ = ("created_at", "explicit_hash_key", "partition_key", "raw", "sequence_number")

    def __init__(self, partition_key: str, raw: bytes, sequence_number: int, created_at: float) -> None:
        self.partition_key = partition_key
        self.raw = raw
        self.sequence_number = sequence_number
        self.explicit_hash_key = None
        self.created_at = created_at

    @property
    def data(self) -> str:  # moto keeps the base64 text
        return base64.b64encode(self.raw).decode("ascii")

    @property
    def created_at_datetime(self) -> datetime:  # moto's utcnow(): naive UTC
        return datetime.fromtimestamp(self.created_at, UTC).replace(tzinfo=None)

    def to_json(self) -> dict[str, Any]:
        return {
            "Data": self.raw,
            "PartitionKey": self.partition_key,
            "SequenceNumber": str(self.sequence_number),
            "ApproximateArrivalTimestamp": self.created_at_datetime,
        }


def _first_key(shard: Shard) -> int:
    return next(iter(shard.records), 0)


def _last_key(shard: Shard) -> int:
    return next(reversed(shard.records), 0)


def records_after(shard: Shard, last_sequence_id: str, limit: int | None) -> tuple[list[Any], int, int]:
    """moto's ``Shard.get_records`` (records after the position, the new position, ms behind the newest),
    reading by key where the shard is numbered densely, as moto numbers it; moto's scan otherwise."""
    position = int(last_sequence_id)
    records = shard.records
    first, last = _first_key(shard), _last_key(shard)
    if records and last - first + 1 != len(records):
        return ORIGINAL_GET_RECORDS(shard, last_sequence_id, limit)
    start = max(position + 1, first) if records else position + 1
    stop = last if limit is None else min(last, start + limit - 1)
    out = [records[key] for key in range(start, stop + 1)]
    if not out:
        return [], position, 0
    behind = records[last].created_at - out[-1].created_at
    return out, out[-1].sequence_number, int(behind * 1000)


ORIGINAL_GET_RECORDS = Shard.get_records
_LOCAL = tzlocal()
_LOCAL_OFFSET = _LOCAL.utcoffset(datetime(2000, 1, 1))


def arrival_datetime(seconds: float) -> datetime:
    """What botocore's parser makes of an epoch timestamp (local time in a new dateutil ``tzlocal``), cheaper:
    one ``tzlocal`` for every record and, where local time has no daylight saving, its fixed offset added."""
    if _LOCAL._hasdst:
        return DEFAULT_TIMESTAMP_PARSER(seconds)  # type: ignore[no-any-return]
    utc = datetime.fromtimestamp(seconds, UTC)
    return (utc.replace(tzinfo=None) + _LOCAL_OFFSET).replace(tzinfo=_LOCAL)


def put_records(backend: Any, params: Mapping[str, Any]) -> dict[str, Any] | None:
    """``PutRecords`` on moto's backend, or None to let moto answer (errors, options not modelled)."""
    stream = _stream(backend, params)
    entries = params.get("Records") or []
    if stream is None or not entries or len(entries) > limits.PUT_RECORDS_MAX_RECORDS:
        return None
    sizes = []
    for entry in entries:
        key = entry.get("PartitionKey")
        data = entry.get("Data")
        if entry.get("ExplicitHashKey") is not None or not isinstance(data, bytes):
            return None
        if not isinstance(key, str):
            return None
        if not 1 <= len(key) <= limits.PARTITION_KEY_MAX_CHARS:
            return None
        size = len(data) + len(key.encode("utf-8"))
        if size > limits.KINESIS_RECORD_MAX_BYTES:
            return None
        sizes.append(size)
    if sum(sizes) > limits.PUT_RECORDS_MAX_BYTES or stream.lambda_event_source_mappings:
        return None
    placed = []
    for entry in entries:
        shard = stream.get_shard_for_key(entry["PartitionKey"], "")
        if shard is None:
            return None  # cannot happen for a key below 2**128; moto's own answer if it does
        sequence = _last_key(shard) + 1
        shard.records[sequence] = StoredRecord(entry["PartitionKey"], entry["Data"], sequence, CLOCK.now())
        placed.append({"SequenceNumber": str(sequence), "ShardId": shard.shard_id})
    return {"FailedRecordCount": 0, "Records": placed}


def get_records(backend: Any, params: Mapping[str, Any]) -> dict[str, Any] | None:
    """``GetRecords`` on moto's backend, or None to let moto answer."""
    limit = params.get("Limit")
    if limit is not None and not 1 <= limit <= limits.GET_RECORDS_MAX_RECORDS:
        return None
    try:
        stream_name, shard_id, position = decompose_shard_iterator(params["ShardIterator"])
    except Exception:  # not an iterator moto issued: moto's error
        return None
    stream = _stream(backend, {"StreamName": stream_name, "StreamARN": params.get("StreamARN")})
    if stream is None or shard_id not in stream.shards:
        return None
    shard = stream.shards[shard_id]
    records, position, behind = records_after(shard, position, limit)
    return {
        "Records": [
            {
                "Data": r.raw if isinstance(r, StoredRecord) else base64.b64decode(r.data),
                "PartitionKey": r.partition_key,
                "SequenceNumber": str(r.sequence_number),
                "ApproximateArrivalTimestamp": arrival_datetime(r.created_at),
            }
            for r in records
        ],
        "NextShardIterator": compose_shard_iterator(stream_name, shard, position),
        "MillisBehindLatest": behind,
    }


def _stream(backend: Any, params: Mapping[str, Any]) -> Stream | None:
    """The stream a request names, or None when moto should answer (it raises the right error)."""
    try:
        return backend.describe_stream(
            stream_arn=params.get("StreamARN"), stream_name=params.get("StreamName")
        )
    except (ResourceNotFoundError, ShardNotFoundError):
        return None


@contextmanager
def installed() -> Iterator[None]:
    """moto's shards in O(1) per put and O(records read) per read, for the duration."""
    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(Shard, "get_min_sequence_number", _first_key))
        stack.enter_context(mock.patch.object(Shard, "get_max_sequence_number", _last_key))
        stack.enter_context(mock.patch.object(Shard, "get_records", records_after))
        yield


@contextmanager
def attached(client: Any, account_id: str) -> Iterator[None]:
    """``client`` (a Kinesis client of the embedded AWS, ``account_id``'s) has its puts and reads answered
    in-process, from the backend of its account and region."""
    backend = kinesis_backends[account_id][client.meta.region_name]
    handlers = {
        "PutRecords": partial(put_records, backend),
        "GetRecords": partial(get_records, backend),
    }
    with direct_calls.attached(client, handlers):
        yield
