"""Firehose error-output records: the shapes we write and a reader for every shape AWS shows."""

from __future__ import annotations

import base64
import json

import pytest

from eventlake.firehose_formats.error_records import (
    ErrorRecord,
    format_conversion_failed,
    partitioning_failed,
    processing_failed,
    read_error_line,
    to_lines,
)
from glue.errors import ErrorCode

RAW = b'{"event_uuid":"x"}\n\xff'  # error records must carry any bytes, even invalid UTF-8
ARN = "arn:aws:lambda:eu-west-1:123456789012:function:eventlake-dev-transform:$LATEST"
CATALOG = {
    "catalogId": "123456789012",
    "databaseName": "eventlake",
    "tableName": "events",
    "region": "eu-west-1",
    "versionId": "0",
    "catalogArn": "arn:aws:glue:eu-west-1:123456789012:catalog",
}


def test_processing_failed_follows_the_2026_capture() -> None:
    record = processing_failed(
        RAW,
        error_code=ErrorCode.FUNCTION_ERROR,
        error_message="The Lambda function was successfully invoked but it returned an error result.",
        attempts_made=4,
        arrival_ms=1_764_072_001_000,
        attempt_ending_ms=1_764_072_061_000,
        lambda_arn=ARN,
    )
    assert list(record) == [
        "rawData", "errorCode", "errorMessage", "attemptsMade", "arrivalTimestamp", "attemptEndingTimestamp",
        "lambdaARN",
    ]  # fmt: skip
    assert base64.b64decode(record["rawData"]) == RAW
    assert record["errorCode"] == "Lambda.FunctionError" and record["attemptsMade"] == 4
    assert isinstance(record["arrivalTimestamp"], int)


def test_format_conversion_failed_has_the_documented_shape() -> None:
    record = format_conversion_failed(
        RAW,
        error_code=ErrorCode.MALFORMED_DATA,
        error_message="column 'created_at': string '12x' is not an integer",
        attempts_made=1,
        arrival_ms=1,
        attempt_ending_ms=2,
        sequence_number="49546986683135544286507457936321625675700192471156780000",
        subsequence_number=0,
        catalog=CATALOG,
    )
    assert list(record) == [
        "attemptsMade", "arrivalTimestamp", "lastErrorCode", "lastErrorMessage", "attemptEndingTimestamp",
        "rawData", "sequenceNumber", "subSequenceNumber", "dataCatalogTable",
    ]  # fmt: skip
    assert list(record["dataCatalogTable"]) == list(CATALOG)
    assert record["lastErrorCode"] == "DataFormatConversion.MalformedData"
    assert isinstance(record["sequenceNumber"], str)


def test_format_conversion_failed_catalog_may_be_partial_but_not_misspelled() -> None:
    partial = {k: CATALOG[k] for k in ("catalogId", "databaseName", "tableName", "region")}
    kwargs = dict(
        error_code="c", error_message="m", attempts_made=1, arrival_ms=1, attempt_ending_ms=1,
        sequence_number="1", subsequence_number=0,
    )  # fmt: skip
    assert format_conversion_failed(RAW, catalog=partial, **kwargs)["dataCatalogTable"] == partial
    with pytest.raises(ValueError, match="tablename"):
        format_conversion_failed(RAW, catalog={"tablename": "events"}, **kwargs)


def test_partitioning_failed_is_processing_shape_without_lambda_arn() -> None:
    record = partitioning_failed(
        RAW,
        error_code=ErrorCode.MISSING_PARTITION_KEY,
        error_message="partition key 'event_hour' missing",
        attempts_made=1,
        arrival_ms=10,
        attempt_ending_ms=20,
    )
    reference = processing_failed(
        RAW,
        error_code="x",
        error_message="y",
        attempts_made=1,
        arrival_ms=10,
        attempt_ending_ms=20,
        lambda_arn=ARN,
    )
    assert list(record) == [k for k in reference if k != "lambdaARN"]


def test_to_lines_is_compact_newline_terminated_json() -> None:
    records = [
        partitioning_failed(
            b"a", error_code="c", error_message="é", attempts_made=1, arrival_ms=1, attempt_ending_ms=2
        ),
        partitioning_failed(
            b"b", error_code="c", error_message="m", attempts_made=1, arrival_ms=1, attempt_ending_ms=2
        ),
    ]
    body = to_lines(records)
    lines = body.split(b"\n")
    assert body.endswith(b"\n") and lines[-1] == b"" and len(lines) == 3
    assert b": " not in body and b", " not in body
    assert [json.loads(line) for line in lines[:2]] == records
    assert to_lines([]) == b""


def test_reader_round_trips_every_shape_we_write() -> None:
    common = dict(error_message="m", attempts_made=3, arrival_ms=1000, attempt_ending_ms=2000)
    lines = to_lines(
        [
            processing_failed(RAW, error_code="Lambda.FunctionError", lambda_arn=ARN, **common),
            format_conversion_failed(
                RAW,
                error_code="DataFormatConversion.ParseError",
                sequence_number="42",
                subsequence_number=1,
                catalog=CATALOG,
                **common,
            ),
            partitioning_failed(RAW, error_code="DynamicPartitioning.MissingPartitionKey", **common),
        ]
    ).splitlines()
    processing, conversion, partitioning = (read_error_line(line) for line in lines)
    assert processing == ErrorRecord(RAW, "Lambda.FunctionError", "m", 3, 1000, 2000, lambda_arn=ARN)
    assert conversion == ErrorRecord(
        RAW, "DataFormatConversion.ParseError", "m", 3, 1000, 2000,
        sequence_number="42", subsequence_number=1, data_catalog_table=CATALOG,
    )  # fmt: skip
    assert partitioning == ErrorRecord(RAW, "DynamicPartitioning.MissingPartitionKey", "m", 3, 1000, 2000)


def test_reader_accepts_the_docs_shape_with_strings_and_lambda_arn() -> None:
    # The Lambda page's sample: string values, "lambdaArn".
    line = json.dumps(
        {
            "attemptsMade": "4",
            "arrivalTimestamp": "1575020067711",
            "errorCode": "Lambda.MissingRecordId",
            "errorMessage": "One or more record Ids were not returned.",
            "attemptEndingTimestamp": "1575020129986",
            "rawData": base64.b64encode(b"hello").decode(),
            "lambdaArn": "arn:aws:lambda:eu-west-1:1:function:f",
        }
    )
    got = read_error_line(line)
    assert got.raw == b"hello" and got.attempts_made == 4 and got.arrival_ms == 1_575_020_067_711
    assert (
        got.error_code == "Lambda.MissingRecordId"
        and got.lambda_arn == "arn:aws:lambda:eu-west-1:1:function:f"
    )


def test_reader_accepts_capitalised_conversion_keys_and_missing_fields() -> None:
    line = json.dumps({"attemptsMade": 1, "ErrorCode": "X", "ErrorMessage": "Y", "rawData": ""}).encode()
    got = read_error_line(line)
    assert (got.raw, got.error_code, got.error_message, got.arrival_ms, got.lambda_arn) == (
        b"",
        "X",
        "Y",
        None,
        None,
    )


@pytest.mark.parametrize(
    "line",
    ["not json", "[]", '{"errorCode":"x"}', '{"rawData":"***"}', '{"rawData":"", "attemptsMade":"two"}'],
)
def test_reader_rejects_what_is_not_an_error_record(line: str) -> None:
    with pytest.raises(ValueError):
        read_error_line(line)
