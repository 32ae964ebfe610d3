"""The transform's fast path (orjson, byte templates, cached time texts) against the plain reference it
replaced: the standard library's base64 and JSON, ``enrich`` + ``row_bytes``, ``datetime.fromtimestamp``. Any
input, any outcome: the same bytes or the same rejection."""

from __future__ import annotations

import base64
import binascii
import json
import math
from datetime import UTC, datetime
from typing import Any

import pytest
from created_at_boundaries import NEAR_BOUNDARIES, reference_instant
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glue import schema
from transform_lambda import events as events_module
from transform_lambda import handler as handler_module
from transform_lambda.events import (
    Lineage,
    RecordError,
    decode,
    dumps,
    enrich,
    first_arrival,
    lineage_of,
    parse_event,
    partition_keys,
    remark,
    row_bytes,
    stored_row,
)
from transform_lambda.handler import holder_of

# JSON values as a producer may send them: big integers (beyond orjson's 64 bits), every float, any text
# (including what JSON escapes and what UTF-8 cannot carry), nesting.
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 3, max_value=2**64 + 3)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
SECONDS = st.one_of(
    st.integers(schema.MIN_CREATED_AT, schema.MAX_CREATED_AT - 1),
    st.floats(schema.MIN_CREATED_AT, schema.MAX_CREATED_AT, exclude_max=True),
    st.decimals(schema.MIN_CREATED_AT, schema.MAX_CREATED_AT - 1, places=3).map(float),
    # Just below a whole second, where rounding to the microsecond would carry into the next one.
    st.integers(schema.MIN_CREATED_AT, schema.MAX_CREATED_AT - 2).map(lambda s: s + 0.9999996),
    NEAR_BOUNDARIES.map(float).filter(lambda s: s < schema.MAX_CREATED_AT),
)


