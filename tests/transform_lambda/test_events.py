"""The transform's parsing and enrichment rules, one table row per rule."""

from __future__ import annotations

import base64
import json

import pytest
from firehose_records import DROP, raw_event

from glue import schema
from glue.errors import Reject
from transform_lambda.events import Lineage, RecordError, decode, enrich, parse_event, partition_keys

UUID = "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("not base64!", Reject.BAD_BASE64),
        ("abc", Reject.BAD_BASE64),
        (None, Reject.BAD_BASE64),
        (b64(b"\xff\xfe{}"), Reject.INVALID_UTF8),
        (b64(b'{"a": "\xed\xa0\x80"}'), Reject.INVALID_UTF8),
        (b64(b""), Reject.NOT_JSON),
        (b64(b"{not json"), Reject.NOT_JSON),
        (b64(b'{"a": NaN}'), Reject.NOT_JSON),
        (b64(b"[1, 2]"), Reject.NOT_OBJECT),
        (b64(b'"text"'), Reject.NOT_OBJECT),
        (b64(b"null"), Reject.NOT_OBJECT),
    ],
)
def test_decode_rejects_each_layer_with_its_own_reason(data: object, reason: Reject) -> None:
    with pytest.raises(RecordError) as info:
        decode(data)
    assert info.value.reason is reason


@pytest.mark.parametrize(
    ("fields", "reason", "needle"),
    [
        ({"event_uuid": DROP}, Reject.MISSING_FIELD, "event_uuid"),
        ({"event_name": DROP}, Reject.MISSING_FIELD, "event_name"),
        ({"created_at": DROP}, Reject.MISSING_FIELD, "created_at"),
        ({"created_at": None}, Reject.MISSING_FIELD, "created_at"),
        ({"event_uuid": 42}, Reject.WRONG_TYPE, "event_uuid must be a string"),
        ({"event_uuid": "not-a-uuid"}, Reject.BAD_EVENT_UUID, "canonical UUID"),
        ({"event_uuid": UUID.replace("-", "")}, Reject.BAD_EVENT_UUID, "canonical UUID"),
        ({"event_name": ["a"]}, Reject.WRONG_TYPE, "event_name must be a string"),
        ({"event_name": ""}, Reject.BAD_EVENT_NAME, "empty part"),
        ({"event_name": "account::x"}, Reject.BAD_EVENT_NAME, "empty part"),
        ({"event_name": "account:"}, Reject.BAD_EVENT_NAME, "empty part"),
        ({"event_name": "a" * 257}, Reject.BAD_EVENT_NAME, "longer than 256"),
        ({"event_name": "pay/ment:done"}, Reject.UNSAFE_EVENT_TYPE, "S3 path segment"),
        ({"event_name": "a=b:done"}, Reject.UNSAFE_EVENT_TYPE, "S3 path segment"),
        ({"event_name": "tab\there:x"}, Reject.UNSAFE_EVENT_TYPE, "S3 path segment"),
        ({"event_name": "new\nline"}, Reject.UNSAFE_EVENT_TYPE, "S3 path segment"),
        ({"event_name": "..:x"}, Reject.UNSAFE_EVENT_TYPE, "S3 path segment"),
        ({"event_name": "x" * 65}, Reject.UNSAFE_EVENT_TYPE, "S3 path segment"),
        ({"event_name": "über:x"}, Reject.UNSAFE_EVENT_TYPE, "S3 path segment"),
        ({"created_at": "1764072000"}, Reject.WRONG_TYPE, "created_at must be a number"),
        ({"created_at": True}, Reject.WRONG_TYPE, "created_at must be a number"),
        ({"created_at": 1_764_072_000_000}, Reject.TIMESTAMP_OUT_OF_RANGE, "Unix seconds"),
        ({"created_at": -1}, Reject.TIMESTAMP_OUT_OF_RANGE, "Unix seconds"),
        ({"created_at": 946_684_799}, Reject.TIMESTAMP_OUT_OF_RANGE, "Unix seconds"),
        ({"created_at": 4_102_444_800}, Reject.TIMESTAMP_OUT_OF_RANGE, "Unix seconds"),
        ({"created_at": 1e400}, Reject.TIMESTAMP_OUT_OF_RANGE, "Unix seconds"),
    ],
)
def test_parse_event_rejects_with_a_specific_reason(fields: dict, reason: Reject, needle: str) -> None:
    with pytest.raises(RecordError) as info:
        parse_event(json.loads(raw_event(**fields)))
    assert info.value.reason is reason
    assert needle in str(info.value)


