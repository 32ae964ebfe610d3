"""Shared test helpers: building Firehose-shaped records the way AWS sends them."""

from __future__ import annotations

import base64
import json
from typing import Any

DROP = object()  # pass as a field value to leave the field out


def raw_event(**fields: Any) -> bytes:
    base = {
        "event_uuid": "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b",
        "event_name": "payment:order:completed",
        "created_at": 1_764_072_000,
    }
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not DROP}).encode()


def firehose_record(data: bytes | str, index: int = 0, shard: str = "shardId-000000000000") -> dict[str, Any]:
    encoded = data if isinstance(data, str) else base64.b64encode(data).decode("ascii")
    return {
        "recordId": f"4954698668313554428650745793632162567570019247115678{index:06d}",
        "approximateArrivalTimestamp": 1_764_072_001_000 + index,
        "data": encoded,
        "kinesisRecordMetadata": {
            "shardId": shard,
            "partitionKey": f"pk-{index}",
            "approximateArrivalTimestamp": 1_764_072_001_000 + index,
            "sequenceNumber": f"4954698668313554428650745793632162567570019247{index:010d}",
            "subsequenceNumber": 0,
        },
    }


def firehose_event(payloads: list[bytes | str]) -> dict[str, Any]:
    return {
        "invocationId": "inv-1",
        "deliveryStreamArn": "arn:aws:firehose:eu-west-1:123456789012:deliverystream/eventlake-dev-delivery",
        "sourceKinesisStreamArn": "arn:aws:kinesis:eu-west-1:123456789012:stream/eventlake-dev-events",
        "region": "eu-west-1",
        "records": [firehose_record(p, i) for i, p in enumerate(payloads)],
    }
