"""The compiled path (``transform_lambda/_hotpath.c``) against the Python paths it speeds up: for any record
it takes, the same row bytes, partition metadata and dedupe key; every other record it hands back (None) for
Python to decide. Producers' JSON is written here as producers write it: any spacing, any escapes (``\\/``,
``\\u`` in either case, surrogate pairs), numbers in every notation, duplicate keys, invalid UTF-8."""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import math
import os
import random
from pathlib import Path
from typing import Any

import corpora
import orjson
import pytest
from created_at_boundaries import NEAR_BOUNDARIES, reference_instant
from differential import META
from differential import firehose_record as _record
from differential import general as _general
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from benchmarks import transform as bench
from glue import marks as dedupe_modes
from glue import schema
from infra import sizing
from transform_lambda import events as events_module
from transform_lambda.claims import NoClaims
from transform_lambda.events import RecordError, decode, first_arrival, parse_event
from transform_lambda.handler import DedupeConfig, process
from transform_lambda.metrics import COMPILED_RECORDS

hot = events_module.hot_first_arrival
UUID = "3f2b8c1e-9a4d-4e6f-8b7a-1c2D3E4F5A6B"


def test_the_compiled_path_is_built_here() -> None:
    """Set-up (``pip install -e .``, which ``make`` runs) builds it; without it the benchmarks and the
    equivalence tests below would measure and test the Python paths alone."""
    assert hot is not None, "transform_lambda/_hotpath.c is not built: run `pip install --no-deps -e .`"


def _compiled(record: dict[str, Any], monkeypatch: pytest.MonkeyPatch, unmarked: bool = False) -> Any:
    """The compiled path's answer, once the Python path has seen the record's name and partition (as it
    has in a Lambda container after the first record of each)."""
    with monkeypatch.context() as patch:
        patch.setattr(events_module, "hot_first_arrival", None)
        for _ in range(2):  # the general path learns the name, the inline path then the partition
            with contextlib.suppress(RecordError, UnicodeEncodeError, ValueError, OverflowError):
                first_arrival(record)
    assert hot is not None
    return hot(record, events_module.NAME_PARTS, events_module.PARTITION_METADATA, unmarked << 1)


# ---- JSON as producers write it -------------------------------------------------------------------------

SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _string(text: str, rnd: random.Random) -> str:
    out = ['"']
    for char in text:
        code = ord(char)
        escape = rnd.random() < 0.15
        if char in SHORT and (escape or char in '"\\' or code < 0x20) and rnd.random() < 0.7:
            out.append(SHORT[char])
        elif code < 0x20 or char in '"\\' or escape:
            if char == "/" and rnd.random() < 0.5:
                out.append("\\/")
            elif code > 0xFFFF:
                high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
                out.append(f"\\u{high:04x}\\u{low:04X}")
            else:
                out.append(f"\\u{code:04x}" if rnd.random() < 0.5 else f"\\u{code:04X}")
        else:
            out.append(char)  # a lone surrogate stays raw: invalid UTF-8 once encoded
    out.append('"')
    return "".join(out)


def _number(value: int | float, rnd: random.Random) -> str:
    if isinstance(value, int):
        return rnd.choice([str(value), str(value), "-0" if value == 0 else str(value)])
    forms = [repr(value), json.dumps(value), f"{value:.17g}", f"{value:.15g}", f"{value:e}", f"{value:.3f}"]
    forms += [corpora.js_number(value), f"{value:.20E}", f"{value:.16e}".replace("e", "e+0")]
    text = rnd.choice(forms)
    return text if any(c in text for c in ".eE") or "n" in text else text + ".0"


