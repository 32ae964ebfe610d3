"""One error vocabulary for the Lambda, the local Firehose model, the alarms and the docs."""

from __future__ import annotations

from enum import StrEnum


class Reject(StrEnum):
    """Why the transform returned a record as ``ProcessingFailed``."""

    BAD_BASE64 = "bad_base64"
    INVALID_UTF8 = "invalid_utf8"
    NOT_JSON = "not_json"
    NOT_OBJECT = "not_object"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    BAD_EVENT_UUID = "bad_event_uuid"
    # 00000000-0000-0000-0000-000000000000: a producer that never fills the id would have every event after
    # its first marked a duplicate.
    NIL_EVENT_UUID = "nil_event_uuid"
    BAD_EVENT_NAME = "bad_event_name"
    UNSAFE_EVENT_TYPE = "unsafe_event_type"
    TIMESTAMP_OUT_OF_RANGE = "timestamp_out_of_range"
    # An input nobody foresaw made the code raise: that record fails, the batch goes on.
    UNPROCESSABLE = "unprocessable"


class ErrorOutputType(StrEnum):
    """Values Firehose substitutes for ``!{firehose:error-output-type}``."""

    PROCESSING_FAILED = "processing-failed"
    FORMAT_CONVERSION_FAILED = "format-conversion-failed"
    PARTITIONING_FAILED = "partitioning-failed"
    # Records beyond the active-partition limit (500 by default). The guide names this error prefix in
    # parentheses after "the specified S3 error bucket prefix"; [unverified] that it is substituted
    # for !{firehose:error-output-type} exactly like the three above.
    ACTIVE_PARTITION_EXCEEDED = "activePartitionExceeded"


class ErrorCode(StrEnum):
    """``errorCode`` / ``lastErrorCode`` values Firehose writes into error records."""

    FUNCTION_ERROR = "Lambda.FunctionError"
    PROCESSING_FAILED_STATUS = "Lambda.ProcessingFailedStatus"
    MISSING_RECORD_ID = "Lambda.MissingRecordId"
    DUPLICATED_RECORD_ID = "Lambda.DuplicatedRecordId"
    JSON_PROCESSING = "Lambda.JsonProcessingException"
    MALFORMED_DATA = "DataFormatConversion.MalformedData"
    PARSE_ERROR = "DataFormatConversion.ParseError"
    MISSING_PARTITION_KEY = "DynamicPartitioning.MissingPartitionKey"
    ACTIVE_PARTITION_LIMIT_EXCEEDED = "DynamicPartitioning.ActivePartitionLimitExceeded"  # [unverified]
    # The JQ partitioning query failed, or the record is not JSON (processor: jq). AWS documents that such
    # records go to the error prefix, not the code they carry: [unverified].
    METADATA_EXTRACTION_FAILED = "DynamicPartitioning.MetadataExtractionFailed"


class Result(StrEnum):
    """Per-record results of Firehose's data-transformation contract."""

    OK = "Ok"
    DROPPED = "Dropped"
    PROCESSING_FAILED = "ProcessingFailed"


class LogMessage(StrEnum):
    """The ``message`` of the Lambda's structured log lines: what the local runner and tests read back, and
    what a CloudWatch Logs Insights query or metric filter matches."""

    RECORD_REJECTED = "record rejected"
    BATCH_PROCESSED = "batch processed"
    DEDUPE_UNCHECKED = "dedupe store unavailable"
    REJECTED_BY_REASON = "records rejected by reason"


# The Lambda's own metrics, published with CloudWatch's embedded metric format in its log lines
# (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
# the alarms and the dashboard read these names, the local runner reads them back from the log.
METRIC_NAMESPACE = "EventLake"
DIMENSION_FUNCTION = "FunctionName"
DIMENSION_REASON = "Reason"


class Metric(StrEnum):
    """Counts per batch, dimension ``FunctionName``; ``RecordsRejectedByReason`` also has ``Reason``."""

    RECORDS = "Records"
    RECORDS_OK = "RecordsOk"
    RECORDS_REJECTED = "RecordsRejected"
    RECORDS_REJECTED_BY_REASON = "RecordsRejectedByReason"
    DUPLICATES = "Duplicates"
    REUSED_IDS = "ReusedIds"
    NOT_CHECKED = "NotChecked"


# An AWS error message is kept to this many characters in a log line.
CAUSE_MESSAGE_CHARS = 300


def error_cause(exc: BaseException) -> dict[str, str]:
    """What a failure log line says about its cause: AWS's error code and message from a botocore
    ``ClientError`` (``response["Error"]``), else the exception's type and text, and always the exception's
    type. Without it an operator cannot tell throttling from AccessDenied from a bad table name."""
    response = getattr(exc, "response", None)
    error = response.get("Error") if isinstance(response, dict) else None
    if isinstance(error, dict) and error.get("Code"):
        code, message = str(error["Code"]), str(error.get("Message") or "")
    else:
        code, message = type(exc).__name__, str(exc)
    return {
        "error_code": code,
        "error_message": message[:CAUSE_MESSAGE_CHARS],
        "error_type": type(exc).__name__,
    }
