"""Pure parsing and enrichment of one Firehose record. No I/O, no clock, no AWS."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from binascii import b2a_base64
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson

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


class Lineage(NamedTuple):
    """Where a record came from, taken from Firehose's ``kinesisRecordMetadata``. Tuples, not dataclasses,
    here and below: one is built per record, and a frozen dataclass costs several times a tuple."""

    shard_id: str | None
    sequence_number: str | None
    arrival_ms: int | None
    subsequence_number: int | None = None  # non-zero for the user records of one KPL aggregate


class Event(NamedTuple):
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


# orjson parses an integer beyond 64 bits as a float, silently; such a literal has at least 19 digits in a
# row, which a byte translation and a substring search find at C speed. Those records, and everything orjson
# refuses, take the standard library's exact path, which also names the reason.
_DIGITS_AS_ZERO = bytes(0x30 if chr(c).isdigit() and c < 0x80 else 0x2E for c in range(256))
_LONG_NUMBER = b"0" * 19


def decode(data: Any) -> dict[str, Any]:
    """Base64 → UTF-8 → JSON object, each step with its own reason."""
    if not isinstance(data, str):
        detail = "the record has no data" if data is None else f"record data is {json_kind(data)}"
        raise RecordError(Reject.BAD_BASE64, f"{detail}, not a base64 string")
    try:
        raw = binascii.a2b_base64(data, strict_mode=True)  # what b64decode(validate=True) accepts
    except (binascii.Error, ValueError) as exc:
        raise RecordError(Reject.BAD_BASE64, f"record data is not valid base64 ({exc})") from None
    if _LONG_NUMBER not in raw.translate(_DIGITS_AS_ZERO):
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            value = None
        if type(value) is dict:
            return value
    return _decode_exactly(raw)


def _decode_exactly(raw: bytes) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(Reject.INVALID_UTF8, f"invalid UTF-8 at byte {exc.start}") from None
    try:
        if text.startswith("\ufeff"):  # json.loads's own refusal, kept for its words
            json.loads(text)
        value = _EXACT_JSON.decode(text)  # json.loads, without building a decoder each time
    except (ValueError, RecursionError) as exc:
        raise RecordError(Reject.NOT_JSON, f"not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise RecordError(Reject.NOT_OBJECT, f"JSON is a {type(value).__name__}, not an object")
    return value


def _finite_float(text: str) -> float:
    """``1e400`` is valid JSON but no double: stored, it would read back as ``Infinity``, not JSON."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:32]} is out of a double's range")
    return value


def _reject_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not valid JSON", name, 0)


_EXACT_JSON = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)


def parse_event(obj: dict[str, Any]) -> Event:
    """Validate the common fields and split off the type-specific payload."""
    event_uuid, event_name, created_at = obj.get("event_uuid"), obj.get("event_name"), obj.get("created_at")
    if event_uuid is None or event_name is None or created_at is None:
        missing = next(f for f in schema.INPUT_FIELDS if obj.get(f) is None)
        raise RecordError(Reject.MISSING_FIELD, f"missing required field {missing!r}")

    if not isinstance(event_uuid, str):
        raise RecordError(Reject.WRONG_TYPE, f"event_uuid must be a string, got {_kind(event_uuid)}")
    if not _UUID.fullmatch(event_uuid):
        raise RecordError(Reject.BAD_EVENT_UUID, "event_uuid is not a canonical UUID (8-4-4-4-12 hex)")
    if event_uuid == NIL_UUID:
        raise RecordError(Reject.NIL_EVENT_UUID, "event_uuid is the nil UUID; every event needs its own id")

    if not isinstance(event_name, str):
        raise RecordError(Reject.WRONG_TYPE, f"event_name must be a string, got {_kind(event_name)}")
    name_parts = NAME_PARTS.get(event_name) or _name_parts(event_name)

    if type(created_at) is not int and type(created_at) is not float:  # bool is neither
        raise RecordError(Reject.WRONG_TYPE, f"created_at must be a number, got {_kind(created_at)}")
    # Plain comparisons: exact for ints of any size, False for inf (no isfinite, which overflows).
    if not _MIN_CREATED_AT <= created_at < _MAX_CREATED_AT:
        hint = " (it looks like milliseconds)" if 1e12 <= created_at < 1e15 else ""
        raise RecordError(
            Reject.TIMESTAMP_OUT_OF_RANGE,
            f"created_at is outside 2000-01-01..2100-01-01 in Unix seconds{hint}",
        )

    payload = obj.copy()  # the caller's object stays whole; the payload keeps its key order
    del payload["event_uuid"], payload["event_name"], payload["created_at"]
    return _new_tuple(Event, (event_uuid, event_name, name_parts[0], name_parts[1], created_at, payload))


