"""Firehose's S3 side: partitioning, format conversion, per-partition buffers, objects in S3.

Order of operations, as Firehose documents it: the Lambda's partition keys pick a partition (a record
without them goes to ``partitioning-failed``), the record is converted to the Glue table's columns (a
failure goes to ``format-conversion-failed`` with the bytes the converter saw, i.e. the *transformed*
record), and each partition's buffer becomes one Parquet object when it reaches the buffer size or
its interval runs out. At most ``max_active_partitions`` buffers are open at once; records for a new
partition beyond that go to the error prefix (``activePartitionExceeded``).

Time is the model's simulated clock (epoch ms), not the wall clock: ``!{timestamp:...}`` is the arrival
of the oldest record in the object, and the object name carries the delivery time.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pyarrow as pa

from aws_contract import limits
from eventlake.firehose_formats import backup, conversion, error_records, prefixes
from eventlake.firehose_formats.source_records import SourceRecord
from eventlake.simulator.firehose.transformation import Failed, Transformed
from glue.errors import ErrorCode, ErrorOutputType
from infra.delivery_spec import DeliverySpec

STREAM_VERSION = 1  # a stream just created; grows with each configuration change on AWS

# A hook between the Lambda and the converter (fault injection): transformed bytes in, bytes out.
BeforeConversion = Callable[[Transformed], bytes]

DATA = "data"
BACKUP = "backup"
_ERRORS = "errors"
# tick and flush write data, then errors, then the backup: object names draw their UUIDs in this order.
_WRITE_ORDER = (DATA, _ERRORS, BACKUP)


@dataclass(frozen=True)
class WrittenObject:
    key: str
    kind: str  # DATA, BACKUP or an ErrorOutputType value
    size: int
    records: int
    input_bytes: int  # bytes of the records that went in (transformed JSON for data objects)
    partition: str  # the evaluated prefix
    delivered_ms: int  # the delivery time its name carries
    oldest_arrival_ms: int  # what !{timestamp:...} evaluates to


# Puts a buffer in S3 as one object, delivered at the given time (epoch ms).
Writer = Callable[["Buffer", int], None]


@dataclass
class Buffer:
    """One open buffer of a destination (a partition's data, an error kind, the backup): what it holds and
    when it opened, so the buffering hints can decide when it is written (the jq mode's writer shares it)."""

    opened_ms: int
    oldest_arrival_ms: int
    write: Writer
    items: list[Any] = field(default_factory=list)
    size: int = 0
    records: int = 0


def moment(ms: int) -> datetime:
    """An epoch-millisecond time as the UTC datetime Firehose's prefixes and object names are built from."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


class S3Destination:
    def __init__(
        self,
        s3: Any,
        bucket: str,
        spec: DeliverySpec,
        *,
        lambda_arn: str,
        catalog: dict[str, str],
        rng: random.Random,
        max_active_partitions: int = limits.ACTIVE_PARTITIONS_DEFAULT,
        before_conversion: BeforeConversion | None = None,
    ) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._spec = spec
        self._lambda_arn = lambda_arn
        self._catalog = catalog
        self._rng = rng
        self._max_partitions = max_active_partitions
        self._before_conversion = before_conversion
        self._size_limit = spec.buffering_size_mib * limits.MIB
        self._interval_ms = spec.buffering_interval_seconds * 1000
        # Open buffers by (DATA, evaluated prefix), (_ERRORS, error output type) and (BACKUP, "").
        self._open: dict[tuple[str, str], Buffer] = {}
        # Objects written since the last public call returned them (each public method returns its own).
        self._written: list[WrittenObject] = []
        # When the oldest open buffer opened (None: not known, recomputed): ``tick`` runs once per record and
        # returns at once while no interval can have run out.
        self._oldest_open_ms: int | None = None

    # --- input -------------------------------------------------------------------------------------------

    # Each public method returns the objects it wrote to S3 (a buffer that fills up, or whose interval ran
    # out, is written by the call that made it so).

    def back_up(self, record: SourceRecord, now_ms: int) -> list[WrittenObject]:
        """Every source record, untransformed, before the Lambda sees it: each Kinesis record once, as put
        (an aggregate whole, with its first user record; see ``kinesis_source``)."""
        data = record.as_put
        if self._spec.source_backup and data is not None:
            size = len(data)
            buffer = self._room((BACKUP, ""), size, now_ms, record.arrival_ms, self._write_backup)
            self._add(buffer, data, size, record.arrival_ms)
        return self._take_written()

    def processing_failed(self, failures: list[Failed], now_ms: int) -> list[WrittenObject]:
        for f in failures:
            line = error_records.processing_failed(
                f.source.data,
                error_code=f.error_code.value,
                error_message=f.error_message,
                attempts_made=f.attempts,
                arrival_ms=f.source.arrival_ms,
                attempt_ending_ms=f.attempt_ending_ms,
                lambda_arn=self._lambda_arn,
            )
            self._error(ErrorOutputType.PROCESSING_FAILED, line, len(f.source.data), f.source, now_ms)
        return self._take_written()

    def deliver(self, items: list[Transformed], now_ms: int) -> list[WrittenObject]:
        """Partition, convert and buffer the ``Ok`` records of one invocation."""
        placed: list[tuple[Transformed, str, bytes]] = []
        for item in items:
            try:
                if item.partition_keys is None:
                    raise prefixes.PrefixError("the Lambda returned no metadata.partitionKeys")
                where = prefixes.evaluate(
                    self._spec.prefix,
                    arrival=moment(item.source.arrival_ms),
                    partition_keys=item.partition_keys,
                    time_zone=self._spec.custom_time_zone,
                )
            except prefixes.PrefixError as exc:
                self._transformed_error(
                    ErrorOutputType.PARTITIONING_FAILED,
                    ErrorCode.MISSING_PARTITION_KEY,
                    str(exc),
                    item,
                    now_ms,
                )
                continue
            data = self._before_conversion(item) if self._before_conversion else item.data
            placed.append((item, where, data))
        if placed:
            self._convert_and_buffer(placed, now_ms)
        return self._take_written()

    def _convert_and_buffer(self, placed: list[tuple[Transformed, str, bytes]], now_ms: int) -> None:
        table, row_sources, failures = conversion.convert([data for _, _, data in placed])
        for failure in failures:
            item, _, data = placed[failure.index]
            self._conversion_failed(item, data, failure, now_ms)

        rows_by_partition: dict[str, list[int]] = defaultdict(list)
        for row, index in enumerate(row_sources):
            rows_by_partition[placed[index][1]].append(row)
        # One take puts each partition's rows next to each other; each partition's buffer gets a slice of it.
        grouped = table.take(pa.array([r for rows in rows_by_partition.values() for r in rows], pa.int64()))
        start = 0
        for where, rows in rows_by_partition.items():
            part, start = grouped.slice(start, len(rows)), start + len(rows)
            sources = sorted({row_sources[r] for r in rows})
            if (DATA, where) not in self._open and self.active_partitions >= self._max_partitions:
                for index in sources:
                    item, _, data = placed[index]
                    self._transformed_error(
                        ErrorOutputType.ACTIVE_PARTITION_EXCEEDED,
                        ErrorCode.ACTIVE_PARTITION_LIMIT_EXCEEDED,
                        f"The number of active partitions reached the limit of {self._max_partitions}.",
                        item,
                        now_ms,
                        data=data,
                    )
                continue
            size = sum(len(placed[i][2]) for i in sources)
            oldest = min(placed[i][0].source.arrival_ms for i in sources)
            buffer = self._room((DATA, where), size, now_ms, oldest, partial(self._write_data, where))
            self._add(buffer, part, size, oldest, records=len(sources))

    @property
    def active_partitions(self) -> int:
        """Partitions with an open buffer: what Firehose's active-partition limit counts."""
        return sum(kind == DATA for kind, _ in self._open)

    def _take_written(self) -> list[WrittenObject]:
        written, self._written = self._written, []
        return written

    # --- time --------------------------------------------------------------------------------------------

    def tick(self, now_ms: int) -> list[WrittenObject]:
        """Deliver every buffer whose interval has run out by ``now_ms``."""
        if self._oldest_open_ms is None and self._open:
            self._oldest_open_ms = min(b.opened_ms for b in self._open.values())
        if self._oldest_open_ms is None or now_ms - self._oldest_open_ms < self._interval_ms:
            return self._take_written()
        for key, buffer in self._in_write_order():
            if now_ms - buffer.opened_ms >= self._interval_ms:
                del self._open[key]
                buffer.write(buffer, buffer.opened_ms + self._interval_ms)
        self._oldest_open_ms = None
        return self._take_written()

    def flush(self) -> list[WrittenObject]:
        """End of the run: every buffer is delivered when its interval would have run out."""
        for _, buffer in self._in_write_order():
            buffer.write(buffer, buffer.opened_ms + self._interval_ms)
        self._open = {}
        self._oldest_open_ms = None
        return self._take_written()

    def _in_write_order(self) -> list[tuple[tuple[str, str], Buffer]]:
        """The open buffers, data then errors then the backup, each kind in the order its buffers opened."""
        return sorted(self._open.items(), key=lambda entry: _WRITE_ORDER.index(entry[0][0]))

    # --- errors ------------------------------------------------------------------------------------------

    def _conversion_failed(
        self, item: Transformed, data: bytes, failure: conversion.ConversionFailure, now_ms: int
    ) -> None:
        line = error_records.format_conversion_failed(
            data,
            error_code=failure.code,
            error_message=failure.message,
            attempts_made=1,
            arrival_ms=item.source.arrival_ms,
            attempt_ending_ms=now_ms,
            sequence_number=item.source.sequence_number,
            subsequence_number=item.source.subsequence_number,
            catalog=self._catalog,
        )
        self._error(ErrorOutputType.FORMAT_CONVERSION_FAILED, line, len(data), item.source, now_ms)

    def _transformed_error(
        self,
        kind: ErrorOutputType,
        code: ErrorCode,
        message: str,
        item: Transformed,
        now_ms: int,
        *,
        data: bytes | None = None,
    ) -> None:
        raw = item.data if data is None else data
        line = error_records.partitioning_failed(
            raw,
            error_code=code.value,
            error_message=message,
            attempts_made=1,
            arrival_ms=item.source.arrival_ms,
            attempt_ending_ms=now_ms,
        )
        self._error(kind, line, len(raw), item.source, now_ms)

    def _error(
        self, kind: ErrorOutputType, line: dict[str, Any], size: int, source: SourceRecord, now_ms: int
    ) -> None:
        write = partial(self._write_errors, kind.value)
        buffer = self._room((_ERRORS, kind.value), size, now_ms, source.arrival_ms, write)
        self._add(buffer, line, size, source.arrival_ms)

    # --- buffering and writing ---------------------------------------------------------------------------

    def _room(self, key: tuple[str, str], size: int, now_ms: int, arrival_ms: int, write: Writer) -> Buffer:
        """The open buffer for ``key`` if ``size`` more bytes fit in it; else the full one is written now and
        a new one opens (``arrival_ms`` being its oldest record's arrival, ``write`` how it is put in S3)."""
        buffer = self._open.get(key)
        if buffer and buffer.size + size > self._size_limit:
            del self._open[key]
            self._oldest_open_ms = None
            buffer.write(buffer, now_ms)
            buffer = None
        if buffer is None:
            buffer = self._open[key] = Buffer(opened_ms=now_ms, oldest_arrival_ms=arrival_ms, write=write)
            if self._oldest_open_ms is not None:
                self._oldest_open_ms = min(self._oldest_open_ms, now_ms)
        return buffer

    @staticmethod
    def _add(buffer: Buffer, item: Any, size: int, arrival_ms: int, records: int = 1) -> None:
        buffer.items.append(item)
        buffer.size += size
        buffer.records += records
        buffer.oldest_arrival_ms = min(buffer.oldest_arrival_ms, arrival_ms)

    def _name(self, delivery_ms: int, extension: str) -> str:
        return prefixes.object_name(
            delivery_stream_name=self._spec.delivery_stream_name,
            version=STREAM_VERSION,
            delivery_time=moment(delivery_ms),
            object_uuid=str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
            extension=extension,
            time_zone=self._spec.custom_time_zone,
        )

    def _write_data(self, where: str, buffer: Buffer, delivery_ms: int) -> None:
        table: pa.Table = pa.concat_tables(buffer.items)
        body = conversion.to_parquet(table, compression=self._spec.parquet_compression)
        key = prefixes.object_key(where, self._name(delivery_ms, self._spec.file_extension))
        self._put(key, body, DATA, table.num_rows, buffer, where, delivery_ms)

    def _write_errors(self, kind: str, buffer: Buffer, delivery_ms: int) -> None:
        where = prefixes.evaluate(
            self._spec.error_output_prefix,
            arrival=moment(buffer.oldest_arrival_ms),
            error_output_type=kind,
            time_zone=self._spec.custom_time_zone,
        )
        body = error_records.to_lines(buffer.items)
        key = prefixes.object_key(where, self._name(delivery_ms, ""))
        self._put(key, body, kind, buffer.records, buffer, where, delivery_ms)

    def _write_backup(self, buffer: Buffer, delivery_ms: int) -> None:
        where = prefixes.evaluate(
            self._spec.backup_prefix,
            arrival=moment(buffer.oldest_arrival_ms),
            dynamic_partitioning=False,
            time_zone=self._spec.custom_time_zone,
        )
        body = backup.encode(buffer.items, self._spec.backup_compression)
        key = prefixes.object_key(
            where, self._name(delivery_ms, backup.EXTENSIONS[self._spec.backup_compression])
        )
        self._put(key, body, BACKUP, buffer.records, buffer, where, delivery_ms)

    def _put(
        self, key: str, body: bytes, kind: str, records: int, buffer: Buffer, where: str, delivery_ms: int
    ) -> None:
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=body)
        self._written.append(
            WrittenObject(
                key, kind, len(body), records, buffer.size, where, delivery_ms, buffer.oldest_arrival_ms
            )
        )