def reference_decode(data: Any) -> dict[str, Any]:
    """The decoder before orjson: the standard library end to end."""
    raw = base64.b64decode(data, validate=True)
    value = json.loads(raw.decode("utf-8"), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return value


def reference_iso(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    millis = moment.microsecond // 1000
    return f"{text}.{millis:03d}Z" if millis else f"{text}Z"


def reference_event_iso(epoch: float) -> str:
    moment = reference_instant(epoch)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    millis = moment.microsecond // 1000
    return f"{text}.{millis:03d}Z" if millis else f"{text}Z"


@pytest.mark.slow
@given(st.dictionaries(st.text(), VALUES, max_size=6))
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_decode_returns_what_the_standard_library_parses(obj: dict[str, Any]) -> None:
    try:
        text = json.dumps(obj, ensure_ascii=False)
        raw = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: send it as JSON's escape instead
        raw = json.dumps(obj).encode()
    data = base64.b64encode(raw).decode()
    got = decode(data)
    assert got == obj
    # Exactly equal, types included: a 65-bit integer stays an int (orjson would make it a float).
    assert json.dumps(got, sort_keys=True) == json.dumps(reference_decode(data), sort_keys=True)


@given(st.binary(max_size=64) | st.text(max_size=64).map(str.encode))
@settings(max_examples=400)
def test_decode_rejects_exactly_what_the_standard_library_rejects(raw: bytes) -> None:
    data = base64.b64encode(raw).decode()
    try:
        expected: Any = reference_decode(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        expected = RecordError
    if expected is RecordError:
        with pytest.raises(RecordError):
            decode(data)
    else:
        assert decode(data) == expected


@given(st.text(alphabet="ABCDabcd0123+/=\n -_", max_size=12))
def test_base64_is_as_strict_as_validating_b64decode(text: str) -> None:
    try:
        expected: bytes | None = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        expected = None
    try:
        got: bytes | None = binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        got = None
    assert got == expected


def test_a_number_beyond_a_double_is_rejected_not_stored_as_infinity() -> None:
    with pytest.raises(RecordError) as info:
        decode(base64.b64encode(b'{"x": 1e400}').decode())
    assert info.value.reason == "not_json" and "range" in info.value.detail


@given(SECONDS)
@settings(max_examples=600)
def test_event_time_texts_are_the_sent_time_truncated_in_the_second_of_created_at(epoch: float) -> None:
    """One rule: ``created_datetime`` and the partition are the instant truncated (to the millisecond, to
    the hour), in the second ``floor(created_at)`` denotes, never the next one (near second, hour, day and
    year boundaries too)."""
    assert schema.iso_utc(epoch) == reference_event_iso(epoch)
    moment = reference_instant(epoch)
    assert int(moment.timestamp()) == math.floor(epoch) == schema.split_seconds(epoch)[0]
    assert schema.partition_values("a", epoch) == {
        "event_type": "a",
        "event_date": moment.strftime("%Y-%m-%d"),
        "event_hour": moment.strftime("%H"),
    }
    assert schema.partition_values("a", epoch) == schema.partition_values("a", math.floor(epoch))


# The issue's rows, as JSON texts: (created_at, created_datetime, event_date, event_hour).
ISSUE_TIMES = [
    (b"1700002799.9999996", 1_700_002_799, "2023-11-14T22:59:59.999Z", "2023-11-14", "22"),
    (b"1700002799.9999995", 1_700_002_799, "2023-11-14T22:59:59.999Z", "2023-11-14", "22"),
    (b"4102444799.9999996", 4_102_444_799, "2099-12-31T23:59:59.999Z", "2099-12-31", "23"),
    (b"1700002799.123", 1_700_002_799, "2023-11-14T22:59:59.123Z", "2023-11-14", "22"),  # a hair below .123
    # More digits than a double holds: the double is the next second itself, and all three say so.
    (b"1700002799.99999999", 1_700_002_800, "2023-11-14T23:00:00Z", "2023-11-14", "23"),
]


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "python"])
@pytest.mark.parametrize(("text", "created_at", "created_datetime", "date", "hour"), ISSUE_TIMES)
def test_a_sub_second_time_keeps_its_second_in_all_three_values(
    monkeypatch: Any,
    compiled: bool,
    text: bytes,
    created_at: int,
    created_datetime: str,
    date: str,
    hour: str,
) -> None:
    if not compiled:
        monkeypatch.setattr(events_module, "hot_first_arrival", None)
    elif events_module.hot_first_arrival is None:
        pytest.fail("the compiled path is not built: run `pip install --no-deps -e .`")
    sent = b'{"event_uuid":"3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b","event_name":"a:b","created_at":%s}' % text
    meta = {"shardId": "shardId-000000000001", "sequenceNumber": "1", "approximateArrivalTimestamp": 1}
    record = {"recordId": "r", "data": base64.b64encode(sent).decode(), "kinesisRecordMetadata": meta}
    calls: list[Any] = []
    if compiled:
        hot = events_module.hot_first_arrival
        monkeypatch.setattr(events_module, "hot_first_arrival", lambda *a: calls.append(hot(*a)) or calls[-1])
    for _ in range(3):  # the general path learns the name, the inline path the partition, then the fastest
        (answer,) = handler_module.process(
            {"records": [record]}, claims=handler_module.NoClaims(), log=lambda _: None
        )["records"]
    assert not compiled or calls[-1] is not None  # the compiled path wrote the row
    row = json.loads(base64.b64decode(answer["data"]))
    keys = answer["metadata"]["partitionKeys"]
    assert (row["created_at"], row["created_datetime"]) == (created_at, created_datetime)
    assert (keys["event_date"], keys["event_hour"]) == (date, hour)


@given(st.integers(0, 4_102_444_800_000))
def test_arrival_texts_match_datetime(arrival_ms: int) -> None:
    assert schema.iso_utc_at(*divmod(arrival_ms, 1000)) == reference_iso(arrival_ms / 1000)


EVENTS = st.fixed_dictionaries(
    {
        "event_uuid": st.uuids().map(str).filter(lambda u: u != "00000000-0000-0000-0000-000000000000"),
        "event_name": st.builds(
            lambda t, rest: ":".join([t, *rest]),
            st.from_regex(r"[a-z_][a-z0-9_.-]{0,10}", fullmatch=True),
            st.lists(st.text(min_size=1).filter(lambda s: ":" not in s), max_size=2),
        ),
        "created_at": SECONDS,
    },
    optional={
        "payload_field": VALUES,
        "note": st.text(),
        "amount": st.integers() | st.floats(allow_nan=False),
    },
)
LINEAGES = st.builds(
    Lineage,
    st.none() | st.just("shardId-000000000007"),
    st.none() | st.from_regex(r"[0-9]{1,56}", fullmatch=True),
    st.none() | st.integers(0, 4_102_444_799_999),
    st.none() | st.integers(0, 10),
)


@pytest.mark.slow
@given(EVENTS, LINEAGES)
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_the_stored_row_is_the_reference_row_byte_for_byte(obj: dict[str, Any], lineage: Lineage) -> None:
    if any(math.isinf(v) for v in obj.values() if isinstance(v, float)):
        return
    event = parse_event(obj)
    try:
        reference = row_bytes(enrich(event, lineage, is_duplicate=False))
    except UnicodeEncodeError:  # a lone surrogate: both paths must refuse the row
        with pytest.raises(UnicodeEncodeError):
            stored_row(event, lineage)
        return
    assert list(enrich(event, lineage)) == list(schema.COLUMN_NAMES)  # the columns, in Glue's order
    data, partition = stored_row(event, lineage)
    expected = reference.replace(b'"uuid_reused":null', b'"uuid_reused":false', 1)
    assert base64.b64decode(data) == expected
    assert partition == partition_keys(event)
    assert json.loads(json.loads(expected)["payload"]) == json.loads(dumps(event.payload))
    for marks in [(True, False), (False, True), (None, None)]:
        remarked = json.loads(base64.b64decode(remark(data, *marks)))
        assert (remarked["is_duplicate"], remarked["uuid_reused"]) == marks
        assert {k: v for k, v in remarked.items() if k not in ("is_duplicate", "uuid_reused")} == {
            k: v for k, v in json.loads(expected).items() if k not in ("is_duplicate", "uuid_reused")
        }


def test_the_payload_keeps_integers_beyond_64_bits_exactly() -> None:
    obj = {
        "event_uuid": "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b",
        "event_name": "a",
        "created_at": 1_764_072_000,
    }
    big = 2**64 + 1
    data = base64.b64encode(json.dumps({**obj, "n": big, "m": 12345678901234567890123}).encode()).decode()
    row, _ = stored_row(parse_event(decode(data)), Lineage(None, None, None))
    payload = json.loads(json.loads(base64.b64decode(row))["payload"])
    assert payload == {"n": big, "m": 12345678901234567890123}


def _general(record: dict[str, Any]) -> Any:
    """The general path as the handler ran it before the inline one: decode, parse, lineage, stored_row."""
    event = parse_event(decode(record.get("data")))
    data, partition = stored_row(event, lineage_of(record))
    return data, {"partitionKeys": partition}, event.event_uuid.lower()


def _outcome(call: Any, record: dict[str, Any]) -> Any:
    try:
        return call(record)[:3]
    except RecordError as exc:
        return ("rejected", exc.reason, exc.detail)
    except UnicodeEncodeError:
        return ("unencodable",)


KINESIS_METADATA = st.fixed_dictionaries(
    {},
    optional={
        "shardId": st.just("shardId-000000000007") | st.just("") | st.none() | st.integers(0, 9),
        "sequenceNumber": st.from_regex(r"[0-9]{1,56}", fullmatch=True) | st.just("") | st.integers(0, 99),
        "subsequenceNumber": st.integers(0, 10) | st.just(""),
        "approximateArrivalTimestamp": st.integers(0, 4_102_444_799_999)
        | st.just("2026-11-25T07:00:00.123Z")
        | st.floats(0, 4e12),
    },
)
# What reaches the transform: valid events, each field possibly of the wrong type or value, and raw bytes.
SENT = st.one_of(
    EVENTS.map(lambda o: json.dumps(o, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    st.builds(
        lambda o, key, value: json.dumps({**o, key: value}).encode(),
        EVENTS,
        st.sampled_from(schema.INPUT_FIELDS),
        VALUES | st.just("00000000-0000-0000-0000-000000000000") | st.just(float("nan")),
    ),
    st.builds(lambda o: json.dumps(o).replace("1", "1" * 20, 1).encode(), EVENTS),
    st.binary(max_size=40),
)


@pytest.mark.slow
@given(SENT, KINESIS_METADATA | st.none() | st.just("metadata"), st.booleans())
@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
def test_the_inline_path_gives_what_the_general_path_gives(sent: bytes, meta: Any, as_base64: bool) -> None:
    """The handler's inline common case (``first_arrival``) and the general path: the same row, partition
    and key, or the same rejection, for any record; and the fields it hands the fingerprint are the event's.
    """
    record: dict[str, Any] = {"recordId": "r", "data": base64.b64encode(sent).decode() if as_base64 else sent}
    if meta is not None:
        record["kinesisRecordMetadata"] = meta
    expected = _outcome(_general, record)
    with pytest.MonkeyPatch.context() as patch:  # the Python paths (test_hot_path.py: the compiled one)
        patch.setattr(events_module, "hot_first_arrival", None)
        assert _outcome(first_arrival, record) == expected
        assert _outcome(first_arrival, record) == expected  # again, once the event's name is known
        try:
            fields = first_arrival(record)[3]
        except (RecordError, UnicodeEncodeError):
            return
    assert fields is not None
    event = parse_event(decode(record["data"]))
    assert {f: fields.get(f) for f in (*schema.INPUT_FIELDS, *event.payload)} == {
        **{f: getattr(event, f) for f in schema.INPUT_FIELDS},
        **event.payload,
    }


def test_the_inline_path_shares_one_metadata_per_partition() -> None:
    """The response's ``metadata`` is shared by the records of a partition (it is only serialised)."""
    meta = {"shardId": "shardId-000000000001", "sequenceNumber": "1", "approximateArrivalTimestamp": 1}
    sent = {"event_uuid": "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b", "event_name": "a:b"}
    times = [1_764_072_000, 1_764_072_001.5, 1_764_075_600]
    texts = [json.dumps({**sent, "created_at": t}).encode() for t in times]
    records = [{"recordId": str(i), "data": base64.b64encode(t).decode()} for i, t in enumerate(texts)]
    for record in records:
        record["kinesisRecordMetadata"] = meta
    first_arrival(records[0])  # a name's first record takes the general path, which validates and learns it
    first, second, third = (first_arrival(r)[1] for r in records)
    assert first is second and first is not third
    assert third == {"partitionKeys": {"event_type": "a", "event_date": "2025-11-25", "event_hour": "13"}}


@pytest.mark.parametrize("created_at", [1_764_072_000, 1_764_072_000.9999996])
def test_a_plain_record_takes_the_inline_path(monkeypatch: Any, created_at: float) -> None:
    """The equivalence above holds only if the inline path runs: a plain record must not fall through."""
    meta = {"shardId": "shardId-000000000001", "sequenceNumber": "1", "approximateArrivalTimestamp": 1}
    sent = {"event_uuid": "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b", "event_name": "a:b", "x": 'é"\n'}
    record = {
        "recordId": "r",
        "data": base64.b64encode(json.dumps({**sent, "created_at": created_at}).encode()).decode(),
        "kinesisRecordMetadata": meta,
    }
    expected = _general(record)
    monkeypatch.setattr(events_module, "hot_first_arrival", None)  # test_hot_path.py: the compiled one
    monkeypatch.setattr(events_module, "first_arrival_in_general", lambda _: pytest.fail("general path"))
    assert first_arrival(record)[:3] == expected


def test_both_python_paths_write_the_one_row(monkeypatch: Any) -> None:
    """``events.row`` is the one Python definition of the stored row: the inline path and the general path
    both write what it returns (a column added there shows in both)."""
    meta = {"shardId": "shardId-000000000001", "sequenceNumber": "1", "approximateArrivalTimestamp": 1}
    sent = {
        "event_uuid": "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b",
        "event_name": "a:b",
        "created_at": 1_764_072_000,
    }
    record = {"recordId": "r", "data": base64.b64encode(json.dumps(sent).encode()).decode()}
    record["kinesisRecordMetadata"] = meta
    monkeypatch.setattr(events_module, "hot_first_arrival", None)
    first_arrival(record)  # the name learned: the next one takes the inline path
    one_row = events_module.row
    monkeypatch.setattr(events_module, "row", lambda *values: {**one_row(*values), "region": "eu"})
    general = events_module.first_arrival_in_general(record)
    monkeypatch.setattr(events_module, "first_arrival_in_general", lambda _: pytest.fail("general path"))
    inline = first_arrival(record)
    assert inline[0] == general[0]
    assert json.loads(base64.b64decode(inline[0])) == {
        **json.loads(base64.b64decode(_general(record)[0])),
        "region": "eu",
    }


@given(KINESIS_METADATA | st.none() | st.just("metadata"), st.none() | st.text(max_size=4))
def test_the_holder_read_inline_is_the_holder_of_the_lineage(meta: Any, record_id: str | None) -> None:
    record: dict[str, Any] = {"recordId": record_id}
    if meta is not None:
        record["kinesisRecordMetadata"] = meta
    assert holder_of(record) == handler_module.claim_holder(record, lineage_of(record))


@pytest.mark.slow
@given(st.dictionaries(st.text(), VALUES, max_size=6))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_the_payload_text_holds_the_same_values_as_the_standard_librarys(obj: dict[str, Any]) -> None:
    """``dumps`` (orjson, the standard library as fallback) writes what ``json.dumps`` would, value for value:
    only a float's notation may differ (``1e-7`` for ``1e-07``)."""
    try:
        expected = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        expected.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no stored text for either
        with pytest.raises(UnicodeEncodeError):
            dumps(obj).encode("utf-8")
        return
    text = dumps(obj)
    assert json.loads(text) == json.loads(expected)
    if not any(isinstance(v, float) for v in _leaves(obj)):
        assert text == expected
    else:
        assert len(text) <= len(expected) + 8 * len(list(_leaves(obj)))  # compact too


def _leaves(value: Any) -> Any:
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    else:
        yield value