def _name_parts(event_name: str) -> tuple[str, str | None]:
    """Validate an event name; (event_type, event_subtype). Remembered: ~100 names make a whole stream."""
    if len(event_name) > MAX_EVENT_NAME:
        raise RecordError(Reject.BAD_EVENT_NAME, f"event_name longer than {MAX_EVENT_NAME} characters")
    parts = event_name.split(":")
    if "" in parts:
        raise RecordError(Reject.BAD_EVENT_NAME, "event_name has an empty part")
    if not _EVENT_TYPE.fullmatch(parts[0]):
        raise RecordError(
            Reject.UNSAFE_EVENT_TYPE,
            f"event type must be 1-{schema.PARTITION_VALUE_MAX_CHARS} characters of A-Z a-z 0-9 _ . -, "
            "starting with a letter, digit or _ "
            "(it becomes an S3 path segment)",
        )
    if len(NAME_PARTS) >= _NAMES_KEPT:
        NAME_PARTS.clear()
    found = NAME_PARTS[event_name] = (parts[0], parts[1] if len(parts) > 1 else None)
    return found


# Valid event names seen: a stream has ~100 of them, so each is checked once.
NAME_PARTS: dict[str, tuple[str, str | None]] = {}
_NAMES_KEPT = 10_000


_MIN_CREATED_AT, _MAX_CREATED_AT = schema.MIN_CREATED_AT, schema.MAX_CREATED_AT
_new_tuple = tuple.__new__  # a NamedTuple without its Python-level __new__: same object, once per record
assert schema.INPUT_FIELDS == ("event_uuid", "event_name", "created_at")  # the names parse_event reads


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


_JSON_KINDS = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "an array"}


def json_kind(value: Any) -> str:
    """What a value of a parsed JSON request is, in JSON's words: ``null``, ``a string``, ``an array``..."""
    if value is None:
        return "null"
    return _JSON_KINDS.get(type(value)) or (
        "an object" if isinstance(value, dict) else f"a {type(value).__name__}"
    )


def enrich(
    event: Event, lineage: Lineage, *, is_duplicate: bool | None = None, uuid_reused: bool | None = None
) -> dict[str, Any]:
    """The stored row of an event (``row``). The dedupe marks are filled in after the claim (see ``remark``),
    so a row is built, and proven encodable, before its id is claimed."""
    event_uuid, event_name, _, event_subtype, created_at, payload = event
    arrival = lineage.arrival_ms
    return row(
        event_uuid,
        event_name,
        event_subtype,
        created_at if type(created_at) is int else math.floor(created_at),
        schema.iso_utc(created_at),
        is_duplicate,
        uuid_reused,
        dumps(payload),
        lineage.shard_id,
        lineage.sequence_number,
        lineage.subsequence_number,
        None if arrival is None else _arrival_iso(arrival),
    )


def row(
    event_uuid: str,
    event_name: str,
    event_subtype: str | None,
    created_at: int,
    created_datetime: str,
    is_duplicate: bool | None,
    uuid_reused: bool | None,
    payload: str,
    source_shard_id: str | None,
    source_sequence_number: str | None,
    source_subsequence_number: int | None,
    source_arrival_datetime: str | None,
) -> dict[str, Any]:
    """The stored row, the one Python definition both Python paths write (``enrich``, the inline path of
    ``python_first_arrival``): exactly the Glue data columns, in ``schema.COLUMN_NAMES``'s order, each from
    its namesake argument (held at import, below; ``_hotpath.c`` takes the names and order from the schema,
    given to its ``configure``)."""
    return {
        "event_uuid": event_uuid,
        "event_name": event_name,
        "event_subtype": event_subtype,
        "created_at": created_at,
        "created_datetime": created_datetime,
        "is_duplicate": is_duplicate,
        "uuid_reused": uuid_reused,
        "payload": payload,
        "source_shard_id": source_shard_id,
        "source_sequence_number": source_sequence_number,
        "source_subsequence_number": source_subsequence_number,
        "source_arrival_datetime": source_arrival_datetime,
    }


