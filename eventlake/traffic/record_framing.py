"""How a record is framed: the producer contract, JSON lines in, and a raw backup split back into records.

Firehose's source-record backup (``raw/yyyy/MM/dd/HH/``) holds every record's bytes exactly as the producer
put them, concatenated: "By default, Firehose concatenates data without any delimiters"
(https://docs.aws.amazon.com/firehose/latest/dev/basic-deliver.html). Nothing marks where one record ends,
so the boundaries survive only if every record carries its own. Hence the producer contract:

    Each Kinesis record is one JSON object, UTF-8, on one line (no newline inside it), terminated by
    one "\\n". The "\\n" is part of the record's bytes.

Under the contract a backup object is JSON Lines, and splitting it after each "\\n" gives back exactly the
records as they were put, terminator included (``split_backup``). A record put without its terminator runs
into the next one (``{"a":1}{"b":2}\\n``), a record with a newline inside falls apart (pretty-printed JSON),
and neither can be cut back exactly. So every piece that is not one JSON object is held back and reported
(object, byte offset, kind), never re-sent as a guess. Records that were not JSON to begin with are held back
too: they cannot be told apart from a broken framing, and the transform rejected them the first time anyway
(their bytes are in errors/). The last piece of an object may lack the terminator: an object holds whole
records, so a lone JSON object there is one record put without "\\n", re-sent exactly as it was.

An aggregating producer's records (KPL aggregates, ``eventlake send --aggregate``) are binary and carry no
terminator: an aggregate is recognised where a record starts (its magic number, never the start of UTF-8
text) and ends where the MD5 of its protobuf does (``kpl_aggregation.aggregate_length``); it is re-sent whole,
byte for byte, keyed by its first user record's partition key as the KPL keys it (``partition_key``).

``eventlake send`` keeps the contract: each input line becomes one record, its bytes as in the file with
its "\\n" (a last line without one gets it). ``partition_key`` takes the event's own uuid, as the demo's
producer does, so an event and its re-sends land on one shard, in order.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from aws_contract import kpl_aggregation, limits

TERMINATOR = b"\n"


class HeldBackKind(StrEnum):
    # A JSON object with more bytes after it: a record put without its "\n", run into the next one.
    GLUED = "glued"
    # A malformed record, or a fragment of a record with a "\n" inside (pretty-printed JSON).
    NOT_AN_OBJECT = "not a JSON object"


@dataclass(frozen=True)
class InputLine:
    """One record read from a JSON-lines input: its 1-based line number and the bytes to put."""

    number: int
    data: bytes


@dataclass(frozen=True)
class HeldBack:
    """A piece of a backup object that cannot be shown to be one record as put."""

    offset: int  # where the piece starts in the decompressed object
    kind: HeldBackKind
    data: bytes


@dataclass
class BackupSplit:
    """A backup object cut back into the records as put, and what could not be."""

    records: list[bytes] = field(default_factory=list)
    held_back: list[HeldBack] = field(default_factory=list)
    unterminated: int = 0  # records re-sent without "\n": glued ones, and an object's unterminated last
    unglued: int = 0  # records cut out of a run of objects a producer put without "\n"
    aggregates: int = 0  # records that are KPL aggregates (re-sent whole)
    aggregated_events: int = 0  # the user records those aggregates hold


def input_lines(blob: bytes) -> list[InputLine]:
    """Every non-blank line of ``blob`` as one record: the line's bytes as they are (a "\\r" of a CRLF file
    stays) and the "\\n" terminator, added to a last line without one. Blank lines (only whitespace) are
    skipped; line numbers count them, so an error can point at the file."""
    lines = blob.split(TERMINATOR)
    if lines and lines[-1] == b"":
        lines.pop()  # the file's final "\n"
    return [InputLine(n, line + TERMINATOR) for n, line in enumerate(lines, start=1) if line.strip()]


def json_object(data: bytes) -> dict[str, Any] | None:
    """``data`` as the transform reads it (UTF-8, strict JSON, no NaN/Infinity), if it is one JSON object."""
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None
    return value if isinstance(value, dict) else None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def partition_key(data: bytes, field_name: str) -> str:
    """The record's ``field_name`` when it is a usable key (a non-empty string of at most 256 characters),
    else a random UUID: a record that is not a JSON object still goes through and lands in errors/. A KPL
    aggregate's key is its first user record's own (the KPL keys an aggregate so)."""
    users = kpl_aggregation.deaggregate(data)
    if users is not None:
        return users[0].partition_key
    obj = json_object(data)
    value = obj.get(field_name) if obj is not None else None
    if isinstance(value, str) and 0 < len(value) <= limits.PARTITION_KEY_MAX_CHARS:
        return value
    return str(uuid.uuid4())


def record_size(data: bytes, key: str) -> int:
    """What Kinesis counts against its per-record limit: the data and the partition key."""
    return len(data) + len(key.encode("utf-8"))


def split_backup(blob: bytes) -> BackupSplit:
    """The records of one decompressed backup object, exactly as put, in order (see the module docstring)."""
    out = BackupSplit()
    offset = 0
    while offset < len(blob):
        aggregate = kpl_aggregation.aggregate_length(blob, offset)
        if aggregate is not None:
            record = blob[offset : offset + aggregate]
            out.records.append(record)
            out.aggregates += 1
            out.aggregated_events += len(kpl_aggregation.deaggregate(record) or ())
            offset += aggregate
            continue
        end = blob.find(TERMINATOR, offset)
        terminated = end >= 0
        stop = end + len(TERMINATOR) if terminated else len(blob)
        record, body = blob[offset:stop], blob[offset : end if terminated else len(blob)]
        if json_object(body) is not None:
            out.records.append(record)
            out.unterminated += not terminated
        elif (pieces := glued_objects(body)) is not None:
            # Records put without their "\n": JSON objects delimit themselves, so each is cut back out at its
            # own end, exactly the bytes put; only the last of the run carries the line's terminator.
            pieces[-1] += record[len(body) :]
            out.records.extend(pieces)
            out.unterminated += len(pieces) - 1 + (not terminated)
            out.unglued += len(pieces) - 1
        else:
            out.held_back.append(HeldBack(offset, _kind(body), record))
        offset = stop
    return out


def glued_objects(body: bytes) -> list[bytes] | None:
    """``body`` cut into the JSON objects it is made of, each with the whitespace that follows it, when it is
    two or more objects one after another and nothing else; else None."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    decoder = json.JSONDecoder(parse_constant=_no_constant)
    pieces: list[bytes] = []
    position = len(text) - len(text.lstrip())
    start = 0
    while position < len(text):
        try:
            value, end = decoder.raw_decode(text, position)
        except (ValueError, RecursionError):
            return None
        if not isinstance(value, dict):
            return None
        position = end + (len(text[end:]) - len(text[end:].lstrip()))
        pieces.append(text[start:position].encode("utf-8"))
        start = position
    return pieces if len(pieces) >= 2 else None


def _kind(body: bytes) -> HeldBackKind:
    """GLUED when the piece opens with a whole JSON object and goes on: the mark of a missing terminator."""
    try:
        text = body.decode("utf-8")
        value, end = json.JSONDecoder(parse_constant=_no_constant).raw_decode(
            text, len(text) - len(text.lstrip())
        )
    except (ValueError, RecursionError):
        return HeldBackKind.NOT_AN_OBJECT
    return (
        HeldBackKind.GLUED if isinstance(value, dict) and text[end:].strip() else HeldBackKind.NOT_AN_OBJECT
    )
