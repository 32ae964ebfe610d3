"""Firehose's side of the Lambda data-transformation contract: batching, invoking, checking.

What is enforced, from the Firehose guide's "Transform source data"
(https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html) and "Handle data transformation
failure" (https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-failure-handling.html) pages,
and from captures on real AWS where the guide is silent: request and response are each at most 6,000,000
bytes; every ``recordId`` must come back exactly once
(a missing id fails that record with ``Lambda.MissingRecordId``, a repeated one with
``Lambda.DuplicatedRecordId``, the rest of the batch goes on); a response without a ``records`` array
fails every record as missing and an unparseable one every record with
``Lambda.JsonProcessingException``, neither retried; an invocation that raises (or whose response is
too large: Lambda itself fails it) is retried ``NumberOfRetries`` times, then every record of the batch
fails with ``Lambda.FunctionError``. Results are ``Ok`` (needs ``data``), ``Dropped`` or
``ProcessingFailed`` (``Lambda.ProcessingFailedStatus``).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from aws_contract import firehose_records, limits
from aws_contract.firehose_records import TransformationEvent, TransformationRecord
from eventlake.firehose_formats.source_records import SourceRecord
from glue.errors import ErrorCode, Result

Invoke = Callable[[TransformationEvent], Any]
# Simulated duration of one invocation attempt, and Firehose's pause before retrying a failed one.
ATTEMPT_MS = 200
RETRY_BACKOFF_MS = 1000

MESSAGES = {
    ErrorCode.FUNCTION_ERROR: "The Lambda function was successfully invoked but it returned an error result.",
    ErrorCode.PROCESSING_FAILED_STATUS: "The Lambda function returned the ProcessingFailed status.",
    ErrorCode.MISSING_RECORD_ID: (
        "One or more record Ids were not returned. Ensure that the Lambda function returns all received "
        "record Ids."
    ),
    ErrorCode.DUPLICATED_RECORD_ID: "The Lambda function returned a record Id more than once.",
    ErrorCode.JSON_PROCESSING: "The Lambda function response could not be parsed.",
}


class ModelError(RuntimeError):
    """The model itself broke a limit AWS enforces on Firehose (a bug here, not in the Lambda)."""


@dataclass(frozen=True)
class Transformed:
    """An ``Ok`` record: the Lambda's bytes and partition keys (None when it sent no metadata)."""

    source: SourceRecord
    data: bytes
    partition_keys: dict[str, str] | None
    attempts: int


@dataclass(frozen=True)
class Failed:
    """A record bound for ``processing-failed``, carrying the original source bytes."""

    source: SourceRecord
    error_code: ErrorCode
    error_message: str
    attempts: int
    attempt_ending_ms: int


@dataclass(frozen=True)
class Invocation:
    """What became of one batch."""

    ok: list[Transformed] = field(default_factory=list)
    dropped: list[SourceRecord] = field(default_factory=list)
    failed: list[Failed] = field(default_factory=list)
    attempts: int = 0
    errors: list[str] = field(default_factory=list)  # one per failed attempt


def record_id(record: SourceRecord) -> str:
    """Digits like AWS's Kinesis-source ids (sequence number + subsequence); unique within a shard."""
    seq = record.sequence_number.zfill(56) if record.sequence_number.isdigit() else record.sequence_number
    return f"{seq}{record.subsequence_number:06d}"


def request_record(record: SourceRecord) -> TransformationRecord:
    return firehose_records.request_record(
        record_id=record_id(record),
        data=firehose_records.encode(record.data),
        arrival_ms=record.arrival_ms,
        shard_id=record.shard_id,
        partition_key=record.partition_key,
        sequence_number=record.sequence_number,
        subsequence_number=record.subsequence_number,
    )


def request_weight(record: SourceRecord) -> int:
    return firehose_records.request_weight(request_record(record))


# Request records the batcher built to weigh, by record, until the batch's invocation takes them (each record
# is base64-encoded once, not twice): only the open batches' records are here.
_BUILT: dict[int, tuple[SourceRecord, TransformationRecord]] = {}


