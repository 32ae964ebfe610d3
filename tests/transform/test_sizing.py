"""The processor buffer is computed so the Lambda's response always fits in 6 MB."""

from __future__ import annotations

import json

from infra import sizing
from transform_lambda.claims import NoClaims
from transform_lambda.handler import process


def full_batch(event: dict, buffer_bytes: int) -> dict:
    raw = json.dumps(event, separators=(",", ":")).encode()
    count = buffer_bytes // len(raw)
    return {"records": [sizing.firehose_record(raw, i) for i in range(count)]}


def payload_bytes(batch: dict) -> tuple[int, int]:
    response = process(batch, claims=NoClaims(), log=lambda _: None)
    return len(json.dumps(batch)), len(json.dumps(response))


def test_buffer_is_within_firehose_range_and_below_the_default() -> None:
    mb = sizing.processor_buffer_mb()
    assert sizing.PROCESSOR_BUFFER_MIN_MB <= mb < sizing.PROCESSOR_BUFFER_DEFAULT_MB
    assert round(mb * 20) == mb * 20  # 0.05 MB steps


def test_smallest_events_fill_the_buffer_without_overflowing_lambda() -> None:
    buffer_bytes = int(sizing.processor_buffer_mb() * sizing.MB)
    for event in sizing.SMALLEST_EVENTS:
        request, response = payload_bytes(full_batch(event, buffer_bytes))
        assert request < sizing.LAMBDA_PAYLOAD_LIMIT
        assert response < sizing.LAMBDA_PAYLOAD_LIMIT


def test_escape_heavy_payloads_also_fit() -> None:
    buffer_bytes = int(sizing.processor_buffer_mb() * sizing.MB)
    nasty = dict(sizing.SMALLEST_EVENTS[0], q='"\\' * 400)
    request, response = payload_bytes(full_batch(nasty, buffer_bytes))
    assert response < sizing.LAMBDA_PAYLOAD_LIMIT
    assert response / request > 1.5  # the escape bound is real, not hypothetical


def test_the_default_1_mb_buffer_would_overflow() -> None:
    """Why the buffer is computed: Firehose's default would break on small events."""
    _, response = payload_bytes(full_batch(sizing.SMALLEST_EVENTS[0], sizing.MB))
    assert response > sizing.LAMBDA_PAYLOAD_LIMIT