if list(row(*schema.COLUMN_NAMES).items()) != [(name, name) for name in schema.COLUMN_NAMES]:
    raise ImportError("events.row is not glue.schema.COLUMNS: the stored row must be the table's columns")


def _arrival_iso(arrival_ms: int) -> str:
    """Records of one ``PutRecords`` call share their arrival millisecond: remember the last one."""
    global _LAST_ARRIVAL
    if _LAST_ARRIVAL[0] != arrival_ms:
        _LAST_ARRIVAL = (arrival_ms, schema.iso_utc_at(*divmod(arrival_ms, 1000)))
    return _LAST_ARRIVAL[1]


_LAST_ARRIVAL: tuple[int | None, str] = (None, "")


def stored_row(event: Event, lineage: Lineage, unmarked: bool = False) -> tuple[str, dict[str, str]]:
    """The stored row of a first arrival (both marks false; ``unmarked``: both null, for the dedupe modes
    whose first arrivals wait for compaction), base64 for Firehose, and its partition keys. Everything that
    can fail (JSON of the event's strings, UTF-8) fails here, before the claim; ``remark`` cannot fail."""
    first = None if unmarked else False
    try:
        line = orjson.dumps(enrich(event, lineage, is_duplicate=first, uuid_reused=first), option=_LINE)
    except TypeError:  # what orjson refuses (a lone surrogate): the standard library decides, and raises
        line = row_bytes(enrich(event, lineage, is_duplicate=first, uuid_reused=first))
    return b2a_base64(line, newline=False).decode("ascii"), partition_keys(event)


_LINE = orjson.OPT_APPEND_NEWLINE


def remark(data: str, is_duplicate: bool | None, uuid_reused: bool | None, unmarked: bool = False) -> str:
    """A first arrival's row (``stored_row``'s base64, ``unmarked`` as it was written) with other marks."""
    written = _MARKS[(None, None) if unmarked else (False, False)]
    line = base64.b64decode(data).replace(written, _MARKS[(is_duplicate, uuid_reused)], 1)
    return b2a_base64(line, newline=False).decode("ascii")


def first_arrival(
    record: dict[str, Any], common_fields: bool = False, unmarked: bool = False
) -> tuple[str, dict[str, Any], str, Mapping[str, Any] | None]:
    """What the handler needs of one record, stored as a first arrival: its row in base64 (``stored_row``),
    its response ``metadata`` (``{"partitionKeys": ...}``, one shared dict per partition), its dedupe key and
    a mapping of its fields (the event as sent) for the fingerprint. Where the compiled path
    (``_hotpath.c``) made the row, that mapping holds only ``schema.INPUT_FIELDS`` if ``common_fields`` asks
    for them, else it is None (``decode`` gives the event). ``unmarked`` writes both marks null instead of
    false (``stored_row``). Raises ``RecordError`` as the general path does.

    The compiled path writes the same bytes as the Python paths below for the records it takes, and hands
    every other record to them (a property test holds it to both); without it (not built), they do it all.

    In Python, the common record (base64 JSON of a valid event, lineage as Firehose sends it) is handled
    inline: one function, no tuples or intermediate calls (the Python-only row of BENCHMARKS.md). Anything
    else, and anything this path would have to judge, goes the general way (``decode`` -> ``parse_event`` ->
    ``stored_row``), which decides and names the reason; a property test holds the two to the same bytes."""
    if hot_first_arrival is not None:  # the same, compiled (``_hotpath.c``); None: the paths below decide
        hot = hot_first_arrival(record, NAME_PARTS, PARTITION_METADATA, common_fields | (unmarked << 1))
        if hot is not None:
            return hot
    return python_first_arrival(record, unmarked)