@pytest.mark.parametrize(
    ("name", "event_type", "subtype"),
    [
        ("account:created", "account", "created"),
        ("payment:order:completed", "payment", "order"),
        ("heartbeat", "heartbeat", None),
        ("Mixed_Case-1.x:Sub", "Mixed_Case-1.x", "Sub"),
    ],
)
def test_event_type_and_subtype_are_the_first_two_parts(
    name: str, event_type: str, subtype: str | None
) -> None:
    event = parse_event(json.loads(raw_event(event_name=name)))
    assert (event.event_type, event.event_subtype, event.event_name) == (event_type, subtype, name)


def test_enrich_keeps_every_field_and_adds_the_documented_ones() -> None:
    body = {"amount": 12.5, "items": [{"sku": "ä", "qty": 2}], "event_type": "spoofed", "note": None}
    event = parse_event(json.loads(raw_event(**body, created_at=1_764_072_000.25)))
    row = enrich(event, Lineage("shardId-000000000001", "4955", 1_764_072_001_500), is_duplicate=False)

    assert list(row) == list(schema.COLUMN_NAMES)
    assert row["created_at"] == 1_764_072_000
    assert row["created_datetime"] == "2025-11-25T12:00:00.250Z"
    assert row["source_arrival_datetime"] == "2025-11-25T12:00:01.500Z"
    assert row["source_shard_id"] == "shardId-000000000001"
    assert row["source_sequence_number"] == "4955"
    assert row["event_subtype"] == "order"
    assert row["is_duplicate"] is False
    # Type-specific fields, including ones named like our columns, survive untouched in payload.
    assert json.loads(row["payload"]) == body
    assert "ä" in row["payload"]  # UTF-8 kept as is: enrichment must not multiply the size


def test_created_datetime_is_utc_with_z_so_openx_parses_it() -> None:
    event = parse_event(json.loads(raw_event(created_at=0x6925_0000)))
    row = enrich(event, Lineage(None, None, None), is_duplicate=True)
    assert row["created_datetime"].endswith("Z")
    assert "+00:00" not in row["created_datetime"]
    assert row["source_arrival_datetime"] is None


def test_partition_keys_use_event_time_not_arrival_time() -> None:
    event = parse_event(json.loads(raw_event(event_name="account:created", created_at=1_700_000_000)))
    assert partition_keys(event) == {"event_type": "account", "event_date": "2023-11-14", "event_hour": "22"}
    assert tuple(partition_keys(event)) == schema.PARTITION_KEY_NAMES


@pytest.mark.parametrize("value", [10**400, -(10**400), 1e308, 1_764_072_000_123])
def test_huge_or_millisecond_timestamps_are_out_of_range_and_not_logged(value: int | float) -> None:
    with pytest.raises(RecordError) as info:
        parse_event(json.loads(raw_event(created_at=value)))
    assert info.value.reason is Reject.TIMESTAMP_OUT_OF_RANGE
    assert str(value) not in str(info.value)  # the log line carries no payload values


def test_millisecond_timestamps_get_a_hint() -> None:
    with pytest.raises(RecordError, match="looks like milliseconds"):
        parse_event(json.loads(raw_event(created_at=1_764_072_000_123)))
