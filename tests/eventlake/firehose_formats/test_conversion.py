"""JSON -> Parquet as Firehose's OpenX JSON SerDe and Parquet serializer would do it."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.format_conversion import lambda_row  # the bench's rows: one shape for both
from eventlake.firehose_formats.conversion import (
    ConversionFailure,
    arrow_schema,
    convert,
    java_double_str,
    read_parquet,
    to_parquet,
)
from glue import schema
from glue.errors import ErrorCode
from transform_lambda.events import Event, Lineage, dumps, enrich

MALFORMED = ErrorCode.MALFORMED_DATA.value
PARSE = ErrorCode.PARSE_ERROR.value


def one(record: dict[str, Any] | bytes) -> dict[str, Any]:
    data = record if isinstance(record, bytes) else json.dumps(record).encode()
    table, indexes, failures = convert([data])
    assert failures == [] and indexes == [0]
    return table.to_pylist()[0]


def failure(record: dict[str, Any] | bytes) -> ConversionFailure:
    data = record if isinstance(record, bytes) else json.dumps(record).encode()
    table, indexes, failures = convert([data])
    assert table.num_rows == 0 and indexes == [] and len(failures) == 1
    return failures[0]


def test_arrow_schema_is_the_glue_data_columns() -> None:
    got = arrow_schema()
    assert got.names == list(schema.COLUMN_NAMES)
    assert not set(got.names) & set(schema.PARTITION_KEY_NAMES)
    assert got.field("created_at").type == pa.int64()
    assert got.field("is_duplicate").type == pa.bool_()
    for name in schema.TIMESTAMP_COLUMNS:
        assert got.field(name).type == pa.timestamp("ms")  # zoneless, like Glue's timestamp


def test_keys_are_case_insensitive_and_unknown_fields_dropped_missing_null() -> None:
    row = one({"EVENT_UUID": "u", "Event_Name": "a:b", "not_a_column": 1, "event_type": "payment"})
    assert row["event_uuid"] == "u" and row["event_name"] == "a:b"
    assert row["created_at"] is None and row["payload"] is None
    assert set(row) == set(schema.COLUMN_NAMES)


def test_records_keep_order_and_report_input_indexes() -> None:
    records = [
        b'{"event_uuid":"a"}\n',
        b"oops",
        b'{"event_uuid":"b"}',
        b'{"event_uuid":"c"}{"event_uuid":"d"}',
    ]
    table, indexes, failures = convert(records)
    assert table.column("event_uuid").to_pylist() == ["a", "b", "c", "d"]
    assert indexes == [0, 2, 3, 3]  # concatenated objects in one record become rows of that record
    assert failures == [ConversionFailure(1, PARSE, failures[0].message)]


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"",
        b"  \n",
        b"[]",
        b'[{"event_uuid":"a"}]',
        b'"text"',
        b"42",
        b"null",
        b'{"a":1',
        b'{"a":NaN}',
        b'{"a":1}[2]',
        b'{"x":1,"x":2}',
        b'{"Url":1,"url":2}',
        b"\xff{}",
    ],
)
def test_parse_errors(data: bytes) -> None:
    assert failure(data).code == PARSE


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("created_at", "12x"),
        ("created_at", 1.5),
        ("created_at", 1.0),  # a JSON number with a fraction is a Java Double, not a long
        ("created_at", True),
        ("created_at", {"a": 1}),
        ("created_at", 2**63),
        ("is_duplicate", 1),
        ("is_duplicate", {"a": 1}),
        ("created_datetime", "2026-11-25T13:00:00+00:00"),  # offsets are not parsed (field report)
        ("created_datetime", "2026-11-25T13:00:00"),
        ("created_datetime", "2026-11-25T13:00:00.1234567890Z"),
        ("created_datetime", "2026-13-25T13:00:00Z"),
        ("created_datetime", "25/11/2026"),
        ("created_datetime", True),
        ("created_datetime", [1]),
    ],
)
def test_values_that_do_not_fit_their_column_are_malformed(field: str, value: Any) -> None:
    got = failure({field: value})
    assert got.code == MALFORMED and field in got.message


def test_one_bad_object_fails_its_whole_record() -> None:
    assert failure(b'{"event_uuid":"a"}{"created_at":"x"}').code == MALFORMED


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2017-02-07T15:13:01.39256Z", datetime(2017, 2, 7, 15, 13, 1, 393000)),  # the guide's examples
        ("2017-02-07 15:13:01.14", datetime(2017, 2, 7, 15, 13, 1, 140000)),
        (1518033528, datetime(2018, 2, 7, 19, 58, 48)),
        (1518033528123, datetime(2018, 2, 7, 19, 58, 48, 123000)),
        (1518033528.123, datetime(2018, 2, 7, 19, 58, 48, 123000)),
        ("1518033528", datetime(2018, 2, 7, 19, 58, 48)),
        ("1518033528123", datetime(2018, 2, 7, 19, 58, 48, 123000)),
        ("1518033528.5", datetime(2018, 2, 7, 19, 58, 48, 500000)),
        ("2026-11-25T13:00:00Z", datetime(2026, 11, 25, 13)),
        ("2026-11-25T13:00:00.123Z", datetime(2026, 11, 25, 13, 0, 0, 123000)),
        ("2026-11-25T13:00:00.123456789Z", datetime(2026, 11, 25, 13, 0, 0, 123000)),
        ("2026-1-5 01:02:03", datetime(2026, 1, 5, 1, 2, 3)),
        ("2026-12-31T23:59:59.9999Z", datetime(2027, 1, 1)),  # Athena reads ms, rounding finer digits
    ],
)
def test_timestamp_forms_openx_parses(value: Any, expected: datetime) -> None:
    assert one({"created_datetime": value})["created_datetime"] == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            {"b": 1, "a": [1, "x"]},
            '{"b":1,"a":[1,"x"]}',
        ),  # nested JSON becomes its text (OpenX, not Hive SerDe)
        ([1, 2], "[1,2]"),
        (12, "12"),
        (1.5, "1.5"),
        (1e20, "1.0E20"),
        (True, "true"),
        ("é ✓", "é ✓"),
        ("\ud800", "?"),  # a lone surrogate escape is valid JSON, not UTF-8; Java writes '?'
    ],
)
def test_string_columns_take_any_value_as_text(value: Any, expected: str) -> None:
    assert one({"payload": value})["payload"] == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("123", 123), ("-5", -5), ("+7", 7), ("0x1F", 31), (2**63 - 1, 2**63 - 1)],
)
def test_bigint_accepts_java_long_strings(value: Any, expected: int) -> None:
    assert one({"created_at": value})["created_at"] == expected


@pytest.mark.parametrize(
    ("value", "expected"), [(True, True), ("TRUE", True), ("false", False), ("yes", False)]
)
def test_boolean_follows_java_parse_boolean(value: Any, expected: bool) -> None:
    assert one({"is_duplicate": value})["is_duplicate"] is expected


def test_java_double_str() -> None:
    assert [java_double_str(v) for v in (0.0, 100.0, 1e7, 1.234e-5, -2.5e-4, 123456.789)] == [
        "0.0",
        "100.0",
        "1.0E7",
        "1.234E-5",
        "-2.5E-4",
        "123456.789",
    ]


def test_empty_input_gives_an_empty_table_with_the_schema() -> None:
    table, indexes, failures = convert([])
    assert table.num_rows == 0 and table.schema == arrow_schema() and indexes == [] and failures == []


@pytest.mark.parametrize(
    ("name", "codec"), [("UNCOMPRESSED", "UNCOMPRESSED"), ("GZIP", "GZIP"), ("SNAPPY", "SNAPPY")]
)
def test_to_parquet_compression_and_int96_timestamps(name: str, codec: str) -> None:
    table, _, _ = convert([b'{"event_uuid":"a","created_datetime":"2026-11-25T13:00:00.123Z"}'])
    data = to_parquet(table, compression=name)
    meta = pq.ParquetFile(io.BytesIO(data))
    assert meta.metadata.row_group(0).column(0).compression == codec
    assert meta.schema.column(schema.COLUMN_NAMES.index("created_datetime")).physical_type == "INT96"
    assert read_parquet(data).equals(table)


def test_to_parquet_rejects_what_firehose_does_not_offer() -> None:
    table, _, _ = convert([])
    with pytest.raises(ValueError, match="ZSTD"):
        to_parquet(table, compression="ZSTD")
    with pytest.raises(ValueError):
        to_parquet(table, compression="SNAPPY", writer_version="V3")


def test_twenty_thousand_lambda_rows_convert_and_read_back() -> None:
    """The converter's speed is measured by ``python -m benchmarks --conversion`` (a ratio to a floor, in
    BENCHMARKS.md), not bounded here: this holds what it converts."""
    records = [lambda_row(i) for i in range(20_000)]
    table, _, failures = convert(records)
    assert not failures and table.num_rows == 20_000
    back = pq.read_table(io.BytesIO(to_parquet(table, compression="SNAPPY")))
    assert back.num_rows == 20_000 and back.column("event_uuid").to_pylist()[-1].endswith("000000019999")


# --- property: anything the Lambda emits survives convert + to_parquet + read back ------------------------

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
PAYLOADS = st.dictionaries(
    st.text(min_size=1, max_size=20),
    st.recursive(
        JSON_SCALARS,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=8,
    ),
    max_size=5,
)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    uuid=st.uuids().map(str),
    name_parts=st.lists(
        st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}", fullmatch=True), min_size=1, max_size=3
    ),
    created_at=st.floats(
        min_value=schema.MIN_CREATED_AT, max_value=schema.MAX_CREATED_AT - 1, allow_nan=False
    )
    | st.integers(schema.MIN_CREATED_AT, schema.MAX_CREATED_AT - 1),
    payload=PAYLOADS,
    shard=st.none() | st.just("shardId-000000000003"),
    sequence=st.none() | st.from_regex(r"[0-9]{56}", fullmatch=True),
    arrival_ms=st.none() | st.integers(schema.MIN_CREATED_AT * 1000, schema.MAX_CREATED_AT * 1000 - 1),
    is_duplicate=st.booleans(),
    compression=st.sampled_from(["UNCOMPRESSED", "GZIP", "SNAPPY"]),
)
def test_every_lambda_row_round_trips(
    uuid: str,
    name_parts: list[str],
    created_at: float,
    payload: dict[str, Any],
    shard: str | None,
    sequence: str | None,
    arrival_ms: int | None,
    is_duplicate: bool,
    compression: str,
) -> None:
    event = Event(
        uuid,
        ":".join(name_parts),
        name_parts[0],
        name_parts[1] if len(name_parts) > 1 else None,
        created_at,
        payload,
    )
    emitted = enrich(event, Lineage(shard, sequence, arrival_ms), is_duplicate=is_duplicate)
    record = (dumps(emitted) + "\n").encode("utf-8")

    table, indexes, failures = convert([record])
    assert failures == [] and indexes == [0]
    back = read_parquet(to_parquet(table, compression=compression)).to_pylist()
    assert len(back) == 1
    expected = {
        name: (
            datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None) if value is not None else None
        )
        if name in schema.TIMESTAMP_COLUMNS
        else value
        for name, value in emitted.items()
    }
    assert back[0] == expected
    assert json.loads(back[0]["payload"]) == json.loads(emitted["payload"])
