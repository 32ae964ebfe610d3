"""A model of the delivery stream: Kinesis source -> Lambda processor -> partitions -> Parquet on S3.

moto stores a delivery stream's configuration but never reads Kinesis, invokes the Lambda, evaluates
prefixes or writes Parquet; this model does all four against the embedded AWS, driven by the same
``DeliverySpec`` the Pulumi program deploys.

Time is simulated. The clock is the arrival time of the records as they are taken off the shards (in
arrival order), so buffer intervals of minutes cost nothing: a processor batch or an S3 buffer whose
interval ran out is delivered at ``opened + interval``, and whatever is still open at the end of the
run is delivered then too, exactly as its interval would have done.

Invocations run one at a time by default. Two faults model what AWS allows beyond that: ``concurrency``
runs up to that many closed batches at once on threads (AWS runs up to five invocations per shard, so
claims race for real against the embedded DynamoDB), delivered when the last of them ends; and
``redeliver`` processes a share of already-delivered batches again (Firehose delivers at least once), so
the same source records reach S3 twice.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from aws_contract import limits
from eventlake.firehose_formats.source_records import SourceRecord
from eventlake.simulator.embedded.aws import EmbeddedAws
from eventlake.simulator.firehose import metadata_extraction
from eventlake.simulator.firehose.kinesis_source import KinesisReader
from eventlake.simulator.firehose.s3_destination import BeforeConversion, S3Destination, WrittenObject
from eventlake.simulator.firehose.transformation import Batcher, Invocation, Invoke, LambdaProcessor
from infra import processors
from infra.delivery_spec import DeliverySpec
from transform_lambda.claims import ClaimStore
from transform_lambda.handler import DEFAULT_DEDUPE, LOCAL_FUNCTION_NAME, DedupeConfig, Log, process

Progress = Callable[[int], None]
# With a Kinesis source, Firehose keeps up to five Lambda invocations per shard outstanding at once.
MAX_CONCURRENT_INVOCATIONS_PER_SHARD = 5
# Each processor's local model (``infra.processors``): the partitioner Firehose runs itself, if any, and its
# S3 side. processor jq: no Lambda; Firehose's own JQ partitions the records, delivered as sent.
LOCAL_MODELS: dict[
    str, tuple[Callable[[], metadata_extraction.QueryPartitioner | None], type[S3Destination]]
] = {
    processors.LAMBDA.name: (lambda: None, S3Destination),
    processors.JQ.name: (metadata_extraction.QueryPartitioner, metadata_extraction.RecordsAsSentDestination),
}


def lambda_invoke(
    claims: ClaimStore,
    log: Log,
    function_name: str = LOCAL_FUNCTION_NAME,
    dedupe: DedupeConfig = DEFAULT_DEDUPE,
) -> Invoke:
    """The deployed function's code path: ``handler.process`` with the given claim store and the stack's
    dedupe configuration, logging (and so publishing its metrics) under the deployed function's name."""
    return lambda event: process(event, claims=claims, log=log, dedupe=dedupe, function_name=function_name)


@dataclass(frozen=True)
class Stats:
    """What the delivery stream did in one run, summed over its invocations."""

    records_read: int = 0
    invocations: int = 0
    attempts: int = 0
    failed_attempts: int = 0
    ok: int = 0
    dropped: int = 0
    processing_failed: int = 0
    attempt_errors: tuple[str, ...] = ()

    @classmethod
    def of(cls, records_read: int, invocations: list[Invocation]) -> Stats:
        return cls(
            records_read=records_read,
            invocations=len(invocations),
            attempts=sum(i.attempts for i in invocations),
            failed_attempts=sum(len(i.errors) for i in invocations),
            ok=sum(len(i.ok) for i in invocations),
            dropped=sum(len(i.dropped) for i in invocations),
            processing_failed=sum(len(i.failed) for i in invocations),
            attempt_errors=tuple(e for i in invocations for e in i.errors),
        )

    @classmethod
    def total(cls, records_read: int, parts: list[Stats]) -> Stats:
        """``parts`` (each one invocation's ``Stats.of``) summed: the run keeps counts, not its records."""
        return cls(
            records_read=records_read,
            invocations=sum(p.invocations for p in parts),
            attempts=sum(p.attempts for p in parts),
            failed_attempts=sum(p.failed_attempts for p in parts),
            ok=sum(p.ok for p in parts),
            dropped=sum(p.dropped for p in parts),
            processing_failed=sum(p.processing_failed for p in parts),
            attempt_errors=tuple(e for p in parts for e in p.attempt_errors),
        )


@dataclass(frozen=True)
class FirehoseRun:
    """Everything a caller learns from one run: the counts, the objects written (in order), the shards read
    and the most partitions that were open at once."""

    stats: Stats
    written: tuple[WrittenObject, ...]
    shard_count: int
    peak_active_partitions: int
    # User records processed twice: (shard, sequence number, subsequence number).
    redelivered: frozenset[tuple[str, str, int]] = frozenset()