def _json(value: Any, rnd: random.Random, depth: int = 0) -> str:
    space = lambda: rnd.choice(["", "", "", " ", "\n  ", "\t"])  # noqa: E731
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | float):
        return _number(value, rnd)
    if isinstance(value, str):
        return _string(value, rnd)
    if isinstance(value, list):
        return "[" + space() + ("," + space()).join(_json(v, rnd, depth + 1) for v in value) + space() + "]"
    items = list(value.items())
    if items and rnd.random() < 0.05:
        items.append(rnd.choice(items))  # a duplicate key
    members = [
        space() + _string(k, rnd) + space() + ":" + space() + _json(v, rnd, depth + 1) for k, v in items
    ]
    return "{" + ",".join(members) + space() + "}"


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-(10**19), 10**19)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.decimals(places=3, min_value=-(10**6), max_value=10**6, allow_nan=False).map(float)
    | st.text()
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
VALID_NAMES = ["order:placed", "payment:order:completed", "account", "é:ü", "a b:c", 'a:"q"', "a:\\b"]
NAMES = st.sampled_from([*VALID_NAMES, "a::b", "-x:y", ""])  # the last three never valid
UUIDS = st.sampled_from([UUID, UUID.lower(), "00000000-0000-0000-0000-000000000000", "3f2b8c1e", "x" * 36])
CREATED = st.one_of(
    st.integers(schema.MIN_CREATED_AT - 2, schema.MAX_CREATED_AT + 2),
    st.floats(schema.MIN_CREATED_AT - 1, schema.MAX_CREATED_AT + 1),
    st.integers(schema.MIN_CREATED_AT, schema.MAX_CREATED_AT - 2).map(lambda s: s + 0.9999996),
    st.decimals(schema.MIN_CREATED_AT, schema.MAX_CREATED_AT - 1, places=3).map(float),
    NEAR_BOUNDARIES.map(float),  # fractions near a second, hour, day and year boundary
    st.just("1764072000") | st.just(None) | st.just(True),
)
EVENTS = st.fixed_dictionaries(
    {"event_uuid": UUIDS, "event_name": NAMES, "created_at": CREATED},
    optional={"payload": VALUES, "note": st.text(), "amount": SCALARS, "nested": VALUES},
)
METAS = st.one_of(
    st.just(META),
    st.fixed_dictionaries(
        {},
        optional={
            "shardId": st.sampled_from(["shardId-000000000001", "", 'sh"ard\n', "\ud800", 7]),
            "sequenceNumber": st.from_regex(r"[0-9]{1,56}", fullmatch=True) | st.just(""),
            "approximateArrivalTimestamp": st.integers(-5, 2**64)
            | st.integers(0, 253_402_300_799_999)
            | st.just(True)
            | st.just("2026-11-25T07:00:00.123Z"),
            "subsequenceNumber": st.integers(0, 3),
        },
    ),
    st.none(),
)


@pytest.mark.slow
@given(
    EVENTS, st.randoms(use_true_random=False), METAS, st.sampled_from(["none", "order", "raw"]), st.booleans()
)
@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_compiled_path_writes_what_the_python_path_writes(
    obj: dict[str, Any], rnd: random.Random, meta: Any, variant: str, unmarked: bool
) -> None:
    """Byte for byte, with both marks false (claims) or null (a first arrival left for compaction); and in
    every row either path writes, ``created_at``, ``created_datetime`` and the hour partition denote the same
    second, the sent time truncated (``_assert_one_second``)."""
    items = list(obj.items())
    if variant == "order":
        rnd.shuffle(items)
    text = _json(dict(items), rnd)
    raw = text.encode("utf-8", "surrogatepass")
    if variant == "raw" and raw:  # any byte broken: bad UTF-8, bad JSON
        at = rnd.randrange(len(raw))
        raw = raw[:at] + bytes([rnd.randrange(256)]) + raw[at + 1 :]
    record = _record(raw, meta)
    with pytest.MonkeyPatch.context() as patch:
        answer = _compiled(record, patch, unmarked)
    expected = _general(record, unmarked)
    if expected[0] not in ("rejected", "unencodable", "failed"):
        _assert_one_second(record, *expected[:2])
    if answer is not None:
        assert expected[0] not in ("rejected", "unencodable", "failed"), expected
        assert answer[:3] == expected
        assert answer[3] is None
        _assert_fields_as_sent(record)


def _assert_one_second(record: dict[str, Any], data: str, metadata: dict[str, Any]) -> None:
    """The row's three times agree: ``created_at`` is the second of ``created_datetime``, which is the sent
    time truncated to the millisecond (never the next second), and the partition is that second's hour."""
    row = json.loads(base64.b64decode(data))
    sent = parse_event(decode(record["data"])).created_at
    moment = reference_instant(sent) if type(sent) is float else reference_instant(float(sent))
    assert row["created_at"] == math.floor(sent) == int(moment.timestamp())
    millis = f".{moment.microsecond // 1000:03d}" if moment.microsecond >= 1000 else ""
    assert row["created_datetime"] == moment.strftime("%Y-%m-%dT%H:%M:%S") + millis + "Z"
    keys = metadata["partitionKeys"]
    assert (keys["event_date"], keys["event_hour"]) == (moment.strftime("%Y-%m-%d"), moment.strftime("%H"))


