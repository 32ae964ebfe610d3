"""The KPL aggregated record format: many user records in one Kinesis record, written and read here.

The format (https://github.com/awslabs/amazon-kinesis-producer/blob/master/aggregation-format.md): the
4-byte magic number ``F3 89 9A C2``, a protobuf ``AggregatedRecord`` (field 1: the partition key table,
field 2: the explicit hash key table, field 3: the records, each with its partition key's index (1), an
optional explicit hash key index (2), its data (3) and optional tags (4)), then the MD5 digest of the
protobuf bytes. Stdlib only, in the spirit of ``aws_contract.limits``: the producer (``eventlake send
--aggregate``), the local Firehose model's de-aggregation and the sizing all use this one definition. The
tests hold it to awslabs' own Python aggregator and de-aggregator (``aws-kinesis-agg``).

What is not an aggregate is one ordinary record, as the reference de-aggregators (awslabs' KCL and
``aws-kinesis-agg``) read it: no magic number, too short, an MD5 that does not match, protobuf that does not
parse (its required fields included, as protobuf-java's parser holds them). Stricter than ``aws-kinesis-agg``
in three places, so that no bytes are ever lost or changed without a trace: an aggregate whose record names a
key outside its tables (it logs and drops the rest), one of no records (it yields nothing) and one with a key
that is not UTF-8 (it hands back bytes) are ordinary records too, which the transform rejects with their
bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from aws_contract import limits

MAGIC = b"\xf3\x89\x9a\xc2"
DIGEST_BYTES = 16  # MD5
# Protobuf wire types (https://protobuf.dev/programming-guides/encoding/).
_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5
_KEY_TABLE, _HASH_KEY_TABLE, _RECORDS = 1, 2, 3  # AggregatedRecord's fields
_KEY_INDEX, _HASH_KEY_INDEX, _DATA, _TAGS = 1, 2, 3, 4  # Record's fields
_MAX_VARINT_BYTES = 10

# What `eventlake send --aggregate` packs into one Kinesis record at most (its data plus the aggregate's
# partition key): one 25 KB PUT payload unit (a provisioned stream bills each record in 25 KB units), which
# is also exactly five of Firehose's 5 KB billing steps, should Firehose bill the aggregate (undocumented);
# 40x under the 1 MiB record limit, so one record never dominates a Lambda invocation (1 MB processor
# buffer) and a corrupt aggregate costs ~100 events to errors/, not ~4,000.
AGGREGATE_MAX_BYTES = limits.KINESIS_PUT_PAYLOAD_UNIT_BYTES


@dataclass(frozen=True, slots=True)
class UserRecord:
    """One record a producer put, as the aggregate carries it."""

    partition_key: str
    data: bytes
    explicit_hash_key: str | None = None


@dataclass(frozen=True, slots=True)
class KinesisEntry:
    """One Kinesis record to put: an aggregate (``records`` more than one) or one user record as sent."""

    partition_key: str
    data: bytes
    records: tuple[UserRecord, ...]

    @property
    def aggregated(self) -> bool:
        return len(self.records) > 1


# --- writing ------------------------------------------------------------------------------------------------


def _md5(message: bytes | memoryview) -> bytes:
    """The format's checksum: an integrity check, not security (so FIPS-mode Pythons allow it)."""
    return hashlib.md5(message, usedforsecurity=False).digest()