class FirehoseModel:
    """Construct it when the delivery stream is created: its reader registers at ``LATEST`` then."""

    def __init__(
        self,
        aws: EmbeddedAws,
        spec: DeliverySpec,
        *,
        invoke: Invoke,
        rng: random.Random,
        before_conversion: BeforeConversion | None = None,
        max_batch_records: int | None = None,
        max_active_partitions: int = limits.ACTIVE_PARTITIONS_DEFAULT,
        concurrency: int = 1,
        redeliver: float = 0.0,
    ) -> None:
        if not 1 <= concurrency <= MAX_CONCURRENT_INVOCATIONS_PER_SHARD:
            raise ValueError(
                f"concurrency must be 1-{MAX_CONCURRENT_INVOCATIONS_PER_SHARD}, got {concurrency}"
            )
        self._concurrency = concurrency
        self._redeliver = redeliver
        self._rng = rng
        self._reader = KinesisReader(aws.kinesis, aws.stream_name)
        self._processor = LambdaProcessor(
            invoke,
            retries=spec.processor_retries,
            delivery_stream_arn=aws.delivery_stream_arn,
            source_stream_arn=aws.stream_arn,
            region=aws.region,
            new_id=lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        )
        self._batcher = Batcher(
            buffer_mb=spec.processor_buffer_mb,
            interval_s=spec.processor_buffer_interval_seconds,
            max_records=max_batch_records,
        )
        partitioner, destination = LOCAL_MODELS[spec.processing.name]
        self._by_query = partitioner()
        self._destination = destination(
            aws.s3,
            aws.bucket,
            spec,
            lambda_arn=aws.lambda_arn,
            catalog=aws.catalog_table(),
            rng=rng,
            max_active_partitions=max_active_partitions,
            before_conversion=before_conversion,
        )

    def run(self, progress: Progress | None = None) -> FirehoseRun:
        """Read the stream until caught up and deliver everything read, in arrival order across the shards
        (read lazily: a page per shard in memory, not the stream)."""
        records = self._reader.merged(_arrival_order)
        if self._by_query is not None:
            assert isinstance(self._destination, metadata_extraction.RecordsAsSentDestination)
            done = metadata_extraction.deliver_by_query(
                list(records), self._destination, self._by_query, progress
            )
            return FirehoseRun(
                stats=Stats(records_read=done.records_read, ok=done.delivered, processing_failed=done.failed),
                written=done.written,
                shard_count=len(self._reader.shard_ids),
                peak_active_partitions=done.peak_active_partitions,
            )
        destination = self._destination
        written: list[WrittenObject] = []
        invocations: list[Stats] = []
        redelivered: set[tuple[str, str, int]] = set()
        wave: list[tuple[list[SourceRecord], int]] = []
        peak = 0
        read = 0
        for record in records:
            read += 1
            now = record.arrival_ms
            written += destination.back_up(record, now)
            wave += self._batcher.add(record, now)
            if len(wave) >= self._concurrency:
                written += self._invoke(wave, now, invocations, redelivered)
                peak = max(peak, destination.active_partitions)
                wave = []
            if not wave:  # a pending wave is delivered at its own time, not overtaken by later ticks
                written += destination.tick(now)
            if progress:
                progress(1)
        wave += self._batcher.flush()
        while wave:
            now = max(closed for _, closed in wave[: self._concurrency])
            written += self._invoke(wave[: self._concurrency], now, invocations, redelivered)
            peak = max(peak, destination.active_partitions)
            wave = wave[self._concurrency :]
        written += destination.flush()
        return FirehoseRun(
            stats=Stats.total(read, invocations),
            written=tuple(written),
            shard_count=len(self._reader.shard_ids),
            peak_active_partitions=peak,
            redelivered=frozenset(redelivered),
        )

    def _invoke(
        self,
        wave: list[tuple[list[SourceRecord], int]],
        now_ms: int,
        invocations: list[Stats],
        redelivered: set[tuple[str, str, int]],
    ) -> list[WrittenObject]:
        """Invoke the wave's batches (at once if there are several), then deliver their results in order at
        ``now_ms``, when the last of them has ended; redeliver a share of them."""
        done_ms = max([now_ms, *(closed for _, closed in wave)])
        written = self._destination.tick(min(closed for _, closed in wave))  # intervals that ran out first
        if len(wave) == 1:
            results = [self._processor.process(wave[0][0], wave[0][1])]
        else:
            with ThreadPoolExecutor(max_workers=len(wave)) as pool:
                results = list(pool.map(lambda item: self._processor.process(*item), wave))
        for (batch, closed_ms), result in zip(wave, results, strict=True):
            invocations.append(Stats.of(0, [result]))
            at = done_ms if len(wave) > 1 else closed_ms
            written += self._destination.tick(at)
            written += self._destination.processing_failed(result.failed, at)
            written += self._destination.deliver(result.ok, at)
            if self._redeliver and self._rng.random() < self._redeliver:
                again = self._processor.process(batch, at)  # the same records, processed and delivered again
                invocations.append(Stats.of(0, [again]))
                written += self._destination.processing_failed(again.failed, at)
                written += self._destination.deliver(again.ok, at)
                redelivered.update(r.lineage for r in batch)
        return written


def _arrival_order(record: SourceRecord) -> tuple[Any, ...]:
    seq = record.sequence_number
    return (record.arrival_ms, record.shard_id, len(seq), seq)
