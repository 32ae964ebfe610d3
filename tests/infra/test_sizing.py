"""The processor buffer is computed so the Lambda's request and response always fit in 6 MB."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aws_contract import limits
from glue import schema
from infra import sizing
from transform_lambda.claims import NoClaims
from transform_lambda.handler import process

BUFFER_BYTES = int(sizing.processor_buffer_mb() * limits.MIB)
WORST = sizing.worst_expansion_ratio()


def full_batch(raw: bytes, buffer_bytes: int = BUFFER_BYTES) -> dict:
    return {"records": [sizing.firehose_record(raw, i) for i in range(buffer_bytes // len(raw))]}


def payload_bytes(batch: dict) -> tuple[int, int]:
    response = process(batch, claims=NoClaims(), log=lambda _: None)
    assert all(r["result"] == "Ok" for r in response["records"])
    return len(json.dumps(batch)), len(json.dumps(response))


def test_buffer_is_within_firehose_range_and_below_the_default() -> None:
    mb = sizing.processor_buffer_mb()
    assert limits.PROCESSOR_BUFFER_MB_RANGE[0] <= mb < limits.PROCESSOR_BUFFER_DEFAULT_MB
    assert round(mb * 20) == mb * 20  # 0.05 MB steps


def test_smallest_events_fill_the_buffer_without_overflowing_lambda() -> None:
    for raw in sizing.SMALLEST_EVENTS:
        request, response = payload_bytes(full_batch(raw))
        assert request < limits.LAMBDA_PAYLOAD_LIMIT_BYTES
        assert response < limits.LAMBDA_PAYLOAD_LIMIT_BYTES


def test_expansion_heavy_payloads_also_fit() -> None:
    for unit in sizing.PAYLOAD_UNITS:
        raw = sizing.SMALLEST_EVENTS[0][:-1] + b',"p":[' + b",".join([unit] * 2000) + b"]}"
        request, response = payload_bytes(full_batch(raw))
        assert max(request, response) < limits.LAMBDA_PAYLOAD_LIMIT_BYTES, unit


def test_the_default_1_mb_buffer_would_overflow() -> None:
    """Why the buffer is computed: Firehose's default would break on small events."""
    _, response = payload_bytes(full_batch(sizing.SMALLEST_EVENTS[0], limits.MIB))
    assert response > limits.LAMBDA_PAYLOAD_LIMIT_BYTES


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(
    uuid=st.uuids(),
    name=st.from_regex(r"[a-z]{1,3}(:[a-z]{1,3}){0,2}", fullmatch=True),
    created=st.integers(schema.MIN_CREATED_AT, schema.MAX_CREATED_AT - 1) | st.just(1e9),
    extra=st.dictionaries(st.text(min_size=1, max_size=3), json_values, max_size=3),
    ascii_only=st.booleans(),
)
def test_no_valid_event_expands_more_than_the_computed_worst(
    uuid: object, name: str, created: float, extra: dict, ascii_only: bool
) -> None:
    event = {"event_uuid": str(uuid), "event_name": name, "created_at": created, **extra}
    raw = json.dumps(event, separators=(",", ":"), ensure_ascii=ascii_only).encode()
    assert sizing.measure(raw).ratio <= WORST