def _assert_fields_as_sent(record: dict[str, Any]) -> None:
    """Asked for them, the compiled path hands over the event's three common fields as the Python path
    parses them, types included (``1`` and ``1.0`` fingerprint differently), and the same row."""
    assert hot is not None
    known = events_module.NAME_PARTS, events_module.PARTITION_METADATA
    answer, with_fields = hot(record, *known, False), hot(record, *known, True)
    assert with_fields[:3] == answer[:3]
    event = parse_event(decode(record["data"]))
    sent = {f: getattr(event, f) for f in schema.INPUT_FIELDS}
    assert with_fields[3] == sent
    assert [type(v) for v in with_fields[3].values()] == [type(v) for v in sent.values()]


@pytest.mark.parametrize("name", list(corpora.CORPORA))
def test_each_corpus_takes_the_compiled_path_and_answers_as_the_python_paths(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each producer's corpus through the handler, with and without the compiled path: the same responses
    byte for byte (marks and fingerprints included); once a container has seen each name and partition,
    every valid record takes the compiled path."""
    event = {"records": [sizing.firehose_record(raw, i) for i, raw in enumerate(corpora.generate(name, 300))]}
    quiet = lambda _: None  # noqa: E731
    taken: list[bool] = []

    def counting(*args: Any) -> Any:
        answer = hot(*args)  # type: ignore[misc]
        taken.append(answer is not None)
        return answer

    first = process(event, claims=_Remembering(), log=quiet)  # learns the names and partitions
    monkeypatch.setattr(events_module, "hot_first_arrival", counting)
    with_hot = process(event, claims=_Remembering(), log=quiet)
    monkeypatch.setattr(events_module, "hot_first_arrival", None)
    without = process(event, claims=_Remembering(), log=quiet)
    assert first == with_hot == without
    valid = sum(r["result"] == "Ok" for r in without["records"])
    assert valid == len(event["records"]) and all(taken) and len(taken) == valid


def test_every_valid_sample_record_takes_the_compiled_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo's events (floats, non-ASCII, escapes, spaced and compact JSON): none falls back."""
    records = [r for event in bench.batches(3_000, seed=11) for r in event["records"]]
    taken = fallen_back = 0
    for record in records:
        answer = _compiled(record, monkeypatch)
        expected = _general(record)
        if expected[0] in ("rejected", "unencodable", "failed"):
            assert answer is None
        elif answer is None:
            fallen_back += 1
        else:
            assert answer[:3] == expected
            _assert_fields_as_sent(record)
            taken += 1
    assert taken > 2_500 and fallen_back == 0


ACCEPTED = [
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000}',
    b'{ "created_at" : 1764072000.5 ,\n "event_name": "order:placed", "event_uuid": "%s" , "x": [ ] }',
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000.9999996,"p":{}}',
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"t":"\\u00e9\\/\\ud83d\\udc4d\\"\\u001F"}',
    b'{"event_uuid":"%s","event_name":"\\u006frder:placed","created_at":1764072000,"n":[-0.0,0.00001,12.5,1.0]}',
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"big":-999999999999999999}',
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"k":{"a":{"a":1},"b":[{"a":2}]}}',
    '{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"é":"ü\u2028\x7f"}'.encode(),
    # every number notation, written as orjson writes its value
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"x":[1e5,1E+5,-0,1.50,0.000001]}',
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"x":[1.5e-7,1e-05,1.5e-05,1e16]}',
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"x":[0.1234567890123456,1e22]}',
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"x":[0.30000000000000004,5e-324]}',
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"x":[1.7976931348623157e308,0e0]}',
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"x":[-0.0,-0e-3,123.4560e2]}',
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"x":[1234567890123456789,-1]}',
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"x":18446744073709551615}',
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"x":-9223372036854775808}',
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"x":1.00000000000000000000001}',
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"x":"1764072000123456789"}',
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,'
    + b",".join(b'"k%d":%s' % (i, b"null" if i % 2 else b"1.5e-7") for i in range(300))
    + b"}",  # 300 keys
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"x":['
    + b",".join(b'{"a":%d,"b":{"a":1e1}}' % i for i in range(100))
    + b"]}",  # the same keys in many objects
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,'
    + b",".join(b'"k%d":{"j%d":%d}' % (i, i, i) for i in range(2100))
    + b"}",  # more keys than the small key table holds: parsed again with the large one
]
REFUSED = [
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"x":1,"x":2}',  # duplicate key
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"event_uuid":"%s"}',
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"x":18446744073709551616}',
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"x":-9223372036854775809}',
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"x":[1,100000000000000000000]}',
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"x":1e400}',  # no double
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"x":-1e309}',
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"x":{"k":1,"k":1}}',
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"a":1,'
    + b",".join(b'"k%d":%d' % (i, i) for i in range(200))
    + b',"a":2}',  # a duplicate among 200 keys
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"a":1,'
    + b",".join(b'"k%d":%d' % (i, i) for i in range(3000))
    + b',"a":2}',  # a duplicate among 3,000 keys (the large key table's)
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,'
    + b",".join(b'"k%d":%d' % (i, i) for i in range(32_800))
    + b"}",  # more keys than the large key table holds
    # numbers that would grow the payload past twice the record's size (1e9 is written 1000000000.0)
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"x":[' + b"1e9," * 2000 + b"1]}",
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"x":"\\ud800"}',  # lone
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"x":"\xff"}',  # not UTF-8
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"x":"\xed\xa0\x80"}',
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000} x',  # trailing text
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"x":'
    + b"[" * 70
    + b"]" * 70
    + b"}",  # nested deeper than it follows
    b'{"event_uuid":"%s","event_name":"order:new","created_at":1764072000}',  # a name not yet validated
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":"1764072000"}',
    b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,}',
    b'{"event_uuid":"%s","event_name":"order:placed"}',
]


