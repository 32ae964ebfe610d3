"""``aws_contract.kpl_aggregation`` against awslabs' own Python aggregator and de-aggregator
(``aws-kinesis-agg``, the reference implementation of the KPL aggregated record format): what ours writes
theirs reads back identically, what theirs writes ours reads identically, and on any bytes at all ours either
finds the records protobuf itself parses or calls the input an ordinary record, never raising (property
tests: the de-aggregator parses what producers put)."""

from __future__ import annotations

import base64
import hashlib
import itertools
import sys
from typing import Any

import pytest
from google.protobuf.message import DecodeError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from aws_contract import kpl_aggregation as kpl
from aws_contract import limits
from aws_contract.kpl_aggregation import UserRecord

# aws-kinesis-agg puts its own folder on sys.path to import its generated modules: keep that to its import.
_saved_path = list(sys.path)
try:
    from aws_kinesis_agg import aggregator, deaggregator, messages_pb2
finally:
    sys.path[:] = _saved_path

keys = st.text(st.characters(codec="utf-8"), min_size=1, max_size=256)
hash_keys = st.from_regex(r"[1-9][0-9]{0,38}", fullmatch=True)


def _user_records(with_hash_keys: bool) -> st.SearchStrategy[UserRecord]:
    return st.builds(UserRecord, keys, st.binary(max_size=600), hash_keys if with_hash_keys else st.none())


user_records = _user_records(False)
# Every record of an aggregate has an explicit hash key or none has, as the KPL writes them: awslabs'
# de-aggregator gives a record without one the table's first key when others have one.
record_lists = st.booleans().flatmap(lambda ehk: st.lists(_user_records(ehk), min_size=1, max_size=40))


def theirs(data: bytes) -> list[UserRecord]:
    """What awslabs' de-aggregator makes of one Kinesis record's data (itself, when it is no aggregate)."""
    entry = {"SequenceNumber": "1", "PartitionKey": "outer", "ApproximateArrivalTimestamp": 0, "Data": data}
    out = []
    for record in deaggregator.iter_deaggregate_records([entry], data_format="Boto3"):
        k = record["kinesis"]
        if not k.get("aggregated"):
            return [UserRecord(k["partitionKey"], bytes(k["data"]))]
        out.append(UserRecord(k["partitionKey"], base64.b64decode(k["data"]), k["explicitHashKey"]))
    return out


@given(record_lists)
def test_theirs_reads_ours_and_ours_reads_ours(records: list[UserRecord]) -> None:
    data = kpl.encode(records)
    assert data.startswith(kpl.MAGIC) and data[-16:] == hashlib.md5(data[4:-16]).digest()
    assert theirs(data) == records
    assert kpl.deaggregate(data) == records


@given(record_lists)
def test_ours_reads_theirs(records: list[UserRecord]) -> None:
    agg = aggregator.AggRecord()
    for r in records:
        assert agg.add_user_record(r.partition_key, r.data, r.explicit_hash_key)
    key, _, data = agg.get_contents()
    assert key == records[0].partition_key
    assert kpl.deaggregate(data) == records
    assert len(data) == len(kpl.encode(records))  # the same bytes count, tables shared the same way


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.sampled_from(["a", "é" * 40, "k" * 256]), st.binary(max_size=9_000)), max_size=60),
    st.integers(200, limits.KINESIS_PUT_PAYLOAD_UNIT_BYTES),
)
def test_pack_keeps_every_record_in_order_within_its_size(
    items: list[tuple[str, bytes]], max_bytes: int
) -> None:
    records = [UserRecord(k, d) for k, d in items]
    entries = list(kpl.pack(records, max_bytes))
    assert [r for e in entries for r in e.records] == records
    for e in entries:
        assert e.partition_key == e.records[0].partition_key
        if e.aggregated:
            assert len(e.data) + len(e.partition_key.encode()) <= max_bytes
            assert theirs(e.data) == list(e.records) == kpl.deaggregate(e.data)
        else:  # a lone record goes exactly as the producer wrote it
            assert e.data == e.records[0].data
    # Entries are full: the next record would not have fitted in the one before it.
    for before, after in itertools.pairwise(entries):
        grown = kpl.encode([*before.records, after.records[0]])
        assert len(grown) + len(before.partition_key.encode()) > max_bytes


def test_the_default_size_is_one_put_payload_unit_and_fits_a_kinesis_record() -> None:
    assert kpl.AGGREGATE_MAX_BYTES == limits.KINESIS_PUT_PAYLOAD_UNIT_BYTES < limits.KINESIS_RECORD_MAX_BYTES
    assert kpl.AGGREGATE_MAX_BYTES % limits.FIREHOSE_BILLING_RECORD_BYTES == 0  # five whole 5 KB steps


def _envelope(message: bytes) -> bytes:
    return kpl.MAGIC + message + hashlib.md5(message).digest()


