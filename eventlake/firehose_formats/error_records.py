"""Firehose's error-output records: the JSON lines it writes under the error prefix, and a reader for them.

Writers follow what real AWS writes (epoch-ms integers, key order and spelling of the captures); the reader
is lenient because the docs disagree with the captures: the Lambda page shows string values and spells the
ARN key ``lambdaArn`` (a 2026 capture has ``lambdaARN``), and one edition of the conversion page
capitalises ``ErrorCode``/``ErrorMessage`` where captures have ``lastErrorCode``/``lastErrorMessage``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

CATALOG_KEYS = ("catalogId", "databaseName", "tableName", "region", "versionId", "catalogArn")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def processing_failed(
    raw: bytes,
    *,
    error_code: str,
    error_message: str,
    attempts_made: int,
    arrival_ms: int,
    attempt_ending_ms: int,
    lambda_arn: str,
) -> dict[str, Any]:
    """A ``processing-failed`` record, keys in the order of a 2026 capture (``lambdaARN`` spelling)."""
    record = partitioning_failed(
        raw,
        error_code=error_code,
        error_message=error_message,
        attempts_made=attempts_made,
        arrival_ms=arrival_ms,
        attempt_ending_ms=attempt_ending_ms,
    )
    record["lambdaARN"] = lambda_arn
    return record


def format_conversion_failed(
    raw: bytes,
    *,
    error_code: str,
    error_message: str,
    attempts_made: int,
    arrival_ms: int,
    attempt_ending_ms: int,
    sequence_number: str,
    subsequence_number: int,
    catalog: Mapping[str, Any],
) -> dict[str, Any]:
    """A ``format-conversion-failed`` record in the documented shape (record-format-conversion.md).

    ``catalog`` gives ``dataCatalogTable``; its keys are written in the documented order and any of them
    may be left out (captured objects sometimes lack the last ones). An unknown key is a caller's typo.
    """
    unknown = set(catalog) - set(CATALOG_KEYS)
    if unknown:
        raise ValueError(f"unknown dataCatalogTable keys {sorted(unknown)}; expected {list(CATALOG_KEYS)}")
    return {
        "attemptsMade": attempts_made,
        "arrivalTimestamp": arrival_ms,
        "lastErrorCode": error_code,
        "lastErrorMessage": error_message,
        "attemptEndingTimestamp": attempt_ending_ms,
        "rawData": _b64(raw),
        "sequenceNumber": str(sequence_number),
        "subSequenceNumber": subsequence_number,
        "dataCatalogTable": {key: catalog[key] for key in CATALOG_KEYS if key in catalog},
    }


def partitioning_failed(
    raw: bytes,
    *,
    error_code: str,
    error_message: str,
    attempts_made: int,
    arrival_ms: int,
    attempt_ending_ms: int,
) -> dict[str, Any]:
    """A ``partitioning-failed`` record.

    AWS documents no shape for it, so this is the processing-failed shape without ``lambdaARN`` (the
    partitioning step is not the Lambda's): the fields every Firehose error record shares.
    """
    return {
        "rawData": _b64(raw),
        "errorCode": error_code,
        "errorMessage": error_message,
        "attemptsMade": attempts_made,
        "arrivalTimestamp": arrival_ms,
        "attemptEndingTimestamp": attempt_ending_ms,
    }


def to_lines(records: Iterable[Mapping[str, Any]]) -> bytes:
    """The body of an error object: one compact JSON object per line, each newline-terminated."""
    return b"".join(
        json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"
        for record in records
    )


@dataclass(frozen=True)
class ErrorRecord:
    """One error line, whichever shape wrote it."""

    raw: bytes
    error_code: str
    error_message: str
    attempts_made: int
    arrival_ms: int | None
    attempt_ending_ms: int | None = None
    lambda_arn: str | None = None
    sequence_number: str | None = None
    subsequence_number: int | None = None
    data_catalog_table: dict[str, Any] | None = None


def read_error_line(line: bytes | str) -> ErrorRecord:
    """Parse one error line of any shape: processing, conversion or partitioning failure.

    Keys are matched case-insensitively (``lambdaARN``/``lambdaArn``, ``ErrorCode``); ``errorCode`` and
    ``lastErrorCode`` are the same field; numbers may be JSON numbers or strings, as the docs show them.
    """
    try:
        value = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"not an error record: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError("not an error record: a JSON object is expected")
    fields = {str(key).lower(): item for key, item in value.items()}

    def first(*names: str) -> Any:
        return next((fields[n] for n in names if fields.get(n) is not None), None)

    raw_data = first("rawdata")
    if not isinstance(raw_data, str):
        raise ValueError("error record has no rawData")
    try:
        raw = base64.b64decode(raw_data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"rawData is not base64: {exc}") from None
    attempts = _int(first("attemptsmade"), "attemptsMade")
    catalog = first("datacatalogtable")
    return ErrorRecord(
        raw=raw,
        error_code=str(first("errorcode", "lasterrorcode") or ""),
        error_message=str(first("errormessage", "lasterrormessage") or ""),
        attempts_made=attempts if attempts is not None else 0,
        arrival_ms=_int(first("arrivaltimestamp"), "arrivalTimestamp"),
        attempt_ending_ms=_int(first("attemptendingtimestamp"), "attemptEndingTimestamp"),
        lambda_arn=_str(first("lambdaarn")),
        sequence_number=_str(first("sequencenumber")),
        subsequence_number=_int(first("subsequencenumber"), "subSequenceNumber"),
        data_catalog_table=dict(catalog) if isinstance(catalog, dict) else None,
    )


def _int(value: Any, name: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"{name} is not a number: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise ValueError(f"{name} is not a whole number: {value!r}")


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
