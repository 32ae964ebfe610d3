"""How big a batch the Firehose processor may hand the Lambda.

Lambda caps a synchronous response at 6 MB, and enrichment makes the response larger than the raw
data: base64 (4/3), the added columns, the partition keys and the record id weigh most on the
smallest events, and JSON-in-JSON escaping of the payload (at most 2x, then base64) on large ones.
The processor buffer must leave room for the worst of both, so it is computed here, not configured.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from aws_contract import firehose_records, limits
from aws_contract.firehose_records import TransformationRecord
from transform_lambda.claims import NoClaims
from transform_lambda.handler import process

SAFETY_MARGIN = 0.9  # headroom for envelope bytes and ids longer than the ones measured

# Longest record metadata Firehose may attach.
WORST_RECORD_ID = "9" * limits.SEQUENCE_NUMBER_MAX_DIGITS
WORST_SHARD_ID = "shardId-" + "9" * 12
WORST_SEQUENCE = "9" * limits.SEQUENCE_NUMBER_MAX_DIGITS

_UUID = b'"event_uuid":"00000000-0000-0000-0000-000000000001"'  # the nil UUID is rejected
# The smallest events the transform accepts, byte for byte: every required field at its shortest
# (``1e9`` is the shortest in-range created_at; it re-serialises as 1000000000).
SMALLEST_EVENTS: tuple[bytes, ...] = (
    b"{" + _UUID + b',"event_name":"a","created_at":1e9}',
    b"{" + _UUID + b',"event_name":"a:b","created_at":1e9}',
    b"{" + _UUID + b',"event_name":"a","created_at":1e9,"k":0}',
    b"{" + _UUID + b',"event_name":"a","created_at":1000000000.001}',
)
# Payload fragments that grow the most when the payload is re-serialised into its JSON string
# column: a quote (escaped again), a short float that Python prints in full, a control character.
PAYLOAD_UNITS: tuple[bytes, ...] = (b'"\\""', b"1e15", b'"\\u0000"', b'"\\\\"', b"-1e-7")


@dataclass(frozen=True)
class Expansion:
    raw_bytes: int
    request_bytes: int
    response_bytes: int

    @property
    def ratio(self) -> float:
        return max(self.request_bytes, self.response_bytes) / self.raw_bytes


def firehose_record(raw: bytes, index: int = 0) -> TransformationRecord:
    """A Kinesis-source Firehose record with the longest metadata AWS documents."""
    return firehose_records.request_record(
        record_id=WORST_RECORD_ID[: -len(str(index))] + str(index) if index else WORST_RECORD_ID,
        data=firehose_records.encode(raw),
        arrival_ms=4_102_444_799_999,
        shard_id=WORST_SHARD_ID,
        partition_key="k" * 256,
        sequence_number=WORST_SEQUENCE,
        subsequence_number=0,
    )


def measure(raw: bytes) -> Expansion:
    """Bytes one event adds to the Lambda request and response, measured with the real handler."""
    record = firehose_record(raw)
    response = process({"records": [record]}, claims=NoClaims(), log=lambda _: None)
    return Expansion(
        raw_bytes=len(raw),
        request_bytes=firehose_records.request_weight(record),
        response_bytes=len(json.dumps(response["records"][0])) + 2,
    )


def payload_expansion() -> float:
    """Largest growth rate of Lambda payload bytes per extra raw payload byte, over the worst
    fragments, measured as the difference between a payload of n and 2n fragments."""

    def event(unit: bytes, n: int) -> bytes:
        return SMALLEST_EVENTS[0][:-1] + b',"p":[' + b",".join([unit] * n) + b"]}"

    rates = []
    for unit in PAYLOAD_UNITS:
        small, large = measure(event(unit, 500)), measure(event(unit, 1000))
        grown = max(large.request_bytes - small.request_bytes, large.response_bytes - small.response_bytes)
        rates.append(grown / (large.raw_bytes - small.raw_bytes))
    return max(rates)


def worst_expansion_ratio() -> float:
    """Largest (Lambda payload bytes) / (raw bytes) over any accepted event.

    An event of raw size ``L_min + p`` costs at most ``F + payload_expansion() * p``, so its ratio
    lies between the smallest event's (``F / L_min``) and the payload rate: the maximum is one of them.
    """
    return max(max(measure(e).ratio for e in SMALLEST_EVENTS), payload_expansion())


def processor_buffer_mb() -> float:
    """The largest processor buffer (in steps of 0.05 MB) whose worst response fits in 6 MB."""
    low, high = limits.PROCESSOR_BUFFER_MB_RANGE
    fitting = limits.LAMBDA_PAYLOAD_LIMIT_BYTES * SAFETY_MARGIN / worst_expansion_ratio() / limits.MIB
    stepped = math.floor(fitting * 20) / 20
    if stepped < low:
        raise ValueError(f"enrichment too large: even {low} MB would overflow")
    return min(stepped, high)