def _protobuf(message: bytes) -> list[UserRecord] | None:
    """protobuf's own reading of an AggregatedRecord, with our rule for what is still no aggregate. Its
    required fields are required, as protobuf-java's parser (the KCL's) holds them; Python's leaves that to
    ``IsInitialized``. A key that is not UTF-8 is no key (Kinesis keys are Unicode): no aggregate either."""
    parsed = messages_pb2.AggregatedRecord()
    try:
        parsed.ParseFromString(message)
        if not parsed.IsInitialized():
            return None
        pks, ehks = list(parsed.partition_key_table), list(parsed.explicit_hash_key_table)
        if not all(isinstance(k, str) for k in pks + ehks):  # upb hands back bytes that are not UTF-8
            return None
        out = []
        for r in parsed.records:
            if r.partition_key_index >= len(pks):
                return None
            ehk = None
            if r.HasField("explicit_hash_key_index"):
                if r.explicit_hash_key_index >= len(ehks):
                    return None
                ehk = ehks[r.explicit_hash_key_index]
            out.append(UserRecord(pks[r.partition_key_index], r.data, ehk))
    except (DecodeError, UnicodeDecodeError):
        return None
    return out or None


# Protobuf fields, valid and not, to build messages from: tables, records, unknown fields of every wire type.
def _field(number: int, wire: int, payload: bytes) -> bytes:
    tag = kpl_varint(number << 3 | wire)
    return tag + (kpl_varint(len(payload)) + payload if wire == 2 else payload)


def kpl_varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


small = st.integers(0, 4)
inner_fields = st.one_of(
    st.builds(lambda i: _field(1, 0, kpl_varint(i)), small),
    st.builds(lambda i: _field(2, 0, kpl_varint(i)), small),
    st.builds(lambda d: _field(3, 2, d), st.binary(max_size=20)),
    st.builds(
        lambda k, v: _field(4, 2, _field(1, 2, k) + _field(2, 2, v)),
        st.binary(max_size=5),
        st.binary(max_size=5),
    ),
    st.builds(lambda v: _field(4, 2, _field(2, 2, v)), st.binary(max_size=5)),  # a tag without its key
    st.builds(lambda n, v: _field(n, 0, kpl_varint(v)), st.integers(1, 20), st.integers(0, 2**70)),
    st.builds(lambda n: _field(n, 1, b"\x00" * 8), st.integers(1, 20)),
    st.builds(lambda n: _field(n, 5, b"\x00" * 4), st.integers(1, 20)),
    st.binary(max_size=4),  # noise
)
outer_fields = st.one_of(
    st.builds(lambda k: _field(1, 2, k), st.binary(max_size=6) | keys.map(str.encode)),
    st.builds(lambda k: _field(2, 2, k), st.binary(max_size=6)),
    st.builds(lambda fs: _field(3, 2, b"".join(fs)), st.lists(inner_fields, max_size=5)),
    st.builds(lambda n, v: _field(n, 0, kpl_varint(v)), st.integers(1, 9), st.integers(0, 300)),
    st.builds(lambda n: _field(n, 5, b"\x01\x02\x03\x04"), st.integers(1, 9)),
    st.binary(max_size=4),
)


@settings(max_examples=400)
@given(st.lists(outer_fields, max_size=12))
@example([_field(1, 2, b"k"), _field(3, 2, _field(1, 0, b"\x00") + _field(3, 2, b"x"))])
def test_ours_finds_what_protobuf_parses_in_any_envelope(fields: list[bytes]) -> None:
    message = b"".join(fields)
    assert kpl.deaggregate(_envelope(message)) == _protobuf(message)


@given(st.binary(max_size=300))
def test_any_bytes_are_an_aggregate_or_one_record_never_an_error(data: bytes) -> None:
    found = kpl.deaggregate(data)
    assert found is None or (data.startswith(kpl.MAGIC) and found == theirs(data))


@given(st.lists(user_records, min_size=2, max_size=10), st.data())
def test_one_changed_byte_makes_it_one_ordinary_record(records: list[UserRecord], data: Any) -> None:
    """A corrupt aggregate (any byte changed: magic, protobuf or digest) is not de-aggregated, by us or by
    awslabs: it goes on as one record with its bytes as put (the transform then rejects it, bytes kept)."""
    good = kpl.encode(records)
    at = data.draw(st.integers(0, len(good) - 1))
    flip = data.draw(st.integers(1, 255))
    bad = good[:at] + bytes([good[at] ^ flip]) + good[at + 1 :]
    assert kpl.deaggregate(bad) is None
    assert theirs(bad) == [UserRecord("outer", bad)]


def test_ordinary_records_and_edge_cases() -> None:
    line = b'{"event_uuid": "x"}\n'
    assert kpl.deaggregate(line) is None and kpl.deaggregate(b"") is None
    assert kpl.deaggregate(kpl.MAGIC + hashlib.md5(b"").digest()) is None  # no message at all
    assert kpl.deaggregate(_envelope(_field(1, 2, b"k"))) is None  # a table, no records
    # A record naming a key outside the table: awslabs logs it and drops the rest; here it stays whole.
    bad_index = _envelope(_field(1, 2, b"k") + _field(3, 2, _field(1, 0, b"\x01") + _field(3, 2, b"x")))
    assert kpl.deaggregate(bad_index) is None
    with pytest.raises(ValueError, match="at least one record"):
        kpl.encode([])


@pytest.mark.parametrize("count", [1, 127, 128, 300])
def test_indexes_past_one_varint_byte_round_trip(count: int) -> None:
    records = [UserRecord(f"key-{i}", b"%d" % i) for i in range(count)]
    data = kpl.encode(records)
    assert theirs(data) == records == kpl.deaggregate(data)
