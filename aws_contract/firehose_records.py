"""Firehose's Lambda data-transformation records, typed once.

The request Firehose sends a processor and the response it expects, as AWS documents them
(https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html, "Required parameters for data
transformation"), in the spirit of Powertools for AWS Lambda's ``KinesisFirehoseEvent`` and
``KinesisFirehoseDataTransformationResponse``. TypedDicts, not classes: the handler reads and writes
plain dicts on its hot path, and these add types without a copy. The handler, the sizing, the local model
of Firehose and the tests all build records here, so the shape sized is the shape sent and the shape the
Lambda answers with is the shape the model checks.

Real Kinesis-source events carry epoch-ms integers for both arrival timestamps, ``sequenceNumber`` as a
string and ``subsequenceNumber`` as an int (Powertools pull requests 1540 and 1556); readers stay
defensive (see ``transform_lambda.events.lineage_of``). ``sourceKinesisStreamArn`` and
``kinesisRecordMetadata`` are absent for a Direct PUT source.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any, NotRequired, TypedDict

from glue.errors import Result


class KinesisRecordMetadata(TypedDict):
    shardId: str
    partitionKey: str
    approximateArrivalTimestamp: int
    sequenceNumber: str
    subsequenceNumber: int


class TransformationRecord(TypedDict):
    """One record of the request: ``data`` is the producer's bytes, base64-encoded."""

    recordId: str
    approximateArrivalTimestamp: int
    data: str
    kinesisRecordMetadata: NotRequired[KinesisRecordMetadata]


class TransformationEvent(TypedDict):
    invocationId: str
    deliveryStreamArn: str
    region: str
    records: list[TransformationRecord]
    sourceKinesisStreamArn: NotRequired[str]


class ResultMetadata(TypedDict):
    partitionKeys: dict[str, str]


class TransformationResult(TypedDict):
    """One record of the response: every request ``recordId`` exactly once. ``Ok`` needs ``data``;
    ``metadata.partitionKeys`` feed ``!{partitionKeyFromLambda:...}``."""

    recordId: Any  # echoed back as received, whatever its type
    result: str
    data: NotRequired[Any]
    metadata: NotRequired[ResultMetadata]


class TransformationResponse(TypedDict):
    records: list[TransformationResult]


def encode(data: bytes) -> str:
    """The wire form of ``data``: base64 text."""
    return base64.b64encode(data).decode("ascii")


def request_record(
    *,
    record_id: str,
    data: str,
    arrival_ms: int,
    shard_id: str | None = None,
    partition_key: str = "",
    sequence_number: str = "",
    subsequence_number: int = 0,
) -> TransformationRecord:
    """A request record; with ``shard_id`` it carries ``kinesisRecordMetadata`` (Kinesis source), without
    it none (Direct PUT). ``data`` is already base64 (see :func:`encode`), so a test can send bad base64."""
    record: TransformationRecord = {
        "recordId": record_id,
        "approximateArrivalTimestamp": arrival_ms,
        "data": data,
    }
    if shard_id is not None:
        record["kinesisRecordMetadata"] = {
            "shardId": shard_id,
            "partitionKey": partition_key,
            "approximateArrivalTimestamp": arrival_ms,
            "sequenceNumber": sequence_number,
            "subsequenceNumber": subsequence_number,
        }
    return record


def transformation_event(
    *,
    invocation_id: str,
    delivery_stream_arn: str,
    region: str,
    records: Sequence[TransformationRecord],
    source_stream_arn: str | None = None,
) -> TransformationEvent:
    event: TransformationEvent = {
        "invocationId": invocation_id,
        "deliveryStreamArn": delivery_stream_arn,
        "region": region,
        "records": list(records),
    }
    if source_stream_arn is not None:
        event["sourceKinesisStreamArn"] = source_stream_arn
    return event


def request_weight(record: TransformationRecord) -> int:
    """Bytes one record adds to the invocation request: its JSON plus a separator."""
    return len(json.dumps(record)) + 2


# A transformed record is ``{"recordId", "result": OK, "data": base64, "metadata": {"partitionKeys": ...}}``;
# the handler builds it inline, once per record.
OK = Result.OK.value  # a plain string, not an enum lookup


def processing_failed(record_id: Any, data: Any) -> TransformationResult:
    """A record Firehose writes under the error prefix; ``data`` should be the original, untouched."""
    return {"recordId": record_id, "result": Result.PROCESSING_FAILED.value, "data": data}


def dropped(record_id: Any) -> TransformationResult:
    """A record deliberately not delivered (this project never drops; the model accepts it)."""
    return {"recordId": record_id, "result": Result.DROPPED.value}
