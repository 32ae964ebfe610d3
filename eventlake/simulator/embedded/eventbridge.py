"""What S3 sends EventBridge for each object written, in AWS's published shape
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html), for the embedded AWS to deliver to
the partition registrar as EventBridge would. moto records bucket notification settings but sends nothing."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any


def object_created(
    *, bucket: str, key: str, size: int, when_ms: int, account: str, region: str, sequencer: int = 0
) -> dict[str, Any]:
    """An ``Object Created`` event as EventBridge delivers it to a rule's target (PutObject by Firehose)."""
    moment = datetime.fromtimestamp(when_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "0",
        "id": str(uuid.UUID(bytes=hashlib.md5(f"{bucket}/{key}".encode()).digest(), version=4)),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": account,
        "time": moment,
        "region": region,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {
                "key": key,
                "size": size,
                "etag": hashlib.md5(key.encode()).hexdigest(),
                "sequencer": f"{sequencer:018X}",
            },
            "request-id": uuid.UUID(int=sequencer, version=4).hex[:16].upper(),
            "requester": account,
            "source-ip-address": "10.0.0.1",
            "reason": "PutObject",
        },
    }