def _request_record_once(record: SourceRecord) -> TransformationRecord:
    built = _BUILT.pop(id(record), None)
    return built[1] if built is not None and built[0] is record else request_record(record)


class LambdaProcessor:
    """Invokes the transform on one batch and holds it to the contract."""

    def __init__(
        self,
        invoke: Invoke,
        *,
        retries: int,
        delivery_stream_arn: str,
        source_stream_arn: str,
        region: str,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._invoke = invoke
        self._retries = retries
        self._delivery_arn = delivery_stream_arn
        self._source_arn = source_stream_arn
        self._region = region
        self._new_id = new_id

    def event(self, batch: list[SourceRecord]) -> TransformationEvent:
        return firehose_records.transformation_event(
            invocation_id=self._new_id(),
            delivery_stream_arn=self._delivery_arn,
            source_stream_arn=self._source_arn,
            region=self._region,
            records=[_request_record_once(r) for r in batch],
        )

    def process(self, batch: list[SourceRecord], now_ms: int) -> Invocation:
        event = self.event(batch)
        size = len(orjson.dumps(event))  # compact JSON, as Firehose sends it
        if size > (most := limits.LAMBDA_PAYLOAD_LIMIT_BYTES):
            raise ModelError(f"invocation request of {size} bytes exceeds {most}")
        errors: list[str] = []
        payload: bytes | None = None
        for _ in range(self._retries + 1):
            try:
                payload = _response_payload(self._invoke(event))
                break
            except Exception as exc:  # the function raised, timed out, or its response was refused
                errors.append(f"{type(exc).__name__}: {exc}")
        attempts = len(errors) + (payload is not None)
        ending_ms = now_ms + attempts * ATTEMPT_MS + (attempts - 1) * RETRY_BACKOFF_MS
        if payload is None:
            failed = [_failed(r, ErrorCode.FUNCTION_ERROR, attempts, ending_ms) for r in batch]
            return Invocation(failed=failed, attempts=attempts, errors=errors)
        outcomes = _check(batch, payload, attempts, ending_ms)
        return Invocation(
            ok=[o for o in outcomes if isinstance(o, Transformed)],
            dropped=[o for o in outcomes if isinstance(o, SourceRecord)],
            failed=[o for o in outcomes if isinstance(o, Failed)],
            attempts=attempts,
            errors=errors,
        )


Outcome = Transformed | SourceRecord | Failed  # a SourceRecord alone: Dropped


def _check(batch: list[SourceRecord], payload: bytes, attempts: int, ending_ms: int) -> list[Outcome]:
    """Each record's outcome from the response, in batch order."""
    try:
        response = json.loads(payload)
    except ValueError:
        return [_failed(r, ErrorCode.JSON_PROCESSING, attempts, ending_ms) for r in batch]
    returned = response.get("records") if isinstance(response, dict) else None
    if not isinstance(returned, list):
        return [_failed(r, ErrorCode.MISSING_RECORD_ID, attempts, ending_ms) for r in batch]
    entries = [e for e in returned if isinstance(e, dict) and isinstance(e.get("recordId"), str)]
    counts = Counter(e.get("recordId") for e in entries)
    by_id = {e.get("recordId"): e for e in entries}
    outcomes: list[Outcome] = []
    for record in batch:
        rid = record_id(record)
        if counts[rid] == 0:
            outcomes.append(_failed(record, ErrorCode.MISSING_RECORD_ID, attempts, ending_ms))
        elif counts[rid] > 1:
            outcomes.append(_failed(record, ErrorCode.DUPLICATED_RECORD_ID, attempts, ending_ms))
        else:
            outcomes.append(_one(record, by_id[rid], attempts, ending_ms))
    return outcomes


def _one(record: SourceRecord, entry: dict[str, Any], attempts: int, ending_ms: int) -> Outcome:
    status = entry.get("result")
    if status == Result.DROPPED:
        return record
    if status == Result.PROCESSING_FAILED:
        return _failed(record, ErrorCode.PROCESSING_FAILED_STATUS, attempts, ending_ms)
    if status == Result.OK and (data := _b64(entry.get("data"))) is not None:
        metadata = entry.get("metadata")
        keys = metadata.get("partitionKeys") if isinstance(metadata, dict) else None
        partition_keys = (
            {str(k): str(v) for k, v in keys.items() if v is not None} if isinstance(keys, dict) else None
        )
        return Transformed(record, data, partition_keys, attempts)
    # An unknown result, or Ok without decodable data: Firehose cannot read the entry.
    return Failed(
        record,
        ErrorCode.JSON_PROCESSING,
        f"Invalid record in the Lambda response (result={status!r}; Ok needs base64 data).",
        attempts,
        ending_ms,
    )


def _response_payload(returned: Any) -> bytes:
    """What Lambda hands back: the function's return value serialized, refused above 6,000,000 bytes."""
    if isinstance(returned, bytes | bytearray):
        payload = bytes(returned)
    elif isinstance(returned, str):
        payload = returned.encode("utf-8")
    else:
        try:  # compact JSON: its size is what counts against the limit
            payload = orjson.dumps(returned)
        except TypeError:  # beyond orjson (integers over 64 bits, non-string keys): Python's json
            payload = json.dumps(returned, ensure_ascii=False).encode("utf-8")
    if len(payload) > limits.LAMBDA_PAYLOAD_LIMIT_BYTES:
        raise ResponseTooLarge(
            f"response of {len(payload)} bytes exceeds {limits.LAMBDA_PAYLOAD_LIMIT_BYTES}"
        )
    return payload


class ResponseTooLarge(RuntimeError):
    """Lambda refuses a response over its payload limit; the invocation fails."""


def _b64(value: Any) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _failed(record: SourceRecord, code: ErrorCode, attempts: int, ending_ms: int) -> Failed:
    return Failed(record, code, MESSAGES[code], attempts, ending_ms)


class Batcher:
    """Per-shard processor buffers: a batch closes at ``BufferSizeInMBs`` of raw data, at the request
    size limit, at ``max_records`` (a local knob, None on AWS) or after ``BufferIntervalInSeconds``."""

    def __init__(self, *, buffer_mb: float, interval_s: int, max_records: int | None = None) -> None:
        self._max_bytes = int(buffer_mb * limits.MIB)
        self._interval_ms = interval_s * 1000
        self._max_records = max_records
        self._open: dict[str, _Batch] = {}

    def add(self, record: SourceRecord, now_ms: int) -> list[tuple[list[SourceRecord], int]]:
        """Add one record; return the batches that closed, each with the time it closed."""
        closed = self.due(now_ms)
        batch = self._open.get(record.shard_id)
        built = request_record(record)
        weight = firehose_records.request_weight(built)
        if batch and (
            batch.raw + len(record.data) > self._max_bytes
            or batch.request + weight > limits.LAMBDA_PAYLOAD_LIMIT_BYTES - 1024
            or (self._max_records is not None and len(batch.records) >= self._max_records)
        ):
            closed.append((self._open.pop(record.shard_id).records, now_ms))
            batch = None
        if batch is None:
            batch = self._open[record.shard_id] = _Batch(opened_ms=now_ms)
        batch.records.append(record)
        _BUILT[id(record)] = (record, built)
        batch.raw += len(record.data)
        batch.request += weight
        return closed

    def due(self, now_ms: int) -> list[tuple[list[SourceRecord], int]]:
        """Batches whose buffer interval has passed, closed at the moment it passed."""
        closed = []
        for shard, batch in list(self._open.items()):
            if now_ms - batch.opened_ms >= self._interval_ms:
                closed.append((self._open.pop(shard).records, batch.opened_ms + self._interval_ms))
        return closed

    def flush(self) -> list[tuple[list[SourceRecord], int]]:
        """Everything still open, closed when its interval would have run out."""
        closed = [(b.records, b.opened_ms + self._interval_ms) for b in self._open.values()]
        self._open.clear()
        return closed


@dataclass
class _Batch:
    opened_ms: int
    records: list[SourceRecord] = field(default_factory=list)
    raw: int = 0
    request: int = 0