@pytest.mark.parametrize("text", ACCEPTED)
def test_what_the_compiled_path_takes(text: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    record = _record(text.replace(b"%s", UUID.encode()))
    answer = _compiled(record, monkeypatch)
    assert answer is not None
    assert answer[:3] == _general(record)


@pytest.mark.parametrize("text", REFUSED)
def test_what_the_compiled_path_hands_back(text: bytes) -> None:
    record = _record(text.replace(b"%s", UUID.encode()))
    names = {"order:placed": ("order", "placed")}  # only this name is known valid
    metadatas = {("order", 1_764_072_000 // 3600): {"partitionKeys": {}}}
    assert hot is not None
    assert hot(record, names, metadatas, False) is None
    plain = b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000}'
    assert (
        hot(_record(plain.replace(b"%s", UUID.encode())), names, metadatas, False) is not None
    )  # the control


@pytest.mark.parametrize(
    "meta",
    [
        None,
        {**META, "shardId": ""},
        {**META, "shardId": "\ud800"},
        {**META, "approximateArrivalTimestamp": True},
        {**META, "approximateArrivalTimestamp": 2**70},
        {**META, "approximateArrivalTimestamp": -1},
        {**META, "approximateArrivalTimestamp": "1764072000123"},
    ],
)
def test_lineage_it_cannot_write_goes_back_to_python(meta: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    text = b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000}'
    record = _record(text.replace(b"%s", UUID.encode()), meta)
    _compiled(_record(text.replace(b"%s", UUID.encode())), monkeypatch)  # name and partition known
    assert hot is not None
    known = events_module.NAME_PARTS, events_module.PARTITION_METADATA, False
    assert hot(record, *known) is None
    assert hot({**record, "data": record["data"][:-1]}, *known) is None


class _Remembering:
    """A claim store that remembers ids in memory: every record's fingerprint is computed."""

    def __init__(self) -> None:
        self.owners: dict[str, Any] = {}

    def claim(self, claims: Any) -> dict[str, Any]:
        return {c.key: self.owners.setdefault(c.key, c) for c in claims}


def test_the_handler_marks_the_same_with_and_without_the_compiled_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Fingerprints need the event's fields, which the compiled path does not keep: the handler parses them
    again, and repeats and reused ids are marked as the Python path marks them."""
    events = bench.batches(4_000, seed=3)
    with_hot = [process(e, claims=_Remembering(), log=lambda _: None) for e in events]
    monkeypatch.setattr(events_module, "hot_first_arrival", None)
    without = [process(e, claims=_Remembering(), log=lambda _: None) for e in events]
    assert with_hot == without
    marks = [
        json.loads(base64.b64decode(r["data"]))["is_duplicate"]
        for b in with_hot
        for r in b["records"]
        if r["result"] == "Ok"
    ]
    assert marks.count(True) > 0


def _odd_batch() -> dict[str, Any]:
    """The demo's events with what a batch can hold besides: entries that are no objects or have no recordId
    (valid events among them), a name the container has not seen, records without lineage, repeats of one id
    with the same and with another fingerprint, next to each other and far apart."""
    event = bench.batches(600, seed=21)[0]
    records = event["records"][:400]
    again = [dict(r) for r in records[:40:3]]  # repeats, same fingerprint
    sent = b'{"event_uuid":"%s","event_name":"order:placed","created_at":%d}'
    ids = [json.loads(base64.b64decode(r["data"])).get("event_uuid", UUID) for r in records[5:60:7]]
    reused = [_record(sent % (uuid.encode(), 1764072000 + i)) for i, uuid in enumerate(ids)]  # another print
    unseen = _record(b'{"event_uuid":"%s","event_name":"never:seen","created_at":1764072000}' % UUID.encode())
    no_id = dict(records[2])
    del no_id["recordId"]
    no_lineage = {k: v for k, v in records[9].items() if k != "kinesisRecordMetadata"}
    records[100:100] = [*again, "not a record", None, no_id, unseen, dict(unseen), no_lineage, *reused]
    records += [dict(r) for r in records[:30]]
    for index, record in enumerate(records):
        if type(record) is dict and "recordId" in record:
            record["recordId"] = f"r{index}"
    return {**event, "records": records}


@pytest.mark.parametrize("mode", ["claims", "compaction", "off"])
@pytest.mark.parametrize("remembering", [False, True])
def test_the_compiled_batch_answers_as_one_record_at_a_time(
    mode: str, remembering: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The handler's loop in C (``first_arrivals``), the handler calling the compiled path per record (any
    stand-in for it), and the Python paths alone: the same response, marks, log lines and compiled records."""
    event = _odd_batch()
    dedupe = DedupeConfig(mode=dedupe_modes.mode(mode))

    def handle() -> tuple[Any, list[dict[str, Any]]]:
        logs: list[dict[str, Any]] = []
        claims = _Remembering() if remembering else NoClaims()
        response = process(json.loads(json.dumps(event)), claims=claims, log=logs.append, dedupe=dedupe)
        return response, [{k: v for k, v in line.items() if k != "_aws"} for line in logs]

    handle()  # the names and partitions learned, as in a warm container
    batched = handle()
    assert hot is not None
    monkeypatch.setattr(events_module, "hot_first_arrival", lambda *args: hot(*args))
    one_by_one = handle()
    monkeypatch.setattr(events_module, "hot_first_arrival", None)
    python = handle()
    assert batched == one_by_one
    assert batched[0] == python[0]
    (summary,) = [line for line in batched[1] if line["message"] == "batch processed"]
    (python_summary,) = [line for line in python[1] if line["message"] == "batch processed"]
    assert summary["compiled_records"] > 400 and python_summary["compiled_records"] == 0
    counts = ("compiled_path", "compiled_records", COMPILED_RECORDS)
    plain = [
        [{k: v for k, v in line.items() if k not in counts} for line in run[1]] for run in (batched, python)
    ]
    assert plain[0] == plain[1]
    rows = [json.loads(base64.b64decode(r["data"])) for r in batched[0]["records"] if r["result"] == "Ok"]
    if mode != "off":
        assert {(r["is_duplicate"], r["uuid_reused"]) for r in rows} >= {(True, False), (False, True)}


def test_the_compiled_batch_stops_where_it_hands_back() -> None:
    """Called from a record, it writes up to the next record it hands back (the Python paths decide that
    one) and returns its index; the records it wrote are answered, their ids entered, repeats listed."""
    assert hot is not None
    module = pytest.importorskip("transform_lambda._hotpath")
    records = [r for r in bench.batches(200, seed=4)[0]["records"][:60] if r]
    for record in records:  # names and partitions learned
        with contextlib.suppress(Exception):
            first_arrival(record)
    names, metadatas = events_module.NAME_PARTS, events_module.PARTITION_METADATA
    records[10] = {**records[10], "data": "not base64"}
    records[20] = dict(records[3])
    out: list[Any] = [None] * len(records)
    first: dict[str, int] = {}
    repeats: list[Any] = []
    sents: dict[int, Any] = {}
    stopped = module.first_arrivals(records, 0, names, metadatas, 4, "Ok", out, first, repeats, sents)
    assert stopped == 10 and out[10:] == [None] * (len(records) - 10)
    for index in range(10):
        data, metadata, key, _ = hot(records[index], names, metadatas, 0)
        assert out[index] == {
            "recordId": records[index]["recordId"],
            "result": "Ok",
            "data": data,
            "metadata": metadata,
        }
        assert list(out[index]) == [
            "recordId",
            "result",
            "data",
            "metadata",
        ]  # the order the response is written in
        assert first[key] == index
    stopped = module.first_arrivals(records, 11, names, metadatas, 4, "Ok", out, first, repeats, sents)
    assert stopped == len(records) or out[stopped] is None
    key = hot(records[3], names, metadatas, 0)[2]
    assert (20, key) in repeats and sents[20] == hot(records[3], names, metadatas, 1)[3]
    with pytest.raises(ValueError, match="start"):
        module.first_arrivals(
            records, len(records) + 1, names, metadatas, 0, "Ok", out, first, repeats, sents
        )
    with pytest.raises(TypeError, match="first_arrivals"):
        module.first_arrivals(tuple(records), 0, names, metadatas, 0, "Ok", out, first, repeats, sents)


def _decimals() -> list[str]:
    """Decimal texts around every edge of the compiled path's number rule (significant digits, whole digits,
    leading fraction zeros, trailing zeros, signs): each either written back unchanged or handed back."""
    texts = set()
    for whole_digits in range(18):
        for zeros in range(7):
            for fraction_digits in range(18):
                for digit in "159":
                    whole = "0" if whole_digits == 0 else "1" + digit * (whole_digits - 1)
                    fraction = "0" * zeros + (digit * fraction_digits if fraction_digits else "")
                    for text in (f"{whole}.{fraction or '0'}", f"{whole}.{fraction}0" if fraction else None):
                        if text:
                            texts.update((text, "-" + text))
    return sorted(texts)


def _exponents() -> list[str]:
    """Exponent notation over a double's whole range, as producers spell it: ``1e-05`` (Python), ``1.5e-7``
    (JavaScript), ``1E+16``, ``12345678901234567e-3``; subnormals, the largest double, zero."""
    texts = {"0e0", "-0E-0", "0.0e5", "5e-324", "1.7976931348623157e308", "2.2250738585072014e-308"}
    for mantissa in ("1", "-1", "1.5", "9.999999999999999", "12345678901234567", "0.1", "1.00"):
        for power in range(-330, 311, 3):
            for marker in ("e", "E", "e+" if power >= 0 else "e"):
                texts.add(f"{mantissa}{marker}{power}" if power < 0 else f"{mantissa}{marker}{power:02d}")
    return sorted(texts)


def _integers() -> list[str]:
    """Integers at every digit count up to 20, around orjson's 64-bit bounds (-2^63 and 2^64 - 1)."""
    texts = {"0", "-0", str(2**63 - 1), str(-(2**63)), str(2**64 - 1), str(2**63)}
    for digits in range(1, 21):
        for lead in "19":
            texts.update((lead + "0" * (digits - 1), "-" + lead * digits, lead * digits))
    return sorted(texts)


def test_every_number_notation_is_written_as_the_python_paths_write_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The number rule, swept: every decimal, exponent and integer within orjson's 64 bits takes the
    compiled path, written as orjson writes the value (which an orjson upgrade could change); beyond a
    double's range (rejected) or 64 bits (the payload written by the standard library) it is handed back."""
    sent = b'{"event_uuid":"%s","event_name":"order:placed","created_at":1764072000,"x":%s}'
    _compiled(_record(sent % (UUID.encode(), b"1")), monkeypatch)  # name and partition known
    assert hot is not None
    known = events_module.NAME_PARTS, events_module.PARTITION_METADATA, False
    handed_back = []
    texts = _decimals() + _exponents() + _integers()
    for text in texts:
        record = _record(sent % (UUID.encode(), text.encode()))
        answer = hot(record, *known)
        expected = _general(record)
        if answer is None:
            handed_back.append(text)
            value = json.loads(text)
            assert not math.isfinite(value) if isinstance(value, float) else not -(2**63) <= value < 2**64
        else:
            assert answer[:3] == expected, text
    assert len(handed_back) < len(texts) / 20  # 1e309 and beyond; 20-digit integers beyond 2^64 - 1


def test_configure_refuses_bounds_its_arithmetic_is_not_written_for() -> None:
    module = pytest.importorskip("transform_lambda._hotpath")
    for low, high in [(-1, 10), (10, 10), (0, 253_402_300_801)]:
        with pytest.raises(ValueError, match="configure"):
            module.configure(low, high, schema.COLUMN_NAMES)
    module.configure(schema.MIN_CREATED_AT, schema.MAX_CREATED_AT, schema.COLUMN_NAMES)  # as events.py set it


# ---- one definition of the stored row: glue.schema's columns, in its order --------------------------------


def test_the_module_writes_the_schemas_columns_and_events_checks_it() -> None:
    """The columns the module can write are the schema's (events.py would refuse it otherwise), and it was
    configured with them: nothing of the row's shape is left to the C source alone."""
    module = pytest.importorskip("transform_lambda._hotpath")
    assert sorted(module.COLUMNS) == sorted(schema.COLUMN_NAMES)
    assert events_module.refusal(module) is None and events_module.COMPILED_REFUSED is None


def test_the_compiled_row_takes_its_column_order_from_configure(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given the schema's names in another order, the compiled path writes that order, the same values: the
    order in the rows is the schema's, not the C source's."""
    module = pytest.importorskip("transform_lambda._hotpath")
    record = _record(ACCEPTED[0] % UUID.encode())
    answer = _compiled(record, monkeypatch)
    assert answer is not None
    row = json.loads(base64.b64decode(answer[0]))
    assert list(row) == list(schema.COLUMN_NAMES)
    reordered = tuple(reversed(schema.COLUMN_NAMES))
    module.configure(schema.MIN_CREATED_AT, schema.MAX_CREATED_AT, reordered)
    try:
        again = module.first_arrival(record, events_module.NAME_PARTS, events_module.PARTITION_METADATA, 0)
    finally:
        module.configure(schema.MIN_CREATED_AT, schema.MAX_CREATED_AT, schema.COLUMN_NAMES)
    assert again is not None
    text = base64.b64decode(again[0])
    assert text == orjson.dumps({name: row[name] for name in reordered}, option=orjson.OPT_APPEND_NEWLINE)
    assert (
        module.first_arrival(record, events_module.NAME_PARTS, events_module.PARTITION_METADATA, 0) == answer
    )


@pytest.mark.parametrize(
    ("columns", "why"),
    [
        (schema.COLUMN_NAMES[:-1], "column names"),
        ((*schema.COLUMN_NAMES[:-1], "source_region"), "not one this module writes"),
        ((*schema.COLUMN_NAMES[:-1], schema.COLUMN_NAMES[0]), "named twice"),
        (list(schema.COLUMN_NAMES), "as a tuple"),
        ((*schema.COLUMN_NAMES[:-1], 7), "not a str"),
    ],
)
def test_configure_refuses_columns_it_cannot_write(columns: Any, why: str) -> None:
    """A schema with a column the module does not write, or without one it writes, is refused whole (events.py
    then uses the Python paths), and the configuration in force stays."""
    module = pytest.importorskip("transform_lambda._hotpath")
    with pytest.raises(ValueError, match=why):
        module.configure(schema.MIN_CREATED_AT, schema.MAX_CREATED_AT, columns)
    record = _record(ACCEPTED[0] % UUID.encode())
    answer = module.first_arrival(record, events_module.NAME_PARTS, events_module.PARTITION_METADATA, 0)
    assert answer is None or list(json.loads(base64.b64decode(answer[0]))) == list(schema.COLUMN_NAMES)


class _OtherSchema:
    """A build of the module for another schema: one column more than glue.schema's."""

    COLUMNS = (*schema.COLUMN_NAMES, "source_region")

    def configure(self, *args: Any) -> None:
        pytest.fail("a module whose columns differ is not configured")


class _Refusing:
    COLUMNS = schema.COLUMN_NAMES

    def configure(self, *args: Any) -> None:
        raise ValueError("configure(): column 'payload' is not one this module writes")


def test_events_refuses_a_module_built_for_another_schema() -> None:
    assert "not glue.schema's" in (events_module.refusal(_OtherSchema()) or "")
    assert "refused glue.schema" in (events_module.refusal(_Refusing()) or "")
    assert "not glue.schema's" in (events_module.refusal(object()) or "")  # a build from before COLUMNS


def test_each_batch_line_says_whether_the_compiled_path_ran(monkeypatch: pytest.MonkeyPatch) -> None:
    """An operator's one look at the logs: without the module the rows are the same, the CPU is not."""
    event = bench.batches(50, seed=5)[0]

    def summary() -> dict[str, Any]:
        logs: list[dict[str, Any]] = []
        process(event, claims=_Remembering(), log=logs.append)
        (line,) = [entry for entry in logs if entry["message"] == "batch processed"]
        return line

    assert summary()["compiled_path"] is True
    monkeypatch.setattr(events_module, "hot_first_arrival", None)
    assert summary()["compiled_path"] is False


# ---- the sanitizer lane's run (tools/sanitize/run): many cheap examples, under ASan and UBSan ------------

LANE_EXAMPLES = int(os.environ.get("HOTPATH_LANE_EXAMPLES", "0"))
LANE_LAST_INPUT = os.environ.get("HOTPATH_LAST_INPUT")  # each input written here first: a crash's reproducer
# What producers and broken producers put into JSON: every number notation, escapes, UTF-8 and its breakage,
# nesting past the limit, duplicate keys, structure tokens.
TOKENS = [
    *b"1e-05 1.5e-7 -0 -0.0 0e0 1E+400 5e-324 1e9 123.4560e2 0.30000000000000004".split(),
    *b"18446744073709551615 18446744073709551616 -9223372036854775809 1764072000123456789".split(),
    b"1.00000000000000000000001",
    b'"\\ud800"',
    b'"\\ud83d\\udc4d"',
    b'"\\u00E9\\/"',
    "é😀".encode(),
    b"\xff",
    b"\xed\xa0\x80",
    b"[" * 70,
    b"]" * 3,
    b'"k":1,"k":2',
    b'"event_uuid":"3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b",',
    *(b'{} [] , : " \\ null true . 9999999999999999999999'.split()),
    b" ",
]


@functools.cache
def _lane_seeds() -> list[bytes]:
    """The producer corpora and the demo's samples, their names and partitions known to the Python paths."""
    seeds = [raw for name in corpora.CORPORA for raw in corpora.generate(name, 20, seed=9)]
    seeds += [base64.b64decode(r["data"]) for e in bench.batches(120, seed=9) for r in e["records"]]
    compiled, events_module.hot_first_arrival = events_module.hot_first_arrival, None
    try:
        for raw in seeds:
            for _ in range(2):
                with contextlib.suppress(Exception):
                    first_arrival(_record(raw))
    finally:
        events_module.hot_first_arrival = compiled
    return seeds


def _edited(seeds: list[bytes], plan: bytes) -> bytes:
    """A seed edited as ``plan`` says: its first two bytes pick the seed, each next four an edit (where, how
    many bytes to cut, and a token or, past the tokens, the plan's next two bytes). One binary draw is the
    cheapest example Hypothesis makes: the lane's hundred thousand fit in its time."""
    raw = bytearray(seeds[int.from_bytes(plan[:2], "big") % len(seeds)])
    for at in range(2, len(plan) - 3, 4):
        where = plan[at] * 256 + plan[at + 1]
        where = where * len(raw) // 65536
        cut, choice = plan[at + 2] % 9, plan[at + 3]
        raw[where : where + cut] = TOKENS[choice] if choice < len(TOKENS) else plan[at : at + choice % 3]
    return bytes(raw)


@pytest.mark.slow
@pytest.mark.skipif(not LANE_EXAMPLES, reason="the sanitizer lane's run: tools/sanitize/run sets its size")
@seed(int(os.environ.get("HOTPATH_LANE_SHARD", "0")))
@given(st.binary(min_size=2, max_size=26), st.booleans())
@settings(
    max_examples=max(LANE_EXAMPLES, 1),
    derandomize=False,  # each shard its own seed (CI's profile derandomizes: every shard would repeat one)
    database=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
def test_the_lane_holds_the_compiled_path_to_the_python_paths(plan: bytes, unmarked: bool) -> None:
    """Producers' records, edited with what producers get wrong: whatever the compiled path writes is the
    Python paths' bytes; no input makes it read or write out of bounds (the lane's sanitizers)."""
    raw = _edited(_lane_seeds(), plan)
    record = _record(raw)
    if LANE_LAST_INPUT:
        Path(LANE_LAST_INPUT).write_bytes(raw)
    assert hot is not None
    answer = hot(record, events_module.NAME_PARTS, events_module.PARTITION_METADATA, unmarked << 1)
    if answer is not None:
        assert answer[:3] == _general(record, unmarked), raw
