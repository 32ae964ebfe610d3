"""Shared test helpers: Firehose-shaped records, built with ``aws_contract.firehose_records``."""

from __future__ import annotations

import json
from typing import Any

from aws_contract import firehose_records
from aws_contract.firehose_records import TransformationEvent, TransformationRecord

DROP = object()  # pass as a field value to leave the field out


def raw_event(**fields: Any) -> bytes:
    base = {
        "event_uuid": "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b",
        "event_name": "payment:order:completed",
        "created_at": 1_764_072_000,
    }
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not DROP}).encode()


def firehose_record(
    data: bytes | str, index: int = 0, shard: str = "shardId-000000000000"
) -> TransformationRecord:
    """``data`` as bytes is encoded; a str is sent as is (so a test can send bad base64)."""
    return firehose_records.request_record(
        record_id=f"4954698668313554428650745793632162567570019247115678{index:06d}",
        data=data if isinstance(data, str) else firehose_records.encode(data),
        arrival_ms=1_764_072_001_000 + index,
        shard_id=shard,
        partition_key=f"pk-{index}",
        sequence_number=f"4954698668313554428650745793632162567570019247{index:010d}",
        subsequence_number=0,
    )


def firehose_event(payloads: list[bytes | str]) -> TransformationEvent:
    return firehose_records.transformation_event(
        invocation_id="inv-1",
        delivery_stream_arn="arn:aws:firehose:eu-west-1:123456789012:deliverystream/eventlake-dev-delivery",
        source_stream_arn="arn:aws:kinesis:eu-west-1:123456789012:stream/eventlake-dev-events",
        region="eu-west-1",
        records=[firehose_record(p, i) for i, p in enumerate(payloads)],
    )
