"""AWS's apply-time rules for what this program registers, checked before any ``pulumi up``.

Each checker reads a resource's inputs as the Pulumi engine receives them (camelCase keys,
numbers as floats, provider defaults absent) and returns the violations; empty means valid.
The limits come from ``aws_contract.limits``, each with the AWS page that documents it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aws_contract import limits
from glue import partition_query, schema
from glue.errors import ErrorOutputType
from infra.settings import LAMBDA_ARCHITECTURE

# pulumi-aws sends the API's defaults when the buffering hints are unset (BufferingHints: 5 MiB, 300 s), and
# Lambda's own default timeout applies when none is set.
DEFAULT_BUFFERING_SIZE_MIB = limits.BUFFERING_SIZE_DEFAULT_MIB
DEFAULT_BUFFERING_INTERVAL_S = limits.BUFFERING_INTERVAL_DEFAULT_S
DEFAULT_LAMBDA_TIMEOUT_S = limits.LAMBDA_DEFAULT_TIMEOUT_S

PROCESSOR_DEFAULTS = {
    "BufferSizeInMBs": limits.PROCESSOR_BUFFER_DEFAULT_MB,
    "BufferIntervalInSeconds": float(limits.PROCESSOR_INTERVAL_DEFAULT_S),
    "NumberOfRetries": float(limits.PROCESSOR_RETRIES_DEFAULT),
}
ERROR_TYPE = "!{firehose:error-output-type}"
LAMBDA_KEY = re.compile(r"!\{partitionKeyFromLambda:([^}]*)\}")
QUERY_KEY = re.compile(r"!\{partitionKeyFromQuery:([^}]*)\}")
EXPRESSION = re.compile(r"!\{([^:}]+):([^}]*)\}")
# Longest value each expression can take: partition values are capped by the Lambda's validation of the
# event type (``schema.PARTITION_VALUE_MAX_CHARS``), ``firehose:`` values by the longest error-output type
# or the random string.
LONGEST_VALUE = {
    "partitionKeyFromLambda": schema.PARTITION_VALUE_MAX_CHARS,
    "partitionKeyFromQuery": schema.PARTITION_VALUE_MAX_CHARS,
    "firehose": max(limits.RANDOM_STRING_CHARS, *(len(t.value) for t in ErrorOutputType)),
}
REQUIRED_SCHEMA_FIELDS = ("databaseName", "tableName", "roleArn")

LAMBDA_ARCHITECTURES = [LAMBDA_ARCHITECTURE]

Inputs = Mapping[str, Any]


def _block(inputs: Inputs, key: str) -> Inputs:
    value = inputs.get(key)
    return value if isinstance(value, Mapping) else {}


def _enabled(block: Inputs) -> bool:
    """A configured block with ``enabled`` unset is on (the provider's default)."""
    return bool(block) and block.get("enabled", True) is not False


def _lambda_processors(s3: Inputs) -> list[dict[str, str]]:
    processing = _block(s3, "processingConfiguration")
    if not _enabled(processing):
        return []
    return [
        {p["parameterName"]: str(p["parameterValue"]) for p in proc.get("parameters") or []}
        for proc in processing.get("processors") or []
        if proc.get("type") == "Lambda"
    ]


def _query_processors(s3: Inputs) -> list[dict[str, str]]:
    """The parameters of each ``MetadataExtraction`` (JQ) processor."""
    processing = _block(s3, "processingConfiguration")
    if not _enabled(processing):
        return []
    return [
        {p["parameterName"]: str(p["parameterValue"]) for p in proc.get("parameters") or []}
        for proc in processing.get("processors") or []
        if proc.get("type") == partition_query.METADATA_EXTRACTION
    ]


def _query_problems(params: Mapping[str, str], keys: list[str]) -> list[str]:
    """Firehose's JQ: jq 1.6 only, a query naming every key of the prefix, values within the API's length."""
    problems = []
    engine = params.get(partition_query.ENGINE_PARAMETER)
    if engine != partition_query.JSON_PARSING_ENGINE:
        problems.append(f"MetadataExtraction JsonParsingEngine must be {partition_query.JSON_PARSING_ENGINE}")
    query = params.get(partition_query.QUERY_PARAMETER, "")
    if not query.strip():
        problems.append("MetadataExtraction processor has no MetadataExtractionQuery")
    missing = [k for k in keys if f"{k}:" not in query]
    if missing:
        problems.append(f"MetadataExtractionQuery does not produce the prefix's keys {missing}")
    for name, value in params.items():
        if len(value) > limits.PROCESSOR_PARAMETER_VALUE_MAX_CHARS:
            problems.append(
                f"processor parameter {name} is longer than {limits.PROCESSOR_PARAMETER_VALUE_MAX_CHARS}"
            )
    return problems


def check_firehose(inputs: Inputs) -> list[str]:
    """Violations of Firehose's rules for an ``extended_s3`` stream with partitioning and Parquet."""
    s3 = _block(inputs, "extendedS3Configuration")
    if not s3:
        return ["extendedS3Configuration is missing"]
    problems: list[str] = []
    size = float(s3.get("bufferingSize", DEFAULT_BUFFERING_SIZE_MIB))
    interval = float(s3.get("bufferingInterval", DEFAULT_BUFFERING_INTERVAL_S))
    prefix = str(s3.get("prefix") or "")
    error_prefix = s3.get("errorOutputPrefix")
    partitioning = _block(s3, "dynamicPartitioningConfiguration")
    conversion = _block(s3, "dataFormatConversionConfiguration")
    processors = _lambda_processors(s3)

    if _enabled(partitioning):
        if size < limits.PARTITIONED_MIN_BUFFER_MIB:
            problems.append(
                f"dynamic partitioning needs buffering_size >= {limits.PARTITIONED_MIN_BUFFER_MIB} MiB"
            )
        if interval < limits.PARTITIONED_MIN_INTERVAL_S:
            problems.append(
                f"dynamic partitioning needs buffering_interval >= {limits.PARTITIONED_MIN_INTERVAL_S} s"
            )
        if "!{partitionKeyFrom" not in prefix:
            problems.append("dynamic partitioning needs a partitionKeyFrom* expression in prefix")
        retry = float(partitioning.get("retryDuration", limits.PARTITIONING_RETRY_DEFAULT_S))
        low, high = limits.PARTITIONING_RETRY_S_RANGE
        if not low <= retry <= high:
            problems.append(f"retry_duration must be within {low}-{high} s")
    elif "partitionKeyFrom" in prefix:
        problems.append("partitionKeyFrom* in prefix needs dynamic partitioning")

    if _enabled(conversion):
        if size < limits.CONVERSION_MIN_BUFFER_MIB:
            problems.append(
                f"format conversion needs buffering_size >= {limits.CONVERSION_MIN_BUFFER_MIB} MiB"
            )
        if s3.get("compressionFormat", "UNCOMPRESSED") != "UNCOMPRESSED":
            problems.append("format conversion needs S3 compression_format UNCOMPRESSED")
        serializer = _block(_block(conversion, "outputFormatConfiguration"), "serializer")
        compression = _block(serializer, "parquetSerDe").get("compression", "SNAPPY")
        if compression not in limits.PARQUET_COMPRESSIONS:
            problems.append(
                f"serializer compression {compression} not in {sorted(limits.PARQUET_COMPRESSIONS)}"
            )
        schema_config = _block(conversion, "schemaConfiguration")
        missing = [f for f in REQUIRED_SCHEMA_FIELDS if not schema_config.get(f)]
        if missing:
            problems.append(f"format conversion schema_configuration lacks {missing}")

    if not error_prefix:
        problems.append("error_output_prefix is required")
    else:
        if "!{" in error_prefix and ERROR_TYPE not in error_prefix:
            problems.append(f"error_output_prefix with expressions must contain {ERROR_TYPE}")
        if "partitionKeyFrom" in error_prefix:
            problems.append("error_output_prefix must not contain partitionKeyFrom*")
        if "!{timestamp:" not in error_prefix:
            problems.append(
                "error_output_prefix needs an explicit !{timestamp:...} (else AWS appends its own)"
            )
    if "error-output-type" in prefix:
        problems.append("prefix must not contain error-output-type")
    for name, template in (("prefix", prefix), ("error_output_prefix", error_prefix or "")):
        if longest_evaluation(template) > limits.EVALUATED_PREFIX_MAX_CHARS:
            problems.append(
                f"{name} can evaluate to more than {limits.EVALUATED_PREFIX_MAX_CHARS} characters"
            )
    problems.extend(_source_problems(_block(inputs, "kinesisSourceConfiguration")))
    problems.extend(_backup_problems(s3))

    lambda_keys = LAMBDA_KEY.findall(prefix)
    if lambda_keys and not processors:
        problems.append("partitionKeyFromLambda needs a Lambda processor")
    if lambda_keys and tuple(lambda_keys) != schema.PARTITION_KEY_NAMES:
        problems.append(f"prefix partition keys {lambda_keys} != Lambda's {list(schema.PARTITION_KEY_NAMES)}")

    for params in processors:
        problems.extend(_processor_problems(params))

    query_keys = QUERY_KEY.findall(prefix)
    queries = _query_processors(s3)
    if query_keys and not queries:
        problems.append("partitionKeyFromQuery needs a MetadataExtraction processor")
    if query_keys and tuple(query_keys) != schema.PARTITION_KEY_NAMES:
        problems.append(f"prefix partition keys {query_keys} != {list(schema.PARTITION_KEY_NAMES)}")
    for params in queries:
        problems.extend(_query_problems(params, query_keys))
    return problems


def longest_evaluation(template: str) -> int:
    """An upper bound on the evaluated prefix's length: literals plus each expression's longest value
    (a timestamp pattern evaluates to at most its own length, less quotes)."""
    total = len(EXPRESSION.sub("", template))
    for namespace, argument in EXPRESSION.findall(template):
        if namespace == "timestamp":
            total += len(argument.replace("'", ""))
        else:
            total += LONGEST_VALUE.get(namespace, len(argument))
    return total


def _source_problems(source: Inputs) -> list[str]:
    """The stream reads Kinesis; it needs the stream and a role to read it with."""
    return [
        f"kinesis_source_configuration lacks {field}"
        for field in ("kinesisStreamArn", "roleArn")
        if not source.get(field)
    ]


def _backup_problems(s3: Inputs) -> list[str]:
    """The raw-source backup is a plain S3 destination: timestamps only, errors split by type."""
    if s3.get("s3BackupMode", "Disabled") != "Enabled":
        return []
    backup = _block(s3, "s3BackupConfiguration")
    if not backup:
        return ["s3_backup_mode Enabled needs s3_backup_configuration"]
    problems = []
    backup_prefix = str(backup.get("prefix") or "")
    backup_errors = str(backup.get("errorOutputPrefix") or "")
    if "partitionKeyFrom" in backup_prefix + backup_errors:
        problems.append("backup prefixes must not contain partitionKeyFrom*")
    if "!{" in backup_errors and ERROR_TYPE not in backup_errors:
        problems.append(f"backup error_output_prefix with expressions must contain {ERROR_TYPE}")
    data_root = _literal_root(str(s3.get("prefix") or ""))
    if data_root and backup_prefix.startswith(data_root):
        problems.append("backup prefix must not sit under the data prefix (Athena would read raw files)")
    return problems


def _literal_root(template: str) -> str:
    """The fixed folder a template starts with: ``events/`` for ``events/event_type=!{...}/``."""
    head = template.split("!{", 1)[0]
    return head[: head.rfind("/") + 1]


def _processor_problems(params: Mapping[str, str]) -> list[str]:
    problems = []
    if "LambdaArn" not in params:
        problems.append("Lambda processor has no LambdaArn")
    for name, default in PROCESSOR_DEFAULTS.items():
        if name in params and float(params[name]) == default:
            problems.append(f"processor parameter {name} equals its default {default:g} (perpetual diff)")
    if "BufferSizeInMBs" in params:
        low, high = limits.PROCESSOR_BUFFER_MB_RANGE
        if not low <= float(params["BufferSizeInMBs"]) <= high:
            problems.append(f"processor BufferSizeInMBs must be within {low:g}-{high:g}")
    if "BufferIntervalInSeconds" in params:
        low, high = limits.PROCESSOR_INTERVAL_S_RANGE
        if not low <= float(params["BufferIntervalInSeconds"]) <= high:
            problems.append(f"processor BufferIntervalInSeconds must be within {low}-{high}")
    return problems


def check_catalog_table(inputs: Inputs) -> list[str]:
    """The Glue table must declare exactly the schema the Lambda writes, in Glue's lower case."""
    problems: list[str] = []
    columns = [
        (c.get("name"), c.get("type")) for c in _block(inputs, "storageDescriptor").get("columns") or []
    ]
    partitions = [(c.get("name"), c.get("type")) for c in inputs.get("partitionKeys") or []]
    if columns != [(c.name, c.type) for c in schema.COLUMNS]:
        problems.append("table columns differ from schema.COLUMNS")
    if partitions != [(c.name, c.type) for c in schema.PARTITION_KEYS]:
        problems.append("table partition keys differ from schema.PARTITION_KEYS")
    repeated = {n for n, _ in columns} & {n for n, _ in partitions}
    if repeated:
        problems.append(f"columns repeated as partition keys: {sorted(repeated)}")
    names = [inputs.get("name"), inputs.get("databaseName"), *(n for n, _ in columns + partitions)]
    upper = [n for n in names if isinstance(n, str) and n != n.lower()]
    if upper:
        problems.append(f"names must be lower case (Glue lowercases them): {upper}")
    return problems


def check_lambda(inputs: Inputs) -> list[str]:
    """The processor must fit Firehose's 5-minute invocation and run a supported Python on arm64."""
    problems: list[str] = []
    timeout = float(inputs.get("timeout", DEFAULT_LAMBDA_TIMEOUT_S))
    if timeout > limits.FIREHOSE_MAX_INVOCATION_S:
        problems.append(
            f"Lambda timeout {timeout:g} s exceeds Firehose's {limits.FIREHOSE_MAX_INVOCATION_S} s"
        )
    if inputs.get("runtime") not in limits.LAMBDA_PYTHON_RUNTIMES:
        problems.append(
            f"Lambda runtime {inputs.get('runtime')} not in {list(limits.LAMBDA_PYTHON_RUNTIMES)}"
        )
    if list(inputs.get("architectures") or []) != LAMBDA_ARCHITECTURES:
        problems.append(f"Lambda architectures must be {LAMBDA_ARCHITECTURES}")
    return problems
