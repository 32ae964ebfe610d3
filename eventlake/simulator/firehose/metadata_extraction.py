"""Firehose without the Lambda (``processor: jq``): its ``MetadataExtraction`` processor, evaluated with a
real jq (the ``jq`` bindings) on the deployed query (``glue.partition_query.QUERY``), and the S3 side of
that mode.

Per record, as the Firehose guide describes inline parsing: the record's bytes are parsed as JSON and the
query yields the partition keys. A record that is not JSON (or not UTF-8: this model's reading of "not
able to parse", where jq 1.6 itself would substitute U+FFFD), whose query raises, or that does not yield
exactly one object of string keys, goes to the error prefix as ``partitioning-failed`` with its original bytes
(``ErrorCode.METADATA_EXTRACTION_FAILED``, [unverified], see ``glue.partition_query``). Every other record is
buffered in its partition exactly as it came and written as JSON Lines, GZIP-compressed (no format
conversion in this mode): the producer contract ends every record with one newline.

The bindings bundle a newer libjq (1.7) than Firehose's 1.6;
``tests/eventlake/simulator/firehose/test_metadata_extraction.py`` also runs the query on the jq 1.6
executable when one is installed, and checks both against the Lambda mode's ``schema.partition_values``.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

import jq

from eventlake.firehose_formats import error_records, prefixes
from eventlake.firehose_formats.source_records import SourceRecord
from eventlake.simulator.firehose.s3_destination import (
    DATA,
    Buffer,
    S3Destination,
    WrittenObject,
    moment,
)
from glue import partition_query
from glue.errors import ErrorCode, ErrorOutputType


class QueryFailure(ValueError):
    """The record yields no partition keys: Firehose sends it to the error prefix."""


@dataclass(frozen=True)
class QueryPartitioner:
    """The ``MetadataExtractionQuery`` compiled once, evaluated per record."""

    query: str = partition_query.QUERY

    def __post_init__(self) -> None:
        object.__setattr__(self, "_program", jq.compile(self.query))

    def keys(self, data: bytes) -> dict[str, str]:
        """The record's partition keys, or :class:`QueryFailure` saying why there are none."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise QueryFailure(f"Non UTF-8 record: {exc.reason} at byte {exc.start}") from None
        try:
            outputs = self._program.input_text(text).all()  # type: ignore[attr-defined]
        except ValueError as exc:  # a parse error or the query's own error(...)
            raise QueryFailure(str(exc).splitlines()[0]) from None
        if len(outputs) != 1:
            raise QueryFailure(f"the record holds {len(outputs)} JSON values, not one")
        (keys,) = outputs
        if not isinstance(keys, dict) or not all(isinstance(v, str) and v for v in keys.values()):
            raise QueryFailure(f"the query did not yield string partition keys: {keys!r}")
        return keys


class RecordsAsSentDestination(S3Destination):
    """The S3 side without format conversion: each partition's buffer holds the records' own bytes and is
    written as one GZIP object (``spec.data_compression``, ``spec.file_extension``)."""

    def deliver_as_sent(self, record: SourceRecord, keys: dict[str, str], now_ms: int) -> list[WrittenObject]:
        where = prefixes.evaluate(
            self._spec.prefix,
            arrival=moment(record.arrival_ms),
            partition_keys=keys,
            time_zone=self._spec.custom_time_zone,
        )
        size = len(record.data)
        if (DATA, where) not in self._open and self.active_partitions >= self._max_partitions:
            line = error_records.partitioning_failed(
                record.data,
                error_code=ErrorCode.ACTIVE_PARTITION_LIMIT_EXCEEDED.value,
                error_message=f"The number of active partitions reached the limit of {self._max_partitions}.",
                attempts_made=1,
                arrival_ms=record.arrival_ms,
                attempt_ending_ms=now_ms,
            )
            self._error(ErrorOutputType.ACTIVE_PARTITION_EXCEEDED, line, size, record, now_ms)
            return self._take_written()
        buffer = self._room((DATA, where), size, now_ms, record.arrival_ms, partial(self._write_lines, where))
        self._add(buffer, record.data, size, record.arrival_ms)
        return self._take_written()

    def query_failed(self, record: SourceRecord, message: str, now_ms: int) -> list[WrittenObject]:
        line = error_records.partitioning_failed(
            record.data,
            error_code=ErrorCode.METADATA_EXTRACTION_FAILED.value,
            error_message=message,
            attempts_made=1,
            arrival_ms=record.arrival_ms,
            attempt_ending_ms=now_ms,
        )
        self._error(ErrorOutputType.PARTITIONING_FAILED, line, len(record.data), record, now_ms)
        return self._take_written()

    def _write_lines(self, where: str, buffer: Buffer, delivery_ms: int) -> None:
        body = b"".join(buffer.items)
        if self._spec.data_compression == partition_query.OUTPUT_COMPRESSION:
            body = gzip.compress(body, mtime=0)
        key = prefixes.object_key(where, self._name(delivery_ms, self._spec.file_extension))
        self._put(key, body, DATA, buffer.records, buffer, where, delivery_ms)


@dataclass(frozen=True)
class QueryRun:
    """What one jq-mode run did: records read, delivered as data, sent to the error prefix."""

    records_read: int
    delivered: int
    failed: int
    written: tuple[WrittenObject, ...]
    peak_active_partitions: int


def deliver_by_query(
    records: Iterable[SourceRecord],
    destination: RecordsAsSentDestination,
    partitioner: QueryPartitioner,
    progress: Callable[[int], None] | None = None,
) -> QueryRun:
    """Back up, partition and buffer every record in arrival order on the simulated clock, then flush."""
    written: list[WrittenObject] = []
    read = delivered = failed = peak = 0
    for record in records:
        now = record.arrival_ms
        read += 1
        written += destination.back_up(record, now)
        written += destination.tick(now)
        try:
            keys = partitioner.keys(record.data)
        except QueryFailure as exc:
            failed += 1
            written += destination.query_failed(record, str(exc), now)
        else:
            delivered += 1
            written += destination.deliver_as_sent(record, keys, now)
        peak = max(peak, destination.active_partitions)
        if progress:
            progress(1)
    written += destination.flush()
    return QueryRun(read, delivered, failed, tuple(written), peak)
