"""Pure parsing and enrichment of one Firehose record. No I/O, no clock, no AWS."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from glue import schema
from glue.errors import Reject

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
NIL_UUID = "00000000-0000-0000-0000-000000000000"
_EVENT_TYPE = re.compile(schema.EVENT_TYPE_PATTERN)
MAX_EVENT_NAME = 256


class RecordError(ValueError):
    """A record the transform cannot process; ``reason`` is from the shared vocabulary."""

    def __init__(self, reason: Reject, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Lineage:
    """Where a record came from, taken from Firehose's ``kinesisRecordMetadata``."""

    shard_id: str | None
    sequence_number: str | None
    arrival_ms: int | None
    subsequence_number: int | None = None  # non-zero for the user records of one KPL aggregate


@dataclass(frozen=True)
class Event:
    """A validated event: the common fields, the type-specific payload and its partition."""

    event_uuid: str
    event_name: str
    event_type: str
    event_subtype: str | None
    created_at: float
    payload: dict[str, Any]

    @property
    def dedupe_key(self) -> str:
        """UUIDs compare case-insensitively."""
        return self.event_uuid.lower()


def decode(data: Any) -> dict[str, Any]:
    """Base64 → UTF-8 → JSON object, each step with its own reason."""
    if not isinstance(data, str):
        raise RecordError(Reject.BAD_BASE64, "record data is not a base64 string")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise RecordError(Reject.BAD_BASE64, f"record data is not valid base64 ({exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(Reject.INVALID_UTF8, f"invalid UTF-8 at byte {exc.start}") from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise RecordError(Reject.NOT_JSON, f"not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise RecordError(Reject.NOT_OBJECT, f"JSON is a {type(value).__name__}, not an object")
    return value


def _reject_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not valid JSON", name, 0)


def parse_event(obj: dict[str, Any]) -> Event:
    """Validate the common fields and split off the type-specific payload."""
    for field in schema.INPUT_FIELDS:
        if field not in obj or obj[field] is None:
            raise RecordError(Reject.MISSING_FIELD, f"missing required field {field!r}")
    event_uuid, event_name, created_at = (obj[f] for f in schema.INPUT_FIELDS)

    if not isinstance(event_uuid, str):
        raise RecordError(Reject.WRONG_TYPE, f"event_uuid must be a string, got {_kind(event_uuid)}")
    if not _UUID.fullmatch(event_uuid):
        raise RecordError(Reject.BAD_EVENT_UUID, "event_uuid is not a canonical UUID (8-4-4-4-12 hex)")
    if event_uuid == NIL_UUID:
        raise RecordError(Reject.NIL_EVENT_UUID, "event_uuid is the nil UUID; every event needs its own id")

    if not isinstance(event_name, str):
        raise RecordError(Reject.WRONG_TYPE, f"event_name must be a string, got {_kind(event_name)}")
    if len(event_name) > MAX_EVENT_NAME:
        raise RecordError(Reject.BAD_EVENT_NAME, f"event_name longer than {MAX_EVENT_NAME} characters")
    parts = event_name.split(":")
    if any(part == "" for part in parts):
        raise RecordError(Reject.BAD_EVENT_NAME, "event_name has an empty part")
    if not _EVENT_TYPE.fullmatch(parts[0]):
        raise RecordError(
            Reject.UNSAFE_EVENT_TYPE,
            f"event type must be 1-{schema.PARTITION_VALUE_MAX_CHARS} characters of A-Z a-z 0-9 _ . -, "
            "starting with a letter, digit or _ "
            "(it becomes an S3 path segment)",
        )

    if isinstance(created_at, bool) or not isinstance(created_at, int | float):
        raise RecordError(Reject.WRONG_TYPE, f"created_at must be a number, got {_kind(created_at)}")
    # Plain comparisons: exact for ints of any size, False for inf (no isfinite, which overflows).
    if not schema.MIN_CREATED_AT <= created_at < schema.MAX_CREATED_AT:
        hint = " (it looks like milliseconds)" if 1e12 <= created_at < 1e15 else ""
        raise RecordError(
            Reject.TIMESTAMP_OUT_OF_RANGE,
            f"created_at is outside 2000-01-01..2100-01-01 in Unix seconds{hint}",
        )

    payload = {k: v for k, v in obj.items() if k not in schema.INPUT_FIELDS}
    return Event(
        event_uuid=event_uuid,
        event_name=event_name,
        event_type=parts[0],
        event_subtype=parts[1] if len(parts) > 1 else None,
        created_at=created_at,
        payload=payload,
    )


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def enrich(event: Event, lineage: Lineage, *, is_duplicate: bool | None = None) -> dict[str, Any]:
    """The stored row: exactly the Glue data columns, in their declared order. The dedupe marks are filled in
    after the claim (see ``mark``), so a row is built, and proven encodable, before its id is claimed."""
    row = {
        "event_uuid": event.event_uuid,
        "event_name": event.event_name,
        "event_subtype": event.event_subtype,
        "created_at": math.floor(event.created_at),
        "created_datetime": schema.iso_utc(event.created_at),
        "is_duplicate": is_duplicate,
        "uuid_reused": None,
        "payload": dumps(event.payload),
        "source_shard_id": lineage.shard_id,
        "source_sequence_number": lineage.sequence_number,
        "source_arrival_datetime": (
            schema.iso_utc(lineage.arrival_ms / 1000) if lineage.arrival_ms is not None else None
        ),
    }
    return {name: row[name] for name in schema.COLUMN_NAMES}


def partition_keys(event: Event) -> dict[str, str]:
    return schema.partition_values(event.event_type, event.created_at)


def dumps(value: Any) -> str:
    """Compact JSON that keeps non-ASCII as UTF-8, so enrichment never multiplies its size."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def encode_row(row: dict[str, Any]) -> str:
    """Newline-terminated JSON, base64-encoded, as Firehose expects ``data``."""
    return base64.b64encode(row_bytes(row)).decode("ascii")


def row_bytes(row: dict[str, Any]) -> bytes:
    """The row as Firehose's JSON line; raises on what UTF-8 cannot carry (a lone surrogate)."""
    return (dumps(row) + "\n").encode("utf-8")


# The unmarked row holds this text exactly once, and first: JSON escapes every '"' inside a string value, so
# no value can contain it, and the mark columns precede the payload.
_UNMARKED = b'"is_duplicate":null,"uuid_reused":null'


def mark(line: bytes, *, is_duplicate: bool | None, uuid_reused: bool | None) -> str:
    """Set the dedupe marks of an encoded, unmarked row and base64 it for Firehose."""
    marks = b'"is_duplicate":%s,"uuid_reused":%s' % (_json_bool(is_duplicate), _json_bool(uuid_reused))
    return base64.b64encode(line.replace(_UNMARKED, marks, 1)).decode("ascii")


def _json_bool(value: bool | None) -> bytes:
    return b"null" if value is None else b"true" if value else b"false"


def lineage_of(record: dict[str, Any]) -> Lineage:
    """Read lineage defensively: real events carry epoch-ms ints, the docs' sample shows strings."""
    meta = record.get("kinesisRecordMetadata")
    if not isinstance(meta, dict):  # absent for Direct PUT sources
        meta = {}
    shard = meta.get("shardId")
    seq = meta.get("sequenceNumber")
    subsequence = meta.get("subsequenceNumber")
    arrival = _epoch_ms(meta.get("approximateArrivalTimestamp"))
    if arrival is None:
        arrival = _epoch_ms(record.get("approximateArrivalTimestamp"))
    return Lineage(
        shard_id=str(shard) if shard not in (None, "") else None,
        sequence_number=str(seq) if seq not in (None, "") else None,
        arrival_ms=arrival,
        subsequence_number=_whole(subsequence),
    )


def _whole(value: Any) -> int | None:
    """An integer from an int or a digit string (the docs' sample shows ``""``), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _epoch_ms(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    if isinstance(value, str) and value:
        if value.isdigit():
            return int(value)
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp() * 1000)
    return None