def varint_bytes(value: int) -> int:
    """Bytes of ``value`` as a protobuf varint."""
    return max(1, -(-value.bit_length() // 7))


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | _LEN) + _varint(len(payload)) + payload


def _record_bytes(key_index: int, hash_key_index: int | None, data_bytes: int) -> int:
    """One ``Record`` with its field-3 header inside the aggregate."""
    inner = 1 + varint_bytes(key_index) + 1 + varint_bytes(data_bytes) + data_bytes
    if hash_key_index is not None:
        inner += 1 + varint_bytes(hash_key_index)
    return 1 + varint_bytes(inner) + inner


def _table_entry_bytes(key: str) -> int:
    n = len(key.encode("utf-8"))
    return 1 + varint_bytes(n) + n


def encode(records: Sequence[UserRecord]) -> bytes:
    """The aggregate holding ``records`` in order (partition and hash keys each written once in its table)."""
    if not records:
        raise ValueError("an aggregate holds at least one record")
    keys: dict[str, int] = {}
    hash_keys: dict[str, int] = {}
    body = bytearray()
    for record in records:
        inner = bytearray(_varint(_KEY_INDEX << 3 | _VARINT))
        inner += _varint(keys.setdefault(record.partition_key, len(keys)))
        if record.explicit_hash_key is not None:
            inner += _varint(_HASH_KEY_INDEX << 3 | _VARINT)
            inner += _varint(hash_keys.setdefault(record.explicit_hash_key, len(hash_keys)))
        inner += _field(_DATA, record.data)
        body += _field(_RECORDS, bytes(inner))
    tables = b"".join(_field(_KEY_TABLE, k.encode("utf-8")) for k in keys)
    tables += b"".join(_field(_HASH_KEY_TABLE, k.encode("utf-8")) for k in hash_keys)
    message = tables + bytes(body)
    return MAGIC + message + _md5(message)


def aggregate_bytes(count: int, data_bytes: int, key_bytes: int) -> int:
    """Bytes of an aggregate of ``count`` records of ``data_bytes`` each, every one with its own partition key
    of ``key_bytes`` (producers key each event by its id) and no explicit hash key: what sizing prices."""
    tables = count * (1 + varint_bytes(key_bytes) + key_bytes)
    records = sum(_record_bytes(i, None, data_bytes) for i in range(count))
    return len(MAGIC) + tables + records + DIGEST_BYTES


class _Open:
    """One aggregate being filled: its records and its encoded size so far (tables included)."""

    def __init__(self) -> None:
        self.group: list[UserRecord] = []
        self.size = 0
        self.keys: dict[str, int] = {}
        self.hash_keys: dict[str, int] = {}

    def _grown(self, record: UserRecord) -> int:
        """The encoded size with ``record`` added (tables included)."""
        grown = self.size or len(MAGIC) + DIGEST_BYTES
        key_index = self.keys.get(record.partition_key, len(self.keys))
        if record.partition_key not in self.keys:
            grown += _table_entry_bytes(record.partition_key)
        hash_index = None
        if record.explicit_hash_key is not None:
            hash_index = self.hash_keys.get(record.explicit_hash_key, len(self.hash_keys))
            if record.explicit_hash_key not in self.hash_keys:
                grown += _table_entry_bytes(record.explicit_hash_key)
        return grown + _record_bytes(key_index, hash_index, len(record.data))

    def full_for(self, record: UserRecord, max_bytes: int) -> bool:
        """Whether ``record`` no longer fits (data and the aggregate's partition key, its first record's)."""
        return (
            bool(self.group) and self._grown(record) + len(self.group[0].partition_key.encode()) > max_bytes
        )

    def add(self, record: UserRecord) -> None:
        self.size = self._grown(record)
        self.group.append(record)
        self.keys.setdefault(record.partition_key, len(self.keys))
        if record.explicit_hash_key is not None:
            self.hash_keys.setdefault(record.explicit_hash_key, len(self.hash_keys))

    def entry(self) -> KinesisEntry:
        first = self.group[0]
        if len(self.group) == 1:
            return KinesisEntry(first.partition_key, first.data, (first,))
        data = encode(self.group)
        assert len(data) == self.size, (len(data), self.size)  # the running size is the encoder's, exactly
        return KinesisEntry(first.partition_key, data, tuple(self.group))


def pack(records: Iterable[UserRecord], max_bytes: int = AGGREGATE_MAX_BYTES) -> Iterator[KinesisEntry]:
    """Consecutive records packed into entries of at most ``max_bytes`` (data and partition key), in order.
    An entry's partition key is its first record's (the KPL's choice: the shard follows it). A lone record, or
    one too large to share, goes as itself: its bytes exactly as the producer wrote them."""
    open_ = _Open()
    for record in records:
        if open_.full_for(record, max_bytes):
            yield open_.entry()
            open_ = _Open()
        open_.add(record)
    if open_.group:
        yield open_.entry()


@dataclass(frozen=True, slots=True)
class ShardRange:
    """One open shard and the hash keys it takes (ListShards' ``HashKeyRange``, both ends included)."""

    shard_id: str
    starting_hash_key: int
    ending_hash_key: int


def hash_key(partition_key: str) -> int:
    """Where Kinesis puts a partition key: the MD5 of its UTF-8 bytes as a 128-bit unsigned integer
    (Kinesis API reference, PutRecord: "MD5 hash function is used to map partition keys to 128-bit integer
    values")."""
    return int.from_bytes(_md5(partition_key.encode("utf-8")), "big")


def shard_of(partition_key: str, shards: Sequence[ShardRange]) -> str:
    """The open shard whose hash key range holds ``partition_key``'s hash key."""
    key = hash_key(partition_key)
    for shard in shards:
        if shard.starting_hash_key <= key <= shard.ending_hash_key:
            return shard.shard_id
    raise ValueError(f"no shard's hash key range holds {partition_key!r}")


def pack_by_shard(
    records: Iterable[UserRecord], shards: Sequence[ShardRange], max_bytes: int = AGGREGATE_MAX_BYTES
) -> Iterator[KinesisEntry]:
    """``pack``, as the KPL aggregates: only records bound for one shard share an aggregate (each record's
    own partition key picks the shard; the aggregate, keyed by its first record's, lands there too). Copies
    of one event (one partition key) so stay on one shard, in the order sent: an earlier aggregate, or an
    earlier place in the same one. Each shard's aggregate goes out when the next record of that shard no
    longer fits; what is open at the end goes out in the order it opened."""
    open_by_shard: dict[str, _Open] = {}
    for record in records:
        shard = shard_of(record.partition_key, shards)
        open_ = open_by_shard.get(shard)
        if open_ is not None and open_.full_for(record, max_bytes):
            yield open_.entry()
            del open_by_shard[shard]  # the next one goes in last: the dict keeps the order aggregates opened
            open_ = None
        if open_ is None:
            open_ = open_by_shard[shard] = _Open()
        open_.add(record)
    for open_ in open_by_shard.values():
        yield open_.entry()


# --- reading ------------------------------------------------------------------------------------------------


class _NotAnAggregate(Exception):
    """The protobuf inside a well-formed envelope does not parse as an ``AggregatedRecord``."""


def deaggregate(data: bytes) -> list[UserRecord] | None:
    """The user records of an aggregate, in order; None when ``data`` is not one (then it is one ordinary
    record, exactly as put: see the module's docstring for what counts)."""
    if len(data) <= len(MAGIC) + DIGEST_BYTES or not data.startswith(MAGIC):
        return None
    message = memoryview(data)[len(MAGIC) : -DIGEST_BYTES]
    if _md5(message) != data[-DIGEST_BYTES:]:
        return None
    try:
        return _parse(message)
    except _NotAnAggregate:
        return None


def aggregate_length(blob: bytes, start: int = 0) -> int | None:
    """The length of the aggregate that starts at ``start`` in ``blob``, when one does (magic number,
    protobuf, then the MD5 of that protobuf), else None. An aggregate says nowhere how long it is: where
    records are concatenated without a delimiter (Firehose's raw backup), its end is the first field boundary
    of its protobuf followed by that protobuf's MD5, and the bytes up to there must be an aggregate
    (``deaggregate``). A JSON line never starts with the magic number (not UTF-8)."""
    if blob[start : start + len(MAGIC)] != MAGIC:
        return None
    view = memoryview(blob)
    at = start + len(MAGIC)
    digest = hashlib.md5(usedforsecurity=False)  # an integrity check, as _md5
    try:
        while at < len(view):
            end = _field_end(view, at)
            digest.update(view[at:end])
            at = end
            if view[at : at + DIGEST_BYTES] == digest.digest():
                length = at + DIGEST_BYTES - start
                if deaggregate(bytes(view[start : start + length])) is not None:
                    return length
    except _NotAnAggregate:
        return None
    return None


def _field_end(buf: memoryview, at: int) -> int:
    """Where the protobuf field starting at ``at`` ends (any wire type but groups)."""
    tag, at = _read_varint(buf, at)
    wire = tag & 7
    if tag >> 3 == 0:
        raise _NotAnAggregate("field number 0")
    if wire == _VARINT:
        return _read_varint(buf, at)[1]
    if wire == _LEN:
        length, at = _read_varint(buf, at)
        end = at + length
    elif wire in (_I64, _I32):
        end = at + (8 if wire == _I64 else 4)
    else:
        raise _NotAnAggregate(f"wire type {wire}")
    if end > len(buf):
        raise _NotAnAggregate("truncated field")
    return end


def split_records(blob: bytes) -> list[bytes]:
    """Kinesis records back from a concatenation of them (Firehose's raw backup): each aggregate whole
    (``aggregate_length``), every other record up to and including its newline (the producer contract); a
    last record without one as it is."""
    if MAGIC not in blob:
        parts = blob.split(b"\n")
        records = [part + b"\n" for part in parts[:-1]]
        return [*records, parts[-1]] if parts[-1] else records
    records = []
    at = 0
    while at < len(blob):
        length = aggregate_length(blob, at)
        if length is None:
            newline = blob.find(b"\n", at)
            length = (len(blob) if newline < 0 else newline + 1) - at
        records.append(blob[at : at + length])
        at += length
    return records


def _read_varint(buf: memoryview, at: int) -> tuple[int, int]:
    value = shift = 0
    for i in range(_MAX_VARINT_BYTES):
        if at + i >= len(buf):
            raise _NotAnAggregate("truncated varint")
        byte = buf[at + i]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value & (2**64 - 1), at + i + 1  # protobuf keeps a varint's low 64 bits
        shift += 7
    raise _NotAnAggregate("varint longer than 10 bytes")


def _fields(buf: memoryview) -> Iterator[tuple[int, int, int | memoryview]]:
    """(field number, wire type, value) of each field of one message; unknown fields are read and skipped
    by the caller, as protobuf does."""
    at = 0
    while at < len(buf):
        tag, at = _read_varint(buf, at)
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise _NotAnAggregate("field number 0")
        if wire == _VARINT:
            value, at = _read_varint(buf, at)
            yield number, wire, value
        elif wire == _LEN:
            length, at = _read_varint(buf, at)
            if at + length > len(buf):
                raise _NotAnAggregate("truncated field")
            yield number, wire, buf[at : at + length]
            at += length
        elif wire in (_I64, _I32):
            at += 8 if wire == _I64 else 4
            if at > len(buf):
                raise _NotAnAggregate("truncated fixed-width field")
        else:  # groups (3, 4) and the unused wire types 6, 7
            raise _NotAnAggregate(f"wire type {wire}")


def _text(value: int | memoryview) -> str:
    if not isinstance(value, memoryview):
        raise _NotAnAggregate("a string field sent as a number")
    try:
        return bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        raise _NotAnAggregate("a key that is not UTF-8") from None


def _parse(message: memoryview) -> list[UserRecord]:
    keys: list[str] = []
    hash_keys: list[str] = []
    raw: list[memoryview] = []
    for number, wire, value in _fields(message):
        if wire != _LEN:  # every known field is length-delimited; a known number of another type is unknown
            continue
        if number == _KEY_TABLE:
            keys.append(_text(value))
        elif number == _HASH_KEY_TABLE:
            hash_keys.append(_text(value))
        elif number == _RECORDS:
            assert isinstance(value, memoryview)
            raw.append(value)
    if not raw:
        raise _NotAnAggregate("an aggregate of no records")
    return [_record(r, keys, hash_keys) for r in raw]


def _record(buf: memoryview, keys: list[str], hash_keys: list[str]) -> UserRecord:
    key_index: int | None = None
    hash_index: int | None = None
    data: bytes | None = None
    for number, wire, value in _fields(buf):
        if wire != (_LEN if number in (_DATA, _TAGS) else _VARINT):
            continue  # a known number with another wire type is an unknown field, as protobuf reads it
        if number == _KEY_INDEX:
            assert isinstance(value, int)
            key_index = value
        elif number == _HASH_KEY_INDEX:
            assert isinstance(value, int)
            hash_index = value
        elif number == _DATA:
            data = bytes(value)  # type: ignore[arg-type]
        elif number == _TAGS:
            assert isinstance(value, memoryview)
            _tag(value)
    if key_index is None or data is None:
        raise _NotAnAggregate("a record without its partition key index or data (both required)")
    if key_index >= len(keys) or (hash_index is not None and hash_index >= len(hash_keys)):
        raise _NotAnAggregate("a record naming a key outside its table")
    return UserRecord(keys[key_index], data, None if hash_index is None else hash_keys[hash_index])


def _tag(buf: memoryview) -> None:
    """Tags are only checked (nothing downstream sees them, their text included): ``key`` is required."""
    if not any(number == 1 and wire == _LEN for number, wire, _ in _fields(buf)):
        raise _NotAnAggregate("a tag without its key")
