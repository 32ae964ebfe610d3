"""Firehose's record format conversion: OpenX JSON SerDe in, Parquet SerDe out, schema from the Glue table.

Firehose deserializes each (transformed) record with the OpenX JSON SerDe against the Glue table's data
columns, then writes Parquet (https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion.html).
What is modelled, and why:

- Keys are matched case-insensitively (``case_insensitive`` defaults to true: keys are lower-cased).
- Fields not in the schema are silently dropped; missing or ``null`` fields become NULL.
- A record may hold several concatenated JSON objects (newline optional): each becomes a row with the
  record's index. A record that is not JSON, is empty, is a JSON array or another non-object, or repeats a
  key (OpenX's ``JSONException: Duplicate key``, also after lower-casing) fails as a whole with
  ``DataFormatConversion.ParseError``.
- A value that does not fit its column fails the record with ``DataFormatConversion.MalformedData``.
  Per OpenX's object inspectors: strings are parsed for numeric columns (``Long.parseLong``, ``0x`` hex
  too) and for booleans (``Boolean.parseBoolean``: anything but "true", any case, is false); a JSON number
  with a fraction or exponent is a Java ``Double`` and does not fit ``bigint``/``int``; numbers do not fit
  ``boolean``. A string column takes any value as its text: numbers and booleans as Java prints them and
  nested objects or arrays as their compact JSON text (the guide contrasts this with the Hive SerDe, which
  "doesn't convert nested JSON into strings").
- Timestamps only in the forms the guide lists: ``yyyy-MM-dd'T'HH:mm:ss[.S]'Z'`` and
  ``yyyy-[M]M-[d]d HH:mm:ss[.S]`` (up to 9 fraction digits), epoch seconds (integer, or with a fraction,
  truncated to ms like OpenX's ``(long)(d * 1000)``) and epoch milliseconds (13 digits or more, OpenX's
  rule), as JSON numbers or numeric strings. Anything else, an ISO offset like ``+00:00`` included, is
  ``MalformedData``.

Not modelled: ``column_to_json_key_mappings`` and ``convert_dots_in_json_keys_to_underscores`` (this
project sets neither), and org.json's exact printing of nested objects (key order, ``<\\/`` escaping).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from aws_contract import limits
from glue import schema
from glue.errors import ErrorCode

TIMESTAMP_UNIT = "ms"
COMPRESSIONS = {"UNCOMPRESSED": "NONE", "GZIP": "GZIP", "SNAPPY": "SNAPPY"}  # Firehose name -> Parquet codec
WRITER_VERSIONS = {"V1": "1.0", "V2": "2.0"}  # Firehose writer_version -> Parquet data page version

_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "bigint": pa.int64(),
    "int": pa.int32(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp(TIMESTAMP_UNIT),
}


def arrow_schema() -> pa.Schema:
    """The Glue data columns as Arrow types (partition keys live in the path, never in the file).

    Timestamps are ``timestamp("ms")`` without a time zone: Glue's ``timestamp`` is zoneless, Athena's
    TIMESTAMP is millisecond precision (it rounds finer values when reading), and the Lambda emits
    milliseconds. On disk :func:`to_parquet` writes them as INT96, as Firehose's Hive Parquet serializer
    does, which holds them exactly.
    """
    return pa.schema([pa.field(c.name, _ARROW_TYPES[c.type], nullable=True) for c in schema.COLUMNS])


@dataclass(frozen=True)
class ConversionFailure:
    """One input record Firehose would send to ``format-conversion-failed``."""

    index: int
    code: str
    message: str


class _Malformed(ValueError):
    pass


class _ParseError(ValueError):
    pass


def convert(records: Sequence[bytes]) -> tuple[pa.Table, list[int], list[ConversionFailure]]:
    """Convert transformed records to rows of :func:`arrow_schema`.

    Returns the table of the rows that converted (in input order), the input index of each row (a record
    with several concatenated objects gives several rows) and the records that failed, whole.
    """
    names = [c.name for c in schema.COLUMNS]
    converters = [_CONVERTERS[c.type] for c in schema.COLUMNS]
    columns: list[list[Any]] = [[] for _ in names]
    indexes: list[int] = []
    failures: list[ConversionFailure] = []
    for index, record in enumerate(records):
        try:
            rows = [_row(obj, names, converters) for obj in _objects(record)]
        except _ParseError as exc:
            failures.append(ConversionFailure(index, ErrorCode.PARSE_ERROR.value, str(exc)))
            continue
        except _Malformed as exc:
            failures.append(ConversionFailure(index, ErrorCode.MALFORMED_DATA.value, str(exc)))
            continue
        for row in rows:
            for column, value in zip(columns, row, strict=True):
                column.append(value)
            indexes.append(index)
    target = arrow_schema()
    arrays = [_array(column, field.type) for column, field in zip(columns, target, strict=True)]
    return pa.Table.from_arrays(arrays, schema=target), indexes, failures


def _array(values: list[Any], kind: pa.DataType) -> pa.Array:
    try:
        return pa.array(values, type=kind)
    except (pa.ArrowException, UnicodeEncodeError):
        if kind != pa.string():
            raise
        # Lone surrogates ("\ud800" escapes) are valid JSON but not UTF-8; Java's encoder writes '?'.
        fixed = [v if v is None else v.encode("utf-8", "replace").decode("utf-8") for v in values]
        return pa.array(fixed, type=kind)


# --- parsing ----------------------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise _ParseError(f"{name} is not valid JSON")


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _ParseError(f"Duplicate key {key!r}")
            seen.add(key)
    return obj


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, object_pairs_hook=_unique_pairs)
_WHITESPACE = re.compile(r"[ \t\n\r]*")


def _objects(record: bytes) -> list[dict[str, Any]]:
    try:
        text = record.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _ParseError(f"invalid UTF-8 at byte {exc.start}") from None
    objects: list[dict[str, Any]] = []
    position = _WHITESPACE.match(text, 0).end()  # type: ignore[union-attr]
    end = len(text)
    while position < end:
        try:
            value, position = _DECODER.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise _ParseError(f"not JSON: {exc.msg} at char {exc.pos}") from None
        except RecursionError:
            raise _ParseError("JSON nested too deeply") from None
        if not isinstance(value, dict):
            raise _ParseError(f"a record must hold JSON objects, found {_kind(value)}")
        objects.append(value)
        position = _WHITESPACE.match(text, position).end()  # type: ignore[union-attr]
    if not objects:
        raise _ParseError("empty record: no JSON object")
    return objects


def _row(obj: dict[str, Any], names: list[str], converters: list[Callable[[Any], Any]]) -> list[Any]:
    lowered = {key.lower(): value for key, value in obj.items()}
    if len(lowered) != len(obj):
        raise _ParseError("Duplicate key once keys are lower-cased (OpenX case_insensitive)")
    row: list[Any] = []
    for name, convert_value in zip(names, converters, strict=True):
        value = lowered.get(name)
        if value is None:
            row.append(None)
            continue
        try:
            row.append(convert_value(value))
        except _Malformed as exc:
            raise _Malformed(f"column {name!r}: {exc}") from None
    return row


def _kind(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )


# --- per-type conversion (OpenX object inspectors) --------------------------------------------------------

_INT64 = (-(2**63), 2**63 - 1)
_INT32 = (-(2**31), 2**31 - 1)
_JAVA_LONG = re.compile(r"[+-]?[0-9]+")
_JAVA_HEX = re.compile(r"[+-]?[0-9a-fA-F]+")
_JAVA_DOUBLE = re.compile(r"[+-]?(?:NaN|Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)[fFdD]?")


def _to_string(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return value
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        return java_double_str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _integer(bounds: tuple[int, int]) -> Callable[[Any], int]:
    low, high = bounds

    def convert_value(value: Any) -> int:
        kind = type(value)
        if kind is int:
            number = value
        elif kind is str:
            number = _parse_java_integer(value)
        else:
            raise _Malformed(f"{_kind(value)} {_short(value)} is not an integer")
        if not low <= number <= high:
            raise _Malformed(f"{number} is out of range")
        return number

    return convert_value


def _parse_java_integer(text: str) -> int:
    if text[:2] in ("0x", "0X") and _JAVA_HEX.fullmatch(text[2:]):
        return int(text[2:], 16)
    if _JAVA_LONG.fullmatch(text):
        return int(text)
    raise _Malformed(f"string {_short(text)} is not an integer")


def _to_double(value: Any) -> float:
    kind = type(value)
    if kind is float or kind is int:
        return float(value)
    if kind is str:
        text = value.strip()
        if _JAVA_DOUBLE.fullmatch(text):
            return float(text.rstrip("fFdD").replace("Infinity", "inf"))
    raise _Malformed(f"{_kind(value)} {_short(value)} is not a double")


def _to_boolean(value: Any) -> bool:
    if type(value) is bool:
        return value
    if type(value) is str:
        return value.lower() == "true"
    raise _Malformed(f"{_kind(value)} {_short(value)} is not a boolean")


_ISO_Z = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?Z")
_SQL_TS = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?"
)
_EPOCH_INT = re.compile(r"-?[0-9]+")
_EPOCH_FLOAT = re.compile(r"-?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_EPOCH = datetime(1970, 1, 1)
_MS_RANGE = (
    int((datetime(1, 1, 1) - _EPOCH).total_seconds()) * 1000,
    int((datetime(9999, 12, 31, 23, 59, 59, 999000) - _EPOCH).total_seconds() * 1000),
)
_ONE_MS = datetime(1970, 1, 1, 0, 0, 0, 1000) - _EPOCH
_MS_PER_EPOCH_DIGITS = 13  # OpenX: an integer of 13+ characters ("1454612111000") is milliseconds


def _to_timestamp_ms(value: Any) -> int:
    """Epoch milliseconds (UTC) of a value in one of the forms OpenX accepts."""
    kind = type(value)
    if kind is str:
        millis = _parse_timestamp_text(value)
    elif kind is int:
        millis = _epoch_integer(str(value))
    elif kind is float:
        millis = int(value * 1000)
    else:
        raise _Malformed(f"{_kind(value)} {_short(value)} is not a timestamp")
    if not _MS_RANGE[0] <= millis <= _MS_RANGE[1]:
        raise _Malformed(f"timestamp {_short(value)} is out of range")
    return millis


def _parse_timestamp_text(text: str) -> int:
    match = _ISO_Z.fullmatch(text) or _SQL_TS.fullmatch(text)
    if match:
        year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
        try:
            moment = datetime(year, month, day, hour, minute, second)
        except ValueError as exc:
            raise _Malformed(f"timestamp {_short(text)}: {exc}") from None
        fraction = match.group(7) or ""
        nanos = int(fraction.ljust(9, "0")) if fraction else 0
        whole_ms = (moment - _EPOCH) // _ONE_MS
        return whole_ms + (nanos + 500_000) // 1_000_000  # Athena reads finer precision rounded to ms
    if _EPOCH_INT.fullmatch(text):
        return _epoch_integer(text)
    if _EPOCH_FLOAT.fullmatch(text):
        return int(float(text) * 1000)
    raise _Malformed(f"timestamp {_short(text)} is not in a format OpenX parses")


def _epoch_integer(text: str) -> int:
    number = int(text)
    return number if len(text) >= _MS_PER_EPOCH_DIGITS else number * 1000


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "string": _to_string,
    "bigint": _integer(_INT64),
    "int": _integer(_INT32),
    "double": _to_double,
    "boolean": _to_boolean,
    "timestamp": _to_timestamp_ms,
}


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def java_double_str(value: float) -> str:
    """``Double.toString``: plain between 1e-3 and 1e7, else ``d.dddE±n``, shortest round-trip digits."""
    if value == 0:
        return "-0.0" if str(value).startswith("-") else "0.0"
    if 1e-3 <= abs(value) < 1e7:
        return repr(value)
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    text = "".join(map(str, digits))
    power = int(exponent) + len(text) - 1
    mantissa = text[0] + "." + (text[1:] or "0")
    return f"{'-' if sign else ''}{mantissa}E{power}"


# --- writing ---------------------------------------------------------------------------------------------


def to_parquet(
    table: pa.Table,
    *,
    compression: str,
    writer_version: str = "V1",
    page_size_bytes: int = limits.PARQUET_DEFAULT_PAGE_SIZE_BYTES,
    int96_timestamps: bool = True,
) -> bytes:
    """One Parquet object, as Firehose's Parquet serializer writes it.

    ``compression`` is Firehose's name (``UNCOMPRESSED | GZIP | SNAPPY``; no ZSTD). Timestamps go out as
    INT96 by default, the Hive Parquet writer's encoding that Firehose output is known for; DuckDB, Athena
    and pyarrow all read it back as a timestamp.
    """
    try:
        codec = COMPRESSIONS[compression]
    except KeyError:
        raise ValueError(f"compression must be one of {sorted(COMPRESSIONS)}, got {compression!r}") from None
    try:
        page_version = WRITER_VERSIONS[writer_version]
    except KeyError:
        raise ValueError(f"writer_version must be V1 or V2, got {writer_version!r}") from None
    sink = io.BytesIO()
    pq.write_table(
        table,
        sink,
        compression=codec,
        data_page_version=page_version,
        data_page_size=page_size_bytes,
        use_deprecated_int96_timestamps=int96_timestamps,
    )
    return sink.getvalue()


def read_parquet(data: bytes) -> pa.Table:
    """Read an object written by :func:`to_parquet` back with :func:`arrow_schema`'s types (INT96 -> ms)."""
    # One file: ParquetFile reads it without pq.read_table's dataset set-up (half the time per object).
    table = pq.ParquetFile(io.BytesIO(data), coerce_int96_timestamp_unit=TIMESTAMP_UNIT).read()
    schema = arrow_schema()
    return table.cast(schema) if table.schema.names == schema.names else table
