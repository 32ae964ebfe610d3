"""The partition keys as Firehose's own JQ computes them, for stacks that run without the transform Lambda
(``processor: jq``): the same layout as ``schema.partition_values``, written once for the deployed
``MetadataExtraction`` processor and for the local model, which evaluates it with a real jq.

Firehose supports jq 1.6 only ("Currently, we only support jq 1.6 version",
https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning-partitioning-keys.html). Every function
used here exists in jq 1.6 (``type``, ``split/1``, ``test``, ``error/1``, ``floor``, ``strftime``; each
``if`` has its ``else``, which 1.6 requires): AWS's own example is ``.event_timestamp|strftime("%Y")``, and
``strftime`` of a number is the UTC broken-down time. ``created_at`` may carry a fraction: ``floor`` first,
so the hour is the hour the instant falls in. ``test`` is anchored with ``\\A`` and ``\\z`` (Oniguruma's
``$`` would also match before a final newline).

The query refuses what the Lambda would refuse as a partition value (not a string, an unsafe event type,
a time outside the accepted window) with ``error``: a record whose query fails, or that is not JSON, is
not delivered as data. Firehose sends it to the error output prefix ("If Firehose is not able to parse data
records ... or it fails to extract the specified partitioning keys ... these data records are delivered to
the S3 error bucket prefix", https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning-error-handling.html),
with its original bytes in ``rawData``. AWS names neither the error-output type nor the code: this project
expects ``partitioning-failed`` and ``ErrorCode.METADATA_EXTRACTION_FAILED`` [unverified]; readers match on
the prefix, not the code.
"""

from __future__ import annotations

import json

from glue import schema

# The ``JsonParsingEngine`` processor parameter: the only value AWS accepts.
JSON_PARSING_ENGINE = "JQ-1.6"
# Processor type and parameter names, as the Firehose API spells them (API_Processor, API_ProcessorParameter).
METADATA_EXTRACTION = "MetadataExtraction"
QUERY_PARAMETER = "MetadataExtractionQuery"
ENGINE_PARAMETER = "JsonParsingEngine"

# Data objects in this mode hold the records exactly as sent (JSON Lines: the producer contract ends every
# record with one newline), compressed by Firehose.
OUTPUT_COMPRESSION = "GZIP"
OUTPUT_EXTENSION = ".json.gz"

# The same folders as the Lambda mode's, with the keys taken from the query instead of the Lambda.
DATA_PREFIX = schema.DATA_ROOT + "".join(
    f"{name}=!{{partitionKeyFromQuery:{name}}}/" for name in schema.PARTITION_KEY_NAMES
)


def _string(text: str) -> str:
    """A jq string literal (jq's string syntax is JSON's)."""
    return json.dumps(text)


# The Lambda's rule for an event type (it becomes an S3 path segment), anchored for Oniguruma.
_TYPE_REGEX = "\\A(?:" + schema.EVENT_TYPE_PATTERN + ")\\z"
_EVENT_TYPE = (
    '.event_name | if type == "string" then split(":") | .[0] else null end'
    f' | if type == "string" and test({_string(_TYPE_REGEX)})'
    ' then . else error("event_name must be a string whose first part is a safe event type") end'
)
_EVENT_SECOND = (
    f'.created_at | if type == "number" and . >= {schema.MIN_CREATED_AT} and . < {schema.MAX_CREATED_AT}'
    ' then floor else error("created_at must be Unix seconds within 2000-01-01..2100-01-01") end'
)

# Partition key -> jq expression, in the layout's order.
KEY_EXPRESSIONS: dict[str, str] = {
    "event_type": _EVENT_TYPE,
    "event_date": f'{_EVENT_SECOND} | strftime("%Y-%m-%d")',
    "event_hour": f'{_EVENT_SECOND} | strftime("%H")',
}
assert tuple(KEY_EXPRESSIONS) == schema.PARTITION_KEY_NAMES

# The ``MetadataExtractionQuery``: one jq object whose keys are the partition keys (AWS's console and CDK
# build the same shape from a key -> expression map). Each value is parenthesised, so a pipe inside it
# cannot be misread.
QUERY = "{" + ",".join(f"{key}:({expression})" for key, expression in KEY_EXPRESSIONS.items()) + "}"

# The table over these objects (the stack's ``events`` table in jq mode): one string column holding each line,
# i.e. each record exactly as sent, read as plain text (GZIP by extension). JSON text never holds a raw U+0001
# (control characters must be escaped), so LazySimpleSerDe's default field delimiter never splits a record,
# and nothing is lost: Athena reads any field with ``json_extract_scalar(record, '$.path')``; the views in
# ``glue/sql_jq`` derive what the Lambda would have added.
TEXT_INPUT_FORMAT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
TEXT_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
TABLE_PARAMETERS: dict[str, str] = {"classification": "json", "EXTERNAL": "TRUE"}
RECORD_COLUMN = schema.Column("record", "string", "The record exactly as sent (one JSON object)")
COLUMNS: tuple[schema.Column, ...] = (RECORD_COLUMN,)
# The unique-events view of this mode: what can be computed from the record, then the partition keys.
VIEW_COLUMNS: tuple[schema.Column, ...] = (
    schema.Column("event_uuid", "string", "Producer-assigned id"),
    schema.Column("event_name", "string", "Full name"),
    schema.Column("event_subtype", "string", "Second part of event_name, null when there is none"),
    schema.Column("created_at", "double", "Event time, Unix seconds, as sent"),
    schema.Column("created_datetime", "timestamp", "Event time in UTC"),
    RECORD_COLUMN,
)