FLAG_FIELDS, FLAG_UNMARKED, FLAG_REPEAT_FIELDS = 1, 2, 4  # _hotpath.c's flags


class Compiled(NamedTuple):
    """The compiled path as the handler calls it itself (no Python frame per record; it counts the rows the
    compiled path wrote). ``one(record, names, metadatas, flags)`` answers as ``first_arrival`` or None
    (``python_first_arrival`` decides then). ``batch``, the module's ``first_arrivals``, runs the handler's
    loop in C from a record to the next one it hands back; None when ``one`` is not the module's own (a test
    counting its calls), so that the handler calls ``one`` per record."""

    one: Callable[..., Any]
    batch: Callable[..., int] | None
    names: dict[str, Any]
    metadatas: dict[tuple[str, int], Any]


def compiled_call() -> Compiled | None:
    """The compiled path and the names and partitions it reads; None when it is not built (or refused)."""
    one = hot_first_arrival
    if one is None:
        return None
    own = _HOT is not None and one is _HOT.first_arrival
    return Compiled(one, _HOT.first_arrivals if own else None, NAME_PARTS, PARTITION_METADATA)  # type: ignore[union-attr]


def python_first_arrival(
    record: dict[str, Any], unmarked: bool = False
) -> tuple[str, dict[str, Any], str, Mapping[str, Any] | None]:
    """``first_arrival`` by the Python paths alone (the inline common record, else the general path)."""
    data = record.get("data")
    meta = record.get("kinesisRecordMetadata")
    decoded: Any = None  # what decode(data) gives, once known: the general path then does not decode again
    if type(data) is str and type(meta) is dict:
        try:
            raw = _a2b(data, strict_mode=True)
        except (binascii.Error, ValueError):
            raw = None
        if raw is not None and _LONG_NUMBER not in raw.translate(_DIGITS_AS_ZERO):
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError:
                obj = None
            decoded = raw  # decode's bytes, for its exact path (decode would parse them so)
            if type(obj) is dict:
                decoded = obj
                event_uuid = obj.get("event_uuid")
                event_name = obj.get("event_name")
                created_at = obj.get("created_at")
                parts = NAME_PARTS.get(event_name) if type(event_name) is str else None
                shard = meta.get("shardId")
                sequence = meta.get("sequenceNumber")
                arrival = meta.get("approximateArrivalTimestamp")
                subsequence = meta.get("subsequenceNumber")
                if (
                    parts is not None
                    and (type(created_at) is int or type(created_at) is float)
                    and _MIN_CREATED_AT <= created_at < _MAX_CREATED_AT
                    and type(event_uuid) is str
                    and _UUID_MATCH(event_uuid)
                    and event_uuid != NIL_UUID
                    and type(shard) is str
                    and shard
                    and type(sequence) is str
                    and sequence
                    and type(arrival) is int
                    and (subsequence is None or type(subsequence) is int)
                ):
                    payload = obj.copy()
                    del payload["event_uuid"], payload["event_name"], payload["created_at"]
                    if type(created_at) is int:
                        seconds = whole = created_at
                        created = _SECOND_TEXTS.get(created_at)  # iso_utc_at's text, when it has one
                        created = created + "Z" if created else schema.iso_utc_at(created_at)
                    else:  # as enrich and partition_values: one second, truncated (split_seconds)
                        whole = _floor(created_at)
                        seconds, millis = schema.split_seconds(created_at)
                        created = schema.iso_utc_at(seconds, millis)
                    try:
                        mark = None if unmarked else False
                        line = orjson.dumps(
                            row(
                                event_uuid,
                                event_name,
                                parts[1],
                                whole,
                                created,
                                mark,
                                mark,
                                orjson.dumps(payload).decode("utf-8"),
                                shard,
                                sequence,
                                subsequence,
                                _arrival_iso(arrival),
                            ),
                            option=_LINE,
                        )
                    except TypeError:  # beyond orjson: the general path decides
                        line = None
                    if line is not None:
                        metadata = PARTITION_METADATA.get((parts[0], seconds // 3600)) or _metadata(
                            parts[0], seconds
                        )
                        return _b2a(line, newline=False).decode("ascii"), metadata, event_uuid.lower(), obj
    return first_arrival_in_general(record, unmarked, decoded)


def compiled_answer(record: dict[str, Any], flags: int = 0) -> tuple[str, dict[str, Any], str, Any] | None:
    """The compiled path's own answer for ``record``, with the names and partitions this process has seen:
    None when it hands the record back (or is not built). ``flags`` as ``first_arrival`` passes them (1: the
    common fields, 2: unmarked). For the sanitizer lane's fuzzer, which holds it to the Python paths."""
    if hot_first_arrival is None:
        return None
    return hot_first_arrival(record, NAME_PARTS, PARTITION_METADATA, flags)


def compiled_path() -> bool:
    """Whether the compiled path runs here: every batch's summary line says so, since without it the
    transform is correct but ~2.5x slower (a zip built for another architecture, a runtime refusing it)."""
    return hot_first_arrival is not None


def first_arrival_in_general(
    record: dict[str, Any], unmarked: bool = False, decoded: dict[str, Any] | bytes | None = None
) -> tuple[str, dict[str, Any], str, Mapping[str, Any]]:
    """``decoded``: ``decode(record["data"])`` when the inline path has it (a dict), or the base64-decoded
    bytes orjson did not make a dict of (which ``decode`` hands to its exact path): a rejected record, most
    often, is not decoded twice."""
    if type(decoded) is dict:
        sent = decoded
    elif type(decoded) is bytes:
        sent = _decode_exactly(decoded)
    else:
        sent = decode(record.get("data"))
    event = parse_event(sent)
    data, _ = stored_row(event, lineage_of(record), unmarked)
    fields = dict(event.payload, event_uuid=event.event_uuid, event_name=event.event_name)
    fields["created_at"] = event.created_at
    # The partition's shared metadata, remembered as the inline path does: the compiled path takes a
    # partition's records once it is known, whichever path saw its first (a 19-digit number sends it here).
    created_at = event.created_at
    seconds = created_at if type(created_at) is int else schema.split_seconds(created_at)[0]
    metadata = PARTITION_METADATA.get((event.event_type, seconds // 3600)) or _metadata(
        event.event_type, seconds
    )
    return data, metadata, event.event_uuid.lower(), fields


def _metadata(event_type: str, seconds: int) -> dict[str, Any]:
    """The response metadata of a partition, shared by its records (the response is only serialised)."""
    if len(PARTITION_METADATA) >= _NAMES_KEPT:
        PARTITION_METADATA.clear()
    found = PARTITION_METADATA[(event_type, seconds // 3600)] = {
        "partitionKeys": schema.partition_values(event_type, seconds)
    }
    return found


PARTITION_METADATA: dict[
    tuple[str, int], dict[str, Any]
] = {}  # (event type, hour since the epoch) -> metadata


def refusal(module: Any) -> str | None:
    """Why the compiled ``module`` must not write rows here, else None, once it is configured from
    ``glue.schema``: the event-time window and the row's column names in their order. The module says which
    columns it can write (``COLUMNS``); any other set means it was built for another schema, and its rows
    would not be the table's (the Python paths, which write ``row``, serve then)."""
    columns = getattr(module, "COLUMNS", None)
    if type(columns) is not tuple or sorted(columns) != sorted(schema.COLUMN_NAMES):
        return f"its columns {columns!r} are not glue.schema's {schema.COLUMN_NAMES!r}"
    try:
        module.configure(_MIN_CREATED_AT, _MAX_CREATED_AT, schema.COLUMN_NAMES)
    except (TypeError, ValueError) as exc:
        return f"it refused glue.schema ({exc})"
    return None


try:  # built in place by ``pip install -e .`` and into the Lambda's zip (infra/native_build.py)
    from transform_lambda import _hotpath

    COMPILED_IMPORT_ERROR: str | None = None
except ImportError as error:  # not built: the Python paths alone, the same rows, slower
    _hotpath = None  # type: ignore[assignment]
    COMPILED_IMPORT_ERROR = repr(error)  # why not, for the arm64 check's summary (the handler carries on)
COMPILED_REFUSED = None if _hotpath is None else refusal(_hotpath)  # the batch line's compiled_path says it
_HOT = None if _hotpath is None or COMPILED_REFUSED else _hotpath
# The compiled module's file when it serves (the arm64 check proves it came from the zip), else None.
COMPILED_FILE: str | None = None if _HOT is None else str(_HOT.__file__)
# The compiled ``first_arrival``, None when it is not built or refused. Public because benches, tests and the
# arm64 check set it to None (the Python paths alone) or wrap it to count its calls, then put it back.
hot_first_arrival = None if _HOT is None else _HOT.first_arrival
_a2b, _b2a = binascii.a2b_base64, binascii.b2a_base64
_floor = math.floor
_UUID_MATCH = _UUID.fullmatch
_SECOND_TEXTS = schema.SECOND_TEXTS


def partition_keys(event: Event) -> dict[str, str]:
    return schema.partition_values(event.event_type, event.created_at)


def dumps(value: Any) -> str:
    """Compact JSON that keeps non-ASCII as UTF-8, so enrichment never multiplies its size."""
    return _dump(value).decode("utf-8")


def _dump(value: Any) -> bytes:
    """orjson: the same JSON values ``json.dumps(..., ensure_ascii=False, separators=(",", ":"))`` writes for
    what ``decode`` returns, compact, non-ASCII kept (only a float's notation may differ: ``1e-7`` for
    ``1e-07``; tests compare the values); the standard library for what orjson refuses: integers beyond 64
    bits, kept exact, and lone surrogates, which then fail to encode, as they must."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def encode_row(row: dict[str, Any]) -> str:
    """Newline-terminated JSON, base64-encoded, as Firehose expects ``data``."""
    return base64.b64encode(row_bytes(row)).decode("ascii")


def row_bytes(row: dict[str, Any]) -> bytes:
    """The row as Firehose's JSON line; raises on what UTF-8 cannot carry (a lone surrogate)."""
    return _dump(row) + b"\n"


# The unmarked row holds this text exactly once, and first: JSON escapes every '"' inside a string value, so
# no value can contain it, and the mark columns precede the payload.
_UNMARKED = b'"is_duplicate":null,"uuid_reused":null'


def mark(line: bytes, *, is_duplicate: bool | None, uuid_reused: bool | None) -> str:
    """Set the dedupe marks of an encoded, unmarked row and base64 it for Firehose."""
    if is_duplicate is None and uuid_reused is None:
        return base64.b64encode(line).decode("ascii")
    marks = _MARKS[(is_duplicate, uuid_reused)]
    return base64.b64encode(line.replace(_UNMARKED, marks, 1)).decode("ascii")


def _json_bool(value: bool | None) -> bytes:
    return b"null" if value is None else b"true" if value else b"false"


_MARKS = {
    (d, r): b'"is_duplicate":%s,"uuid_reused":%s' % (_json_bool(d), _json_bool(r))
    for d in (None, False, True)
    for r in (None, False, True)
}


def lineage_of(record: dict[str, Any]) -> Lineage:
    """Read lineage defensively: real events carry epoch-ms ints, the docs' sample shows strings."""
    meta = record.get("kinesisRecordMetadata")
    if type(meta) is not dict:  # absent for Direct PUT sources
        meta = {}
    shard = meta.get("shardId")
    seq = meta.get("sequenceNumber")
    subsequence = meta.get("subsequenceNumber")
    arrival = meta.get("approximateArrivalTimestamp")
    if type(arrival) is not int:
        arrival = _epoch_ms(arrival)
        if arrival is None:
            arrival = _epoch_ms(record.get("approximateArrivalTimestamp"))
    return _new_tuple(
        Lineage,
        (
            shard if type(shard) is str and shard else (str(shard) if shard not in (None, "") else None),
            seq if type(seq) is str and seq else (str(seq) if seq not in (None, "") else None),
            arrival,
            subsequence if type(subsequence) is int else _whole(subsequence),
        ),
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
